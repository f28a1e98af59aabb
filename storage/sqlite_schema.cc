#include "storage/sqlite_schema.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

namespace ikeless::storage {
namespace {

// Migration i (0-based) takes the database from version i to i + 1. Append
// only: never edit a step that has shipped, add a new one.
//
// Column notes:
// - times are INTEGER microseconds since the Unix epoch; the infinite past
//   and future are INT64 min and max (see sqlite_codec.h);
// - uint64 request ids and revisions are stored bit for bit as int64;
// - `body`/`policy` hold the whole serialized v1::Policy; the other policy
//   columns repeat fields of it for queries and for operators reading the
//   database, the blob is what is loaded;
// - a_to_b/b_to_a hold v1::SaParameters (keys), NULL until S10: sealed
//   under the key-encryption key when the store has one
//   (storage/key_sealer.h), else the plain serialization (sqlite_codec.h);
// - association ids come from `sequences`, not from SQLite's rowid, so an
//   id is never reused after the newest row is deleted (a late timer for a
//   deleted row must not hit a new one).
constexpr const char* kMigrations[] = {
    // 1: policies, associations, agents.
    R"sql(
CREATE TABLE policies (
  name TEXT NOT NULL PRIMARY KEY,
  a_address TEXT NOT NULL,
  b_address TEXT NOT NULL,
  selector_protocol INTEGER NOT NULL,
  selector_port INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  create_time_unix INTEGER NOT NULL,
  update_time_unix INTEGER NOT NULL,
  body BLOB NOT NULL
);
CREATE TABLE sequences (
  name TEXT NOT NULL PRIMARY KEY,
  next_value INTEGER NOT NULL
);
INSERT INTO sequences (name, next_value) VALUES ('associations', 1);
CREATE TABLE associations (
  id INTEGER NOT NULL PRIMARY KEY,
  a_address TEXT NOT NULL,
  a_request_id INTEGER NOT NULL,
  a_spi INTEGER NOT NULL,
  b_address TEXT NOT NULL,
  b_request_id INTEGER NOT NULL,
  b_spi INTEGER NOT NULL,
  selector_protocol INTEGER NOT NULL,
  selector_port INTEGER NOT NULL,
  policy BLOB NOT NULL,
  a_to_b BLOB,
  b_to_a BLOB,
  create_time INTEGER NOT NULL,
  establish_time INTEGER NOT NULL,
  expire_time INTEGER NOT NULL,
  next_startup_time INTEGER NOT NULL,
  startups_sent INTEGER NOT NULL
);
CREATE INDEX associations_by_a_b ON associations (a_address, b_address);
CREATE INDEX associations_by_b_a ON associations (b_address, a_address);
CREATE INDEX associations_by_next_startup ON associations (next_startup_time);
CREATE INDEX associations_by_expire ON associations (expire_time);
CREATE TABLE agents (
  node_name TEXT NOT NULL PRIMARY KEY,
  agent_version TEXT NOT NULL,
  datapath TEXT NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE agent_addresses (
  node_name TEXT NOT NULL REFERENCES agents (node_name) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  address TEXT NOT NULL,
  PRIMARY KEY (node_name, position)
);
)sql",
    // 2: S2 and S7 look a row up by (source, peer, request id) and by
    // (source, peer, SPI) on either side; with only (a, b) indexed, every
    // row of a busy pair was read (setup p50 grew from 300 to 640 µs over
    // 1,000 rekeys of one pair).
    R"sql(
DROP INDEX associations_by_a_b;
DROP INDEX associations_by_b_a;
CREATE INDEX associations_by_a_request ON associations (a_address, b_address, a_request_id);
CREATE INDEX associations_by_b_request ON associations (b_address, a_address, b_request_id);
CREATE INDEX associations_by_a_spi ON associations (a_address, b_address, a_spi);
CREATE INDEX associations_by_b_spi ON associations (b_address, a_address, b_spi);
)sql",
    // 3: the controller owns the whole intent (DESIGN.md "Policy is the
    // whole configuration"): node records from which SPDs are derived, a
    // sequence for pushed SPD revisions (monotonic across restarts, so an
    // agent never mistakes an old revision for a new one), and each row's
    // inner prefixes (IKE's TSi/TSr) so that several SPD entries between one
    // pair of nodes get their own rows. `body` holds the serialized v1::Node
    // without its status.
    R"sql(
ALTER TABLE associations ADD COLUMN a_prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE associations ADD COLUMN b_prefix TEXT NOT NULL DEFAULT '';
CREATE TABLE nodes (
  name TEXT NOT NULL PRIMARY KEY,
  revision INTEGER NOT NULL,
  create_time_unix INTEGER NOT NULL,
  update_time_unix INTEGER NOT NULL,
  body BLOB NOT NULL
);
INSERT INTO sequences (name, next_value) VALUES ('spd_revisions', 1);
)sql",
    // 4: successor keys (DECISIONS 33): the SPIs each side reserved for the
    // successor SAs, kept from S22 until S10 uses them.
    R"sql(
ALTER TABLE associations ADD COLUMN a_successor_spis TEXT NOT NULL DEFAULT '';
ALTER TABLE associations ADD COLUMN b_successor_spis TEXT NOT NULL DEFAULT '';
)sql",
};

constexpr int kLatest = static_cast<int>(std::size(kMigrations));

absl::StatusOr<int> CurrentVersion(SqliteDb& db) {
  absl::StatusOr<SqliteStatement> stmt = db.Prepare("SELECT MAX(version) FROM schema_version");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row || stmt->ColumnIsNull(0)) return 0;
  return static_cast<int>(stmt->ColumnInt64(0));
}

absl::StatusOr<int64_t> ApplicationId(SqliteDb& db) {
  absl::StatusOr<SqliteStatement> stmt = db.Prepare("PRAGMA application_id");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  return *row ? stmt->ColumnInt64(0) : 0;
}

// Inside one transaction: applies the next missing migration, if any.
// Re-reads the version under the write lock, so two processes opening the
// same file at once do not both apply a step.
absl::Status ApplyNext(SqliteDb& db, int target, bool* done) {
  absl::Status s = db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_version ("
      " version INTEGER NOT NULL PRIMARY KEY,"
      " applied_at INTEGER NOT NULL)");
  if (!s.ok()) return s;
  // In the same transaction as the first migration, so no file holds our
  // tables without the mark (except an older build's, which CheckOwnership
  // recognises, and which gets it here).
  absl::StatusOr<int64_t> id = ApplicationId(db);
  if (!id.ok()) return id.status();
  if (*id != kIkelessApplicationId) {
    s = db.Exec(absl::StrCat("PRAGMA application_id = ", kIkelessApplicationId));
    if (!s.ok()) return s;
  }
  absl::StatusOr<int> version = CurrentVersion(db);
  if (!version.ok()) return version.status();
  if (*version > kLatest) {
    return absl::FailedPreconditionError(
        absl::StrCat("database schema version ", *version, " is newer than this build knows (",
                     kLatest, "); run a controller at least as new as the one that wrote it"));
  }
  if (*version >= target) {
    *done = true;
    return absl::OkStatus();
  }
  s = db.Exec(kMigrations[*version]);
  if (!s.ok()) return s;
  absl::StatusOr<SqliteStatement> record =
      db.Prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
  if (!record.ok()) return record.status();
  record->BindInt64(1, *version + 1);
  record->BindInt64(2, absl::ToUnixMicros(absl::Now()));
  return record->Run();
}

}  // namespace

int LatestSchemaVersion() { return kLatest; }

absl::Status CheckOwnership(SqliteDb& db, const std::string& path) {
  auto not_ours = [&path](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not an ikeless database (", why,
                     "); point --database at the controller's database or move this file away"));
  };
  // The header's magic first: SQLite would read a text file as a damaged
  // database and say so.
  if (path != ":memory:") {
    char magic[16] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(magic, sizeof magic);
    if (in.gcount() > 0 && (in.gcount() < 16 || std::memcmp(magic, "SQLite format 3", 16) != 0)) {
      return not_ours("not an SQLite file");
    }
  }
  absl::StatusOr<int64_t> id = ApplicationId(db);
  std::vector<std::string> tables;
  if (id.ok()) {
    absl::StatusOr<SqliteStatement> stmt = db.Prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name");
    if (!stmt.ok()) return stmt.status();
    for (;;) {
      absl::StatusOr<bool> more = stmt->Step();
      if (!more.ok()) return more.status();
      if (!*more) break;
      tables.emplace_back(stmt->ColumnText(0));
    }
  } else if ((sqlite3_errcode(db.raw()) & 0xff) == SQLITE_NOTADB) {
    return not_ours("not an SQLite file");
  } else {
    return id.status();
  }
  if (*id == kIkelessApplicationId) return absl::OkStatus();
  if (*id != 0) {
    return not_ours(absl::StrFormat("application_id 0x%08x, ours is 0x%08x", *id,
                                    kIkelessApplicationId));
  }
  if (tables.empty()) return absl::OkStatus();  // new
  auto has = [&tables](absl::string_view name) {
    return std::find(tables.begin(), tables.end(), name) != tables.end();
  };
  // Every ikeless schema since version 1 has these.
  if (has("schema_version") && has("policies") && has("associations")) return absl::OkStatus();
  if (tables.size() > 5) tables.resize(5);
  return not_ours(absl::StrCat("application_id 0 and tables ", absl::StrJoin(tables, ", "),
                               " but not ours"));
}

absl::Status CheckIntegrity(SqliteDb& db, const std::string& path) {
  auto damaged = [&path](absl::string_view found) {
    return absl::DataLossError(absl::StrCat(
        "database ", path, " is damaged (SQLite quick_check: ", found,
        "); restore it from a backup, or move it away with its -wal file to start empty"));
  };
  // (1): the first problem is enough to refuse, and says what is wrong.
  absl::StatusOr<SqliteStatement> stmt = db.Prepare("PRAGMA quick_check(1)");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) {
    if (absl::IsDataLoss(row.status())) return damaged(sqlite3_errstr(sqlite3_errcode(db.raw())));
    return row.status();
  }
  std::string result = *row ? std::string(stmt->ColumnText(0)) : "no result";
  if (result == "ok") return absl::OkStatus();
  if (result.size() > 200) result.resize(200);
  return damaged(absl::StrReplaceAll(result, {{"\n", " "}}));
}

absl::Status MigrateSchema(SqliteDb& db) { return MigrateSchema(db, kLatest); }

absl::Status MigrateSchema(SqliteDb& db, int target_version) {
  for (bool done = false; !done;) {
    absl::Status s = db.Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    s = ApplyNext(db, target_version, &done);
    if (s.ok()) s = db.Exec("COMMIT");
    if (!s.ok()) {
      if (!db.autocommit()) db.Exec("ROLLBACK").IgnoreError();
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace ikeless::storage
