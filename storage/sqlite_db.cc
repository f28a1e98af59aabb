#include "storage/sqlite_db.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace ikeless::storage {
namespace {

constexpr absl::string_view kFullPayload = "type.ikeless.dev/storage.SqliteFull";

// The file behind `db`, for messages.
std::string DbPath(sqlite3* db) {
  const char* f = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  return f != nullptr && *f != '\0' ? std::string(f) : std::string(":memory:");
}

// One line of at most 160 characters: the log keeps a statement's shape
// without a multi-line migration in it.
std::string SqlForLog(absl::string_view sql) {
  std::string out;
  for (char c : sql.substr(0, 160)) {
    bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  return out;
}

// SqliteError for a failed statement; the statement goes to the log only.
// Operational conditions that the status already explains (busy, full) are
// logged at debug, so a full volume does not also flood the log.
absl::Status StatementError(sqlite3* db, int rc, absl::string_view sql) {
  absl::Status s = SqliteError(db, rc, "statement failed");
  int primary = rc & 0xff;
  bool expected = primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL;
  LogLine(expected ? LogLevel::kDebug : LogLevel::kWarning, "sqlite_statement_failed")
      .Kv("sql", SqlForLog(sql))
      .Kv("error", s.message());
  return s;
}

}  // namespace

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  switch (rc & 0xff) {
    case SQLITE_FULL: {
      absl::Status s = absl::ResourceExhaustedError(absl::StrCat(
          "the database volume is full (", DbPath(db),
          "): free space on it or move the database to a larger volume; nothing was written"));
      s.SetPayload(kFullPayload, absl::Cord());
      return s;
    }
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(absl::StrCat("database ", DbPath(db), " is damaged (", what, ": ",
                                              sqlite3_errstr(rc),
                                              "); stop the controller and restore it from a backup"));
    default:
      break;
  }
  std::string msg = absl::StrCat("sqlite: ", what, ": ", sqlite3_errstr(rc));
  // The connection's message is more specific (names the constraint) when
  // it belongs to this result code.
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    absl::StrAppend(&msg, " (", sqlite3_errmsg(db), ")");
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

bool IsDatabaseFull(const absl::Status& s) {
  return absl::IsResourceExhausted(s) && s.GetPayload(kFullPayload).has_value();
}

void TruncateWalAfterFull(sqlite3* db) {
  int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  LogWarning("sqlite_volume_full")
      .Kv("path", DbPath(db))
      .Kv("wal_checkpoint", rc == SQLITE_OK ? "truncated" : sqlite3_errstr(rc));
}

void SqliteStatement::NoteBind(int rc, int i) {
  if (rc != SQLITE_OK && bind_error_.ok()) {
    bind_error_ = SqliteError(db_, rc, absl::StrCat("bind parameter ", i));
  }
}

void SqliteStatement::BindInt64(int i, int64_t v) { NoteBind(sqlite3_bind_int64(stmt_, i, v), i); }

void SqliteStatement::BindText(int i, absl::string_view v) {
  NoteBind(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), i);
}

void SqliteStatement::BindBlobNoCopy(int i, absl::string_view v) {
  // An empty string_view may have a null data(); SQLite would store NULL.
  static const char kEmpty = 0;
  NoteBind(sqlite3_bind_blob64(stmt_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_STATIC),
           i);
}

void SqliteStatement::BindNull(int i) { NoteBind(sqlite3_bind_null(stmt_, i), i); }

absl::StatusOr<bool> SqliteStatement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  // Read before the step: SQLite may roll a transaction back on
  // SQLITE_FULL, and the statement must then not be retried on its own.
  const bool own_transaction = sqlite3_get_autocommit(db_) != 0;
  int rc = sqlite3_step(stmt_);
  // Outside BEGIN the failed write was rolled back whole, and a checkpoint
  // may free the WAL's space; inside, the transaction's owner decides
  // (SqliteStore::InTransaction), as only it can run the whole again.
  if ((rc & 0xff) == SQLITE_FULL && own_transaction && !sqlite3_stmt_readonly(stmt_)) {
    sqlite3_reset(stmt_);  // ends the statement's transaction; bindings stay
    TruncateWalAfterFull(db_);
    rc = sqlite3_step(stmt_);
  }
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StatementError(db_, rc, sqlite3_sql(stmt_));
}

absl::Status SqliteStatement::Run() {
  absl::StatusOr<bool> row = Step();
  if (!row.ok()) return row.status();
  if (*row) {
    LogWarning("sqlite_unexpected_rows").Kv("sql", SqlForLog(sqlite3_sql(stmt_)));
    return absl::InternalError("sqlite: a statement that should return no rows returned some");
  }
  return absl::OkStatus();
}

absl::string_view SqliteStatement::ColumnText(int i) const {
  const unsigned char* p = sqlite3_column_text(stmt_, i);
  if (p == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}

absl::string_view SqliteStatement::ColumnBlob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  if (p == nullptr) return {};
  return absl::string_view(static_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}

void SqliteStatement::Reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  stmt_ = nullptr;
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  // NOMUTEX: the owner serialises every use, so SQLite's own locking would
  // be paid for nothing.
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = SqliteError(db, rc, absl::StrCat("open ", path));
    sqlite3_close(db);  // a handle is returned even on failure
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() {
  for (auto& [_, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status SqliteDb::Exec(absl::string_view sql) {
  std::string text(sql);  // sqlite3_exec wants a terminated string
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return StatementError(db_, rc, text);
  return absl::OkStatus();
}

absl::Status SqliteDb::Run(absl::string_view sql) {
  absl::StatusOr<SqliteStatement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->Run();
}

absl::StatusOr<std::string> SqliteDb::QueryText(absl::string_view sql) {
  absl::StatusOr<SqliteStatement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    LogWarning("sqlite_no_result").Kv("sql", SqlForLog(sql));
    return absl::InternalError("sqlite: a statement that should return a value returned none");
  }
  return std::string(stmt->ColumnText(0));
}

absl::StatusOr<SqliteStatement> SqliteDb::Prepare(absl::string_view sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return SqliteStatement(db_, it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return StatementError(db_, rc, sql);
  if (stmt == nullptr) return absl::InvalidArgumentError("sqlite: empty statement");
  statements_.emplace(std::string(sql), stmt);
  return SqliteStatement(db_, stmt);
}

}  // namespace ikeless::storage
