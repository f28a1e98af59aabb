#ifndef IKELESS_STORAGE_SQLITE_SCHEMA_H_
#define IKELESS_STORAGE_SQLITE_SCHEMA_H_

// The database schema as an ordered list of migrations. Each migration runs
// in its own transaction and records its number in `schema_version`, so a
// crash mid-upgrade leaves the database at the previous version, and
// reopening applies only what is missing. The SQL is kept to plain
// CREATE TABLE / CREATE INDEX with INTEGER, TEXT and BLOB columns so the
// same steps can be replayed on PostgreSQL.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "storage/sqlite_db.h"

namespace ikeless::storage {

// PRAGMA application_id of our files ('IKLS'), set by MigrateSchema. Files
// written before it was introduced hold 0 and are recognised by their
// tables instead.
inline constexpr int32_t kIkelessApplicationId = 0x494B4C53;

// The version this build creates and understands.
int LatestSchemaVersion();

// Refuses, before anything is written to it, a file that is not ours:
// FAILED_PRECONDITION "PATH is not an ikeless database (...)" for a file
// that is not SQLite, has another application_id, or has tables but none of
// ours. An empty file (new) and one of ours without the id (an older build's)
// pass. Reads only the header and the schema table.
absl::Status CheckOwnership(SqliteDb& db, const std::string& path);

// Runs SQLite's quick_check (every page's structure, not index contents):
// a damaged page would otherwise surface only when some later request reads
// it. DATA_LOSS naming the file and the fix. Reads the whole file once.
absl::Status CheckIntegrity(SqliteDb& db, const std::string& path);

// Brings `db` up to LatestSchemaVersion() (or `target_version`, for tests
// that build a file as an older build wrote it) and marks it with
// kIkelessApplicationId. FAILED_PRECONDITION if the database was written by
// a newer build (its version is higher): opening it could silently drop
// data that build relies on.
absl::Status MigrateSchema(SqliteDb& db);
absl::Status MigrateSchema(SqliteDb& db, int target_version);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SQLITE_SCHEMA_H_
