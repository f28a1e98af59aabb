// What only the SQLite backend promises beyond the shared contract: data
// outlives the process, the file is in WAL mode, and the schema is
// versioned.
#include "storage/sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/sqlite_schema.h"
#include "storage/store_contract_test.h"

namespace ikeless::storage::store_test {
namespace {

// Runs `sql` on `path` through a second connection (as an operator's sqlite3
// shell would) and returns the first column of the first row, "" if none.
std::string Raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::string out;
  int rc = sqlite3_step(stmt);
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

std::unique_ptr<SqliteStore> MustOpen(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

uint64_t Insert(SqliteStore& store, const AssociationRow& row) {
  uint64_t id = 0;
  absl::Status s = store.Transact([&](AssociationTxn& txn) {
    absl::StatusOr<uint64_t> r = txn.Insert(row);
    if (r.ok()) id = *r;
    return r.status();
  });
  EXPECT_TRUE(s.ok()) << s;
  return id;
}

TEST(SqliteStore, DataSurvivesReopen) {
  std::string path = TempDbPath();
  v1::Policy policy = MakePolicy("pair", "198.18.0.1", "198.18.0.2");
  AssociationRow row = Establish(HalfOpen("198.18.0.1", 11, 1100, "198.18.0.2"), 22, 2200);
  AgentRecord agent{"rt-a", {"198.18.0.1", "fd00::1"}, "1.0", "xfrm", T(7)};
  {
    std::unique_ptr<SqliteStore> store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    absl::StatusOr<v1::Policy> created = store->CreatePolicy(policy);
    ASSERT_TRUE(created.ok()) << created.status();
    policy = *created;
    row.id = Insert(*store, row);
    ASSERT_TRUE(store->UpsertAgent(agent).ok());
  }
  std::unique_ptr<SqliteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetPolicy("pair")->ShortDebugString(), policy.ShortDebugString());
  // Match runs on the cache, which must have been reloaded.
  absl::StatusOr<std::optional<v1::Policy>> match =
      store->MatchPolicy(*IpAddress::Parse("198.18.0.2"), *IpAddress::Parse("198.18.0.1"), Sel());
  ASSERT_TRUE(match.ok() && match->has_value());
  EXPECT_EQ((*match)->name(), "pair");
  absl::StatusOr<std::optional<AssociationRow>> got = store->GetAssociation(row.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE((*got)->a_to_b.has_value() && (*got)->b_to_a.has_value());
  EXPECT_EQ(Describe(**got), Describe(row));
  absl::StatusOr<std::vector<AgentRecord>> agents = store->ListAgents();
  ASSERT_TRUE(agents.ok() && agents->size() == 1u);
  EXPECT_EQ(Describe(agents->front()), Describe(agent));
  EXPECT_GT(Insert(*store, HalfOpen("198.18.0.1", 12, 1200, "198.18.0.2")), row.id);
}

TEST(SqliteStore, FileIsInWalMode) {
  std::string path = TempDbPath();
  std::unique_ptr<SqliteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  Insert(*store, HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"));
  EXPECT_EQ(Raw(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(access((path + "-wal").c_str(), F_OK), 0) << "no write-ahead log next to " << path;
}

TEST(SqliteStore, CommitsLeaveCheckpointsToTheBackgroundThread) {
  std::string path = TempDbPath();
  SqliteStore::Options o;
  o.checkpoint_interval = absl::Milliseconds(20);
  auto store = SqliteStore::Open(path, o);
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 50; ++i) {
    Insert(**store, Establish(HalfOpen(absl::StrCat("198.18.1.", i), 11, 1100, "198.18.9.9"), 22, 2200));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  WalCheckpointer::Stats st;
  do {
    absl::SleepFor(absl::Milliseconds(20));
    st = (*store)->checkpoint_stats();
  } while ((st.last_frames_in_wal == 0 || st.last_frames_copied < st.last_frames_in_wal) &&
           absl::Now() < deadline);
  EXPECT_GT(st.checkpoints, 0);
  EXPECT_GT(st.last_frames_in_wal, 0) << "the commits went to the WAL";
  EXPECT_EQ(st.last_frames_copied, st.last_frames_in_wal) << "and from there into the database";
  EXPECT_EQ(st.errors, 0);

  SqliteStore::Options off;
  off.checkpoint_interval = absl::ZeroDuration();
  std::string other = path + "-auto.db";
  auto plain = SqliteStore::Open(other, off);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->checkpoint_stats().checkpoints, 0);
}

TEST(SqliteStore, RefusesNewerSchema) {
  std::string path = TempDbPath();
  MustOpen(path).reset();
  int newer = LatestSchemaVersion() + 1;
  Raw(path,
      absl::StrCat("INSERT INTO schema_version (version, applied_at) VALUES (", newer, ", 0)"));
  absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_NE(s.status().message().find("newer"), absl::string_view::npos) << s.status();
}

TEST(SqliteStore, MigrationsAreAppliedOnce) {
  std::string path = TempDbPath();
  {
    std::unique_ptr<SqliteStore> store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreatePolicy(MakePolicy("mesh", "*", "*")).ok());
  }
  for (int i = 0; i < 2; ++i) MustOpen(path).reset();
  std::string latest = absl::StrCat(LatestSchemaVersion());
  EXPECT_EQ(Raw(path, "SELECT COUNT(*) FROM schema_version"), latest);
  EXPECT_EQ(Raw(path, "SELECT MAX(version) FROM schema_version"), latest);
  EXPECT_EQ(Raw(path, "SELECT COUNT(*) FROM policies"), "1");
}

TEST(SqliteStore, CommitsCountsOnlyCommittedTransactions) {
  std::unique_ptr<SqliteStore> store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->commits(), 0);
  Insert(*store, HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"));
  EXPECT_EQ(store->commits(), 1);
  EXPECT_FALSE(store->Transact([](AssociationTxn&) { return absl::InternalError("no"); }).ok());
  EXPECT_EQ(store->commits(), 1);
}

TEST(SqliteStore, UnreadableKeyBlobIsDataLoss) {
  std::string path = TempDbPath();
  std::unique_ptr<SqliteStore> store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  uint64_t id = Insert(*store, Establish(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"), 2, 200));
  Raw(path, absl::StrCat("UPDATE associations SET a_to_b = X'FF' WHERE id = ", id));
  EXPECT_EQ(store->GetAssociation(id).status().code(), absl::StatusCode::kDataLoss);
}

TEST(SqliteStore, OpenFailsClearlyOnUnusablePath) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> s =
      SqliteStore::Open("/nonexistent-dir/for/sure/ikeless.db");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent-dir"), absl::string_view::npos) << s.status();
}

}  // namespace
}  // namespace ikeless::storage::store_test
