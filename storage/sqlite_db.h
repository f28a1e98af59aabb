#ifndef IKELESS_STORAGE_SQLITE_DB_H_
#define IKELESS_STORAGE_SQLITE_DB_H_

// A thin layer over one SQLite connection (C API) that speaks absl::Status
// and caches prepared statements: every SA setup runs a handful of
// statements, and preparing them anew each time would cost more than running
// them. Not thread-safe; the owner serialises access (SqliteStore holds a
// mutex around every use).

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ikeless::storage {

// The status for SQLite result code `rc` after doing `what` on `db`, with
// SQLite's message. BUSY/LOCKED become UNAVAILABLE (retryable), corruption
// DATA_LOSS (naming the file and the fix), a full volume RESOURCE_EXHAUSTED
// (see IsDatabaseFull), everything else INTERNAL. These statuses reach gRPC
// callers, so `what` names the operation, never SQL text: statements are
// logged instead (they hold no values, all of which are bound).
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

// Whether `s` came from SQLITE_FULL (the volume, or the page limit, is
// full). Marked by a payload: callers also return RESOURCE_EXHAUSTED for
// their own limits.
bool IsDatabaseFull(const absl::Status& s);

// Moves the WAL into the database file and truncates it to zero bytes
// (PRAGMA wal_checkpoint(TRUNCATE)): the WAL can hold megabytes that a full
// volume needs back. `db` must have no open transaction. Logs the outcome.
void TruncateWalAfterFull(sqlite3* db);

// One use of a cached prepared statement. Bind, Step, read columns; the
// destructor resets the statement and clears its bindings, so a statement
// never keeps a read transaction open past its use and never points at a
// caller's buffer that has gone away.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept
      : db_(other.db_), stmt_(other.stmt_), bind_error_(std::move(other.bind_error_)) {
    other.stmt_ = nullptr;
  }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement() { Reset(); }

  // Parameters are 1-based. Bind errors are kept and returned by Step().
  void BindInt64(int i, int64_t v);
  void BindText(int i, absl::string_view v);  // copied by SQLite
  // Not copied: `v` must outlive Step() (lets callers wipe key material
  // after use instead of leaving a copy in SQLite's heap).
  void BindBlobNoCopy(int i, absl::string_view v);
  void BindNull(int i);

  // True if a row is ready, false when done. A write that fails with
  // SQLITE_FULL outside an explicit transaction is tried once more after
  // TruncateWalAfterFull: it was rolled back whole, so nothing is doubled.
  absl::StatusOr<bool> Step();
  // Steps a statement that returns no rows.
  absl::Status Run();

  int64_t ColumnInt64(int i) const { return sqlite3_column_int64(stmt_, i); }
  bool ColumnIsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  // Valid until the next Step() or the end of this use.
  absl::string_view ColumnText(int i) const;
  absl::string_view ColumnBlob(int i) const;

  // Resets early (e.g. before wiping a buffer bound with BindBlobNoCopy).
  void Reset();

 private:
  void NoteBind(int rc, int i);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  absl::Status bind_error_;
};

// Owns the connection and the statement cache.
class SqliteDb {
 public:
  // Opens (creating if needed) `path`; ":memory:" gives a private database.
  // `read_only`: never creates or writes the file (for probes that must
  // leave a file as they found it).
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        bool read_only = false);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements that return no rows (schema, pragmas).
  absl::Status Exec(absl::string_view sql);
  // Runs one cached statement without parameters or rows (BEGIN, COMMIT):
  // cheaper than Exec, which parses the SQL every time.
  absl::Status Run(absl::string_view sql);
  // Runs a statement that returns one text value (e.g. PRAGMA journal_mode).
  absl::StatusOr<std::string> QueryText(absl::string_view sql);

  // The cached statement for `sql`, prepared on first use.
  absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t changes() const { return sqlite3_changes64(db_); }
  // False while a transaction is open.
  bool autocommit() const { return sqlite3_get_autocommit(db_) != 0; }
  sqlite3* raw() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SQLITE_DB_H_
