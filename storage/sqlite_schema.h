#ifndef IKELESS_STORAGE_SQLITE_SCHEMA_H_
#define IKELESS_STORAGE_SQLITE_SCHEMA_H_

// The database schema as an ordered list of migrations. Each migration runs
// in its own transaction and records its number in `schema_version`, so a
// crash mid-upgrade leaves the database at the previous version, and
// reopening applies only what is missing. The SQL is kept to plain
// CREATE TABLE / CREATE INDEX with INTEGER, TEXT and BLOB columns so the
// same steps can be replayed on PostgreSQL.

#include "absl/status/status.h"
#include "storage/sqlite_db.h"

namespace ikeless::storage {

// The version this build creates and understands.
int LatestSchemaVersion();

// Brings `db` up to LatestSchemaVersion(). FAILED_PRECONDITION if the
// database was written by a newer build (its version is higher): opening it
// could silently drop data that build relies on.
absl::Status MigrateSchema(SqliteDb& db);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SQLITE_SCHEMA_H_
