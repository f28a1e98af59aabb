// Start-up checks of the SQLite store (issue #11, point 4): a damaged page,
// a file that is not ours, an older build's file, and a full volume each
// end in one clear status, never in silence or in SQL text.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/sqlite_schema.h"
#include "storage/sqlite_store.h"
#include "storage/store_contract_test.h"

namespace ikeless::storage::store_test {
namespace {

// Runs `sql` through a connection of its own, as another program would;
// returns the first column of the first row ("" if none).
std::string Raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string out;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = sql.c_str();
  while (*tail != '\0') {
    EXPECT_EQ(sqlite3_prepare_v2(db, tail, -1, &stmt, &tail), SQLITE_OK) << sqlite3_errmsg(db);
    if (stmt == nullptr) break;
    int rc = sqlite3_step(stmt);
    EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
    if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

void ExpectNoSql(const absl::Status& s) {
  for (const char* word : {"SELECT", "INSERT", "UPDATE", "DELETE", "PRAGMA", "CREATE"}) {
    EXPECT_EQ(s.message().find(word), absl::string_view::npos) << word << " in: " << s;
  }
}

TEST(SqliteStartup, DamagedPageIsRefusedAtOpen) {
  std::string path = TempDbPath();
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->CreatePolicy(MakePolicy("pair", "198.18.0.1", "198.18.0.2")).ok());
    absl::Status s = (*store)->Transact([](AssociationTxn& txn) {
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<uint64_t> id =
            txn.Insert(HalfOpen(absl::StrCat("198.18.1.", i), 1, 100 + i, "198.18.0.2"));
        if (!id.ok()) return id.status();
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }
  // Closed cleanly: the last connection moved the WAL into the file.
  ASSERT_FALSE(Exists(path + "-wal"));
  // An index page: nothing that opening reads (schema_version, policies),
  // so before the check the store opened and served as if all was well.
  const int64_t page = std::stoll(
      Raw(path, "SELECT rootpage FROM sqlite_master WHERE name = 'associations_by_expire'"));
  const int64_t page_size = std::stoll(Raw(path, "PRAGMA page_size"));
  ASSERT_GT(page, 1);
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp((page - 1) * page_size);
    std::string garbage(static_cast<size_t>(page_size), '\xAB');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    ASSERT_TRUE(f.good());
  }
  absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
  EXPECT_NE(s.status().message().find(path), absl::string_view::npos) << s.status();
  EXPECT_NE(s.status().message().find("backup"), absl::string_view::npos) << s.status();
  EXPECT_EQ(s.status().message().find('\n'), absl::string_view::npos) << s.status();
  ExpectNoSql(s.status());
}

TEST(SqliteStartup, ForeignSqliteFileIsRefusedAndLeftUnchanged) {
  std::string path = TempDbPath();
  Raw(path, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('not yours');");
  const std::string before = ReadFile(path);
  absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_NE(s.status().message().find(absl::StrCat(path, " is not an ikeless database")),
            absl::string_view::npos)
      << s.status();
  EXPECT_NE(s.status().message().find("notes"), absl::string_view::npos) << s.status();
  EXPECT_EQ(ReadFile(path), before) << "the foreign file was written to";
  EXPECT_FALSE(Exists(path + "-wal"));
}

TEST(SqliteStartup, OtherApplicationIdIsRefused) {
  std::string path = TempDbPath();
  Raw(path, "PRAGMA application_id = 1234; CREATE TABLE policies (x);");
  const std::string before = ReadFile(path);
  absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_NE(s.status().message().find("application_id 0x000004d2"), absl::string_view::npos)
      << s.status();
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteStartup, FileThatIsNotSqliteIsRefusedAndLeftUnchanged) {
  std::string path = TempDbPath();
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 200; ++i) out << "policy " << i << " is a line of someone's notes\n";
  }
  const std::string before = ReadFile(path);
  absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_NE(s.status().message().find("not an SQLite file"), absl::string_view::npos)
      << s.status();
  ExpectNoSql(s.status());
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteStartup, NewFileIsMarkedAsOurs) {
  std::string path = TempDbPath();
  ASSERT_TRUE(SqliteStore::Open(path).ok());
  EXPECT_EQ(Raw(path, "PRAGMA application_id"), absl::StrCat(kIkelessApplicationId));
}

// Schema versions 1-3 were written without application_id; such a file
// (here a version-1 one) is adopted, migrated and marked, its data kept.
TEST(SqliteStartup, OlderBuildsFileWithoutApplicationIdIsAdopted) {
  std::string path = TempDbPath();
  {
    absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Exec("PRAGMA journal_mode = WAL").ok());
    ASSERT_TRUE(MigrateSchema(**db, 1).ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA application_id = 0").ok());
    ASSERT_TRUE(
        (*db)->Exec("INSERT INTO agents VALUES ('rt-a', '0.9', 'xfrm', 1700000000000000)").ok());
  }
  ASSERT_EQ(Raw(path, "PRAGMA application_id"), "0");
  ASSERT_EQ(Raw(path, "SELECT MAX(version) FROM schema_version"), "1");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<AgentRecord>> agents = (*store)->ListAgents();
  ASSERT_TRUE(agents.ok() && agents->size() == 1u);
  EXPECT_EQ(agents->front().node_name, "rt-a");
  store->reset();
  EXPECT_EQ(Raw(path, "PRAGMA application_id"), absl::StrCat(kIkelessApplicationId));
  EXPECT_EQ(Raw(path, "SELECT MAX(version) FROM schema_version"),
            absl::StrCat(LatestSchemaVersion()));
}

// A full volume is simulated with max_page_count: past it SQLite fails a
// write with SQLITE_FULL, exactly as when the file system has no space left.
TEST(SqliteStartup, FullVolumeIsResourceExhaustedWithoutSql) {
  std::string path = TempDbPath();
  ASSERT_TRUE(SqliteStore::Open(path).ok());
  SqliteStore::Options options;
  options.max_database_pages = std::stoll(Raw(path, "PRAGMA page_count")) + 2;
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, options);
  ASSERT_TRUE(store.ok()) << store.status();

  // `policy add` (an autocommit write, retried once after a checkpoint).
  absl::Status full;
  int added = 0;
  for (; added < 1000 && full.ok(); ++added) {
    const std::string name = absl::StrCat(std::string(200, 'p'), added);
    full = (*store)->CreatePolicy(MakePolicy(name, "198.18.0.1", "198.18.0.2")).status();
  }
  ASSERT_FALSE(full.ok()) << "the page limit never hit";
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_NE(full.message().find("volume is full"), absl::string_view::npos) << full;
  EXPECT_NE(full.message().find(path), absl::string_view::npos) << full;
  ExpectNoSql(full);
  // The retry's checkpoint truncated the WAL, giving its space back.
  struct stat st;
  ASSERT_EQ(stat((path + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  // What was written before stays readable; the failed policy is not there.
  absl::StatusOr<std::vector<v1::Policy>> policies = (*store)->ListPolicies();
  ASSERT_TRUE(policies.ok());
  EXPECT_EQ(policies->size(), static_cast<size_t>(added - 1));

  // An association transaction: the same status, rolled back whole.
  absl::Status txn_full;
  for (int i = 0; i < 1000 && txn_full.ok(); ++i) {
    txn_full = (*store)->Transact([&](AssociationTxn& txn) {
      return txn.Insert(Establish(HalfOpen(absl::StrCat("198.18.2.", i % 250), 1, 100 + i,
                                           "198.18.0.2"),
                                  2, 200 + i))
          .status();
    });
  }
  EXPECT_EQ(txn_full.code(), absl::StatusCode::kResourceExhausted) << txn_full;
  ExpectNoSql(txn_full);
}

}  // namespace
}  // namespace ikeless::storage::store_test
