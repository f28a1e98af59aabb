#include "storage/database_kek.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "storage/sqlite_db.h"
#include "storage/sqlite_schema.h"

namespace ikeless::storage {

absl::StatusOr<bool> DatabaseHoldsKeys(const std::string& path) {
  if (path.empty() || path == ":memory:") return false;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    return absl::ErrnoToStatus(errno, absl::StrCat("database ", path, ": cannot stat"));
  }
  // Read-only: this runs before the file has passed SqliteStore::Open's
  // checks, and must not turn a foreign file into one of ours.
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, /*read_only=*/true);
  if (!db.ok()) return db.status();
  sqlite3_busy_timeout((*db)->raw(), 5000);  // as SqliteStore's default
  if (absl::Status s = CheckOwnership(**db, path); !s.ok()) return s;
  absl::StatusOr<SqliteStatement> table = (*db)->Prepare(
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'associations'");
  if (!table.ok()) return table.status();
  absl::StatusOr<bool> row = table->Step();
  if (!row.ok()) return row.status();
  if (!*row || table->ColumnInt64(0) == 0) return false;
  table->Reset();
  absl::StatusOr<SqliteStatement> keys = (*db)->Prepare(
      "SELECT EXISTS (SELECT 1 FROM associations"
      " WHERE a_to_b IS NOT NULL OR b_to_a IS NOT NULL)");
  if (!keys.ok()) return keys.status();
  row = keys->Step();
  if (!row.ok()) return row.status();
  return *row && keys->ColumnInt64(0) != 0;
}

absl::StatusOr<std::unique_ptr<KeySealer>> LoadKekForDatabase(const std::string& kek_path,
                                                              const std::string& database_path,
                                                              RandomSource* random) {
  struct stat st;
  // lstat: a symbolic link to nowhere (a secret volume not mounted) is not a
  // missing file; LoadKekFile says what is wrong with it.
  if (lstat(kek_path.c_str(), &st) == 0 || errno != ENOENT) {
    return KeySealer::FromKeyFile(kek_path, /*create_if_missing=*/false, random);
  }
  absl::StatusOr<bool> holds = DatabaseHoldsKeys(database_path);
  if (!holds.ok()) return holds.status();
  if (*holds) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key-encryption key file ", kek_path, " is missing, and the SA keys in database ",
        database_path, " cannot be opened without it; restore ", kek_path,
        " from a backup, or move the database (with its -wal file) away to start empty"));
  }
  return KeySealer::FromKeyFile(kek_path, /*create_if_missing=*/true, random);
}

}  // namespace ikeless::storage
