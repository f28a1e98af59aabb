// When the controller may create kek.key (issue #11, point 4): only while
// the database holds no sealed key. Beside one that does, a missing file is
// an error that creates nothing.
#include "storage/database_kek.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "gtest/gtest.h"
#include "storage/sqlite_store.h"
#include "storage/store_contract_test.h"

namespace ikeless::storage::store_test {
namespace {

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// A KEK path beside `db`, not there yet.
std::string KekBeside(const std::string& db) {
  std::string path = db + ".kek";
  unlink(path.c_str());
  return path;
}

// Opens `db` sealed with the KEK at `kek` (created if need be) and runs `fill`.
void Fill(const std::string& db, const std::string& kek,
          const std::function<void(SqliteStore&)>& fill) {
  absl::StatusOr<std::unique_ptr<KeySealer>> sealer =
      LoadKekForDatabase(kek, db, CryptoRandom::Get());
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  SqliteStore::Options options;
  options.sealer = sealer->get();
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(db, options);
  ASSERT_TRUE(store.ok()) << store.status();
  fill(**store);
}

void AddEstablishedRow(SqliteStore& store) {
  absl::Status s = store.Transact([](AssociationTxn& txn) {
    return txn.Insert(Establish(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"), 2, 200)).status();
  });
  ASSERT_TRUE(s.ok()) << s;
}

TEST(DatabaseKek, CreatedForANewDatabase) {
  std::string db = TempDbPath();
  std::string kek = KekBeside(db);
  absl::StatusOr<std::unique_ptr<KeySealer>> sealer =
      LoadKekForDatabase(kek, db, CryptoRandom::Get());
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  struct stat st;
  ASSERT_EQ(stat(kek.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(Exists(db)) << "deciding must not create the database";
  // And read, not replaced, at the next start.
  absl::StatusOr<std::unique_ptr<KeySealer>> again =
      LoadKekForDatabase(kek, db, CryptoRandom::Get());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->id(), (*sealer)->id());
}

TEST(DatabaseKek, MissingBesideSealedDatabaseIsRefusedAndNotCreated) {
  std::string db = TempDbPath();
  std::string kek = KekBeside(db);
  Fill(db, kek, AddEstablishedRow);
  ASSERT_TRUE(Exists(kek));
  ASSERT_EQ(unlink(kek.c_str()), 0);  // lost

  for (int attempt = 0; attempt < 2; ++attempt) {  // a second start is no different
    absl::StatusOr<std::unique_ptr<KeySealer>> sealer =
        LoadKekForDatabase(kek, db, CryptoRandom::Get());
    ASSERT_FALSE(sealer.ok());
    EXPECT_EQ(sealer.status().code(), absl::StatusCode::kFailedPrecondition) << sealer.status();
    absl::string_view m = sealer.status().message();
    EXPECT_NE(m.find(absl::StrCat(kek, " is missing")), absl::string_view::npos) << m;
    EXPECT_NE(m.find(db), absl::string_view::npos) << m;
    EXPECT_NE(m.find("restore"), absl::string_view::npos) << m;
    EXPECT_EQ(m.find('\n'), absl::string_view::npos) << m;
    EXPECT_FALSE(Exists(kek)) << "a new kek.key was written beside the sealed database";
  }
}

TEST(DatabaseKek, CreatedBesideADatabaseWithoutKeys) {
  std::string db = TempDbPath();
  std::string kek = KekBeside(db);
  // Policies and half-open rows only: nothing sealed yet.
  Fill(db, kek, [](SqliteStore& store) {
    ASSERT_TRUE(store.CreatePolicy(MakePolicy("pair", "198.18.0.1", "198.18.0.2")).ok());
    ASSERT_TRUE(store
                    .Transact([](AssociationTxn& txn) {
                      return txn.Insert(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2")).status();
                    })
                    .ok());
  });
  ASSERT_EQ(unlink(kek.c_str()), 0);
  absl::StatusOr<bool> holds = DatabaseHoldsKeys(db);
  ASSERT_TRUE(holds.ok()) << holds.status();
  EXPECT_FALSE(*holds);
  EXPECT_TRUE(LoadKekForDatabase(kek, db, CryptoRandom::Get()).ok());
  EXPECT_TRUE(Exists(kek));
}

TEST(DatabaseKek, ForeignDatabaseCreatesNothing) {
  std::string db = TempDbPath();
  std::string kek = KekBeside(db);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "CREATE TABLE notes (body TEXT)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  absl::StatusOr<std::unique_ptr<KeySealer>> sealer =
      LoadKekForDatabase(kek, db, CryptoRandom::Get());
  EXPECT_EQ(sealer.status().code(), absl::StatusCode::kFailedPrecondition) << sealer.status();
  EXPECT_NE(sealer.status().message().find("not an ikeless database"), absl::string_view::npos)
      << sealer.status();
  EXPECT_FALSE(Exists(kek));
}

}  // namespace
}  // namespace ikeless::storage::store_test
