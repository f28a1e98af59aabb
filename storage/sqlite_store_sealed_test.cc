// Key material at rest: with a key-encryption key, no SA key appears in the
// database files (main, -wal, -shm) at any point, rows read back intact with
// the same key, and another key or none is refused clearly. Without a key,
// the same scan does find the keys (so it can fail), but deleted rows' keys
// are still gone from the file (secure_delete).
#include <sqlite3.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "gtest/gtest.h"
#include "storage/key_sealer.h"
#include "storage/sqlite_store.h"
#include "storage/store_contract_test.h"

namespace ikeless::storage::store_test {
namespace {

// Runs one statement on `path` through a second connection, as an attacker
// or an operator with the sqlite3 shell would.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  CryptoRandom::Get()->Fill(reinterpret_cast<uint8_t*>(s.data()), n);
  return s;
}

std::string KekPath(const std::string& db, const std::string& name) {
  std::string path = absl::StrCat(db, ".", name, ".key");
  unlink(path.c_str());
  return path;
}

std::unique_ptr<KeySealer> MustLoad(const std::string& path, bool create) {
  absl::StatusOr<std::unique_ptr<KeySealer>> s =
      KeySealer::FromKeyFile(path, create, CryptoRandom::Get());
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> OpenWith(const std::string& path,
                                                      const KeySealer* sealer) {
  SqliteStore::Options options;
  options.sealer = sealer;
  return SqliteStore::Open(path, options);
}

uint64_t MustInsert(SqliteStore& store, const AssociationRow& row) {
  uint64_t id = 0;
  absl::Status s = store.Transact([&](AssociationTxn& txn) {
    absl::StatusOr<uint64_t> r = txn.Insert(row);
    if (r.ok()) id = *r;
    return r.status();
  });
  EXPECT_TRUE(s.ok()) << s;
  return id;
}

// Writes rows with random keys: inserts, establishes, rekeys some in place
// and deletes some, as the controller does over time.
class Churn {
 public:
  static constexpr int kRows = 30;

  void Run(SqliteStore& store) {
    std::vector<AssociationRow> rows;
    for (int i = 0; i < kRows; ++i) {
      AssociationRow row = HalfOpen("198.18.0.1", 100 + i, 1000 + i, "198.18.0.2");
      row.id = MustInsert(store, row);
      ASSERT_NE(row.id, 0u);
      rows.push_back(std::move(row));
    }
    for (int i = 0; i < kRows; ++i) {
      rows[i] = Establish(rows[i], 200 + i, 2000 + i);
      NewKeys(&rows[i], i % 2 == 0 ? 16 : 32);
      Update(store, rows[i]);
    }
    for (int i = 0; i < 10; ++i) {  // rekeyed in place: the old keys must go
      Forget(rows[i]);
      NewKeys(&rows[i], 32);
      Update(store, rows[i]);
    }
    for (int i = 20; i < kRows; ++i) {
      ASSERT_TRUE(store.Transact([&](AssociationTxn& txn) { return txn.Delete(rows[i].id); }).ok());
      Forget(rows[i]);
    }
    rows.resize(20);
    live_ = std::move(rows);
  }

  // Every key ever written, and those of rows since deleted or rekeyed.
  const std::vector<std::string>& written() const { return written_; }
  const std::vector<std::string>& gone() const { return gone_; }
  const std::vector<AssociationRow>& live() const { return live_; }
  std::vector<std::string> live_keys() const {
    std::vector<std::string> keys;
    for (const AssociationRow& r : live_) {
      for (const auto* sa : {&*r.a_to_b, &*r.b_to_a}) {
        keys.push_back(sa->encryption_key());
        keys.push_back(sa->integrity_key());
      }
    }
    return keys;
  }

 private:
  // Notes the keys of `row` as no longer stored.
  void Forget(const AssociationRow& row) {
    for (const auto* sa : {&*row.a_to_b, &*row.b_to_a}) {
      gone_.push_back(sa->encryption_key());
      gone_.push_back(sa->integrity_key());
    }
  }

  void NewKeys(AssociationRow* row, size_t key_bytes) {
    for (auto* sa : {&*row->a_to_b, &*row->b_to_a}) {
      sa->set_encryption_key(RandomBytes(key_bytes));
      sa->set_integrity_key(RandomBytes(32));
      sa->set_salt(RandomBytes(4));  // too short to search for reliably
      written_.push_back(sa->encryption_key());
      written_.push_back(sa->integrity_key());
    }
  }

  static void Update(SqliteStore& store, const AssociationRow& row) {
    absl::Status s = store.Transact([&](AssociationTxn& txn) { return txn.Update(row); });
    ASSERT_TRUE(s.ok()) << s;
  }

  std::vector<std::string> written_;
  std::vector<std::string> gone_;
  std::vector<AssociationRow> live_;
};

// The database's files as they are on disk now, by suffix.
std::map<std::string, std::string> Files(const std::string& path) {
  std::map<std::string, std::string> files;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (access((path + suffix).c_str(), F_OK) == 0) files[suffix] = ReadFile(path + suffix);
  }
  return files;
}

// How many of `keys` occur in any of `files`.
int Found(const std::map<std::string, std::string>& files, const std::vector<std::string>& keys) {
  int found = 0;
  for (const std::string& key : keys) {
    for (const auto& [suffix, bytes] : files) {
      if (bytes.find(key) != std::string::npos) {
        ++found;
        break;
      }
    }
  }
  return found;
}

TEST(SqliteStoreSealed, NoKeyInTheFilesAndRowsReadBackWithTheSameKek) {
  std::string path = TempDbPath();
  std::string kek_path = KekPath(path, "kek");
  Churn churn;
  std::string id;
  {
    std::unique_ptr<KeySealer> sealer = MustLoad(kek_path, /*create=*/true);
    ASSERT_NE(sealer, nullptr);
    id = sealer->id();
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, sealer.get());
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_NO_FATAL_FAILURE(churn.Run(**store));
    ASSERT_EQ(churn.written().size(), 4u * (Churn::kRows + 10));

    // While open: the WAL holds every page written since the last checkpoint.
    std::map<std::string, std::string> files = Files(path);
    ASSERT_TRUE(files.count("-wal") && files["-wal"].size() > 4096) << "nothing to scan";
    EXPECT_EQ(Found(files, churn.written()), 0);
  }
  // Closed: checkpointed into the main file.
  std::map<std::string, std::string> files = Files(path);
  ASSERT_GT(files[""].size(), 4096u);
  EXPECT_EQ(Found(files, churn.written()), 0);

  // The same KEK, loaded anew from its file, reads every row back intact.
  std::unique_ptr<KeySealer> same = MustLoad(kek_path, /*create=*/false);
  ASSERT_NE(same, nullptr);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, same.get());
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<AssociationRow>> rows = (*store)->ListAssociations("");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), churn.live().size());
  for (size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ(Describe((*rows)[i]), Describe(churn.live()[i]));
  }
  store->reset();

  // Another KEK is refused at Open, naming both keys.
  std::unique_ptr<KeySealer> other = MustLoad(KekPath(path, "other"), /*create=*/true);
  ASSERT_NE(other, nullptr);
  absl::StatusOr<std::unique_ptr<SqliteStore>> wrong = OpenWith(path, other.get());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition) << wrong.status();
  EXPECT_NE(wrong.status().message().find("another key-encryption key (id " + id),
            absl::string_view::npos)
      << wrong.status();
  EXPECT_NE(wrong.status().message().find(other->id()), absl::string_view::npos) << wrong.status();
}

TEST(SqliteStoreSealed, WithoutAKekSealedRowsAreRefusedButPoliciesRead) {
  std::string path = TempDbPath();
  std::unique_ptr<KeySealer> sealer = MustLoad(KekPath(path, "kek"), true);
  ASSERT_NE(sealer, nullptr);
  uint64_t id = 0;
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, sealer.get());
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->CreatePolicy(MakePolicy("pair", "198.18.0.1", "198.18.0.2")).ok());
    id = MustInsert(**store, Establish(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"), 2, 200));
  }
  // A tool that reads only policies opens the store without the KEK.
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, nullptr);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->GetPolicy("pair").ok());
  absl::StatusOr<std::optional<AssociationRow>> row = (*store)->GetAssociation(id);
  EXPECT_EQ(row.status().code(), absl::StatusCode::kDataLoss) << row.status();
  EXPECT_NE(row.status().message().find("is sealed with key-encryption key " + sealer->id()),
            absl::string_view::npos)
      << row.status();
}

TEST(SqliteStoreSealed, PlaintextRowsAreRefusedWithAKek) {
  std::string path = TempDbPath();
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    MustInsert(**store, Establish(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"), 2, 200));
  }
  std::unique_ptr<KeySealer> sealer = MustLoad(KekPath(path, "kek"), true);
  ASSERT_NE(sealer, nullptr);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, sealer.get());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_NE(store.status().message().find("is not sealed"), absl::string_view::npos)
      << store.status();
}

TEST(SqliteStoreSealed, BlobMovedToAnotherColumnOrRowIsDataLoss) {
  std::string path = TempDbPath();
  std::unique_ptr<KeySealer> sealer = MustLoad(KekPath(path, "kek"), true);
  ASSERT_NE(sealer, nullptr);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, sealer.get());
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(MustInsert(
        **store, Establish(HalfOpen("198.18.0.1", 1 + i, 100 + i, "198.18.0.2"), 10 + i, 200 + i)));
  }
  for (uint64_t id : ids) ASSERT_TRUE((*store)->GetAssociation(id).ok()) << id;
  RawExec(path, absl::StrCat("UPDATE associations SET a_to_b = b_to_a WHERE id = ", ids[0]));
  RawExec(path, absl::StrCat("UPDATE associations SET b_to_a = (SELECT b_to_a FROM associations",
                             " WHERE id = ", ids[1], ") WHERE id = ", ids[2]));
  for (auto [id, column] : {std::pair{ids[0], "a_to_b"}, std::pair{ids[2], "b_to_a"}}) {
    absl::StatusOr<std::optional<AssociationRow>> row = (*store)->GetAssociation(id);
    EXPECT_EQ(row.status().code(), absl::StatusCode::kDataLoss) << row.status();
    EXPECT_NE(row.status().message().find(absl::StrCat("association ", id, ": ", column)),
              absl::string_view::npos)
        << row.status();
    EXPECT_NE(row.status().message().find("failed authentication"), absl::string_view::npos)
        << row.status();
  }
  EXPECT_TRUE((*store)->GetAssociation(ids[1]).ok());
}

// The control: the same scan finds keys when they are stored in the clear,
// so the sealed test above could fail. Even so, keys of deleted and rekeyed
// rows are gone from the closed file (secure_delete).
TEST(SqliteStoreSealed, WithoutAKekTheScanFindsLiveKeysButNotDeletedOnes) {
  std::string path = TempDbPath();
  Churn churn;
  {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = OpenWith(path, nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_NO_FATAL_FAILURE(churn.Run(**store));
    EXPECT_GT(Found(Files(path), churn.live_keys()), 0);
  }
  std::map<std::string, std::string> files = Files(path);
  EXPECT_EQ(files.count("-wal"), 0u) << "the last close should checkpoint and remove the WAL";
  EXPECT_EQ(Found(files, churn.live_keys()), static_cast<int>(churn.live_keys().size()));
  EXPECT_EQ(Found(files, churn.gone()), 0);
}

}  // namespace
}  // namespace ikeless::storage::store_test
