#include "storage/sqlite_store.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "storage/policy_match.h"
#include "storage/sqlite_association_txn.h"
#include "storage/sqlite_codec.h"
#include "storage/sqlite_schema.h"

namespace ikeless::storage {
namespace {

absl::Status PolicyNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("policy '", name, "' not found"));
}

// Applies the connection settings every open needs.
absl::Status Configure(SqliteDb& db, const std::string& path, const SqliteStore::Options& options) {
  absl::Status s = db.Exec("PRAGMA foreign_keys = ON");
  if (!s.ok()) return s;
  absl::StatusOr<std::string> mode = db.QueryText("PRAGMA journal_mode = WAL");
  if (!mode.ok()) return mode.status();
  // An in-memory database has no file to log to and reports "memory".
  if (*mode != "wal" && !(path == ":memory:" && *mode == "memory")) {
    return absl::FailedPreconditionError(absl::StrCat("sqlite: cannot use WAL mode for ", path,
                                                      " (journal mode is '", *mode,
                                                      "'); is the file on a network file system?"));
  }
  s = db.Exec(options.sync_every_commit ? "PRAGMA synchronous = FULL"
                                        : "PRAGMA synchronous = NORMAL");
  if (!s.ok()) return s;
  // Deleted rows, and the old copy of a row that an update moved, are
  // overwritten with zeros instead of lingering in free space until reused.
  // Sealed keys of rows long gone would otherwise still be in the file, to
  // be opened if the key-encryption key leaks later; without a sealer they
  // would be plaintext keys. Measured with churn like this table's (per
  // setup: insert, update with two 140-byte blobs, delete an old row): no
  // difference in commits/s.
  absl::StatusOr<std::string> secure = db.QueryText("PRAGMA secure_delete = ON");
  if (!secure.ok()) return secure.status();
  if (*secure != "1") {
    return absl::FailedPreconditionError(
        absl::StrCat("sqlite: PRAGMA secure_delete is not available (got '", *secure, "')"));
  }
  // The WAL is not truncated by a checkpoint: frames from before it (old
  // page images, so old rows) stay in the file past its current end until
  // overwritten. This limit truncates it after the log restarts: what one
  // autocheckpoint interval writes (pages of 4 KiB plus a 24-byte frame
  // header each; 1000 pages: 4.12 MB), rounded up to a MiB (4 MiB by
  // default), so the steady state is untouched and a
  // WAL that a burst or a long reader made large shrinks back. A limit of 0
  // (truncate at every restart) would drop every stale frame at once but
  // cost a third of the commit rate (measured: 29,000 against 44,000
  // commits/s with synchronous=NORMAL), and with sealed blobs those frames
  // hold no usable key anyway.
  const int64_t wal_pages = std::max(1, options.wal_autocheckpoint_pages);
  s = db.Exec(absl::StrCat("PRAGMA wal_autocheckpoint = ", wal_pages));
  if (!s.ok()) return s;
  constexpr int64_t kFrameBytes = 4096 + 24, kMiB = 1 << 20;
  const int64_t interval_bytes = wal_pages * kFrameBytes;
  s = db.Exec(absl::StrCat("PRAGMA journal_size_limit = ", (interval_bytes + kMiB - 1) / kMiB * kMiB));
  if (!s.ok() || options.max_database_pages <= 0) return s;
  return db.Exec(absl::StrCat("PRAGMA max_page_count = ", options.max_database_pages));
}

bool IsFile(const std::string& path) { return !path.empty() && path != ":memory:"; }

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  return Open(path, Options());
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               const Options& options) {
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path);
  if (!db.ok()) return db.status();
  // First, so that every statement below also waits for other processes.
  sqlite3_busy_timeout((*db)->raw(),
                       static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  // Before Configure, whose journal mode change is the first write: a file
  // that is not ours is left exactly as it was, and a damaged one is not
  // used until someone has looked at it.
  absl::Status s = CheckOwnership(**db, path);
  if (s.ok() && IsFile(path)) s = CheckIntegrity(**db, path);
  if (s.ok()) s = Configure(**db, path, options);
  if (s.ok()) s = MigrateSchema(**db);
  if (!s.ok()) return s;
  std::unique_ptr<SqliteStore> store(new SqliteStore(*std::move(db), options.sealer));
  {
    absl::MutexLock l(&store->mu_);
    absl::MutexLock cache_lock(&store->policy_mu_);
    s = store->LoadPolicies();
    if (s.ok() && options.sealer != nullptr) s = store->CheckSealer();
  }
  if (!s.ok()) return s;
  if (IsFile(path) && options.checkpoint_interval > absl::ZeroDuration()) {
    absl::MutexLock l(&store->mu_);
    auto checkpointer = WalCheckpointer::Start(path, store->db_.get(), options.checkpoint_interval);
    if (!checkpointer.ok()) return checkpointer.status();
    store->checkpointer_ = *std::move(checkpointer);
  }
  if (options.sealer == nullptr && IsFile(path)) {
    LogWarning("sqlite_keys_not_sealed")
        .Kv("path", path)
        .Kv("reason", "no key-encryption key: SA keys written now are stored in the clear");
  }
  return store;
}

absl::Status SqliteStore::CheckSealer() {
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS
                   " FROM associations WHERE a_to_b IS NOT NULL OR b_to_a IS NOT NULL"
                   " ORDER BY id DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<std::vector<AssociationRow>> rows = ReadAssociations(*stmt, sealer_);
  if (rows.ok()) return absl::OkStatus();
  return absl::Status(rows.status().code(),
                      absl::StrCat("cannot read the association table with key-encryption key ",
                                   sealer_->id(), ": ", rows.status().message()));
}

absl::Status SqliteStore::LoadPolicies() {
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT name, body FROM policies ORDER BY name");
  if (!stmt.ok()) return stmt.status();
  policies_.clear();
  for (;;) {
    absl::StatusOr<bool> more = stmt->Step();
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    absl::Status s = DecodePolicy(stmt->ColumnBlob(1), &policies_.emplace_back());
    if (!s.ok()) {
      return absl::DataLossError(absl::StrCat("policy '", stmt->ColumnText(0), "': ", s.message()));
    }
  }
}

absl::Status SqliteStore::InTransaction(absl::FunctionRef<absl::Status()> fn,
                                        bool retry_when_full) {
  for (int attempt = 1;; ++attempt) {
    // IMMEDIATE takes the write lock now rather than at the first write, so
    // a transaction never fails half-way because another writer got there
    // first.
    absl::Status s = db_->Run("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    s = fn();
    if (s.ok()) s = db_->Run("COMMIT");
    // SQLite may already have rolled back after SQLITE_FULL.
    if (!s.ok() && !db_->autocommit()) {
      absl::Status r = db_->Run("ROLLBACK");
      if (!r.ok()) LogWarning("sqlite_rollback_failed").Kv("error", r.ToString());
    }
    if (!IsDatabaseFull(s)) return s;
    // A checkpoint cannot run inside a transaction, hence here. Even when
    // this one is not retried, the next write may find the space freed.
    TruncateWalAfterFull(db_->raw());
    if (!retry_when_full || attempt > 1) return s;
  }
}

v1::Policy* SqliteStore::FindPolicy(absl::string_view name) {
  auto it = std::lower_bound(
      policies_.begin(), policies_.end(), name,
      [](const v1::Policy& p, absl::string_view n) { return absl::string_view(p.name()) < n; });
  if (it == policies_.end() || it->name() != name) return nullptr;
  return &*it;
}

absl::StatusOr<v1::Policy> SqliteStore::CreatePolicy(const v1::Policy& policy) {
  absl::MutexLock l(&mu_);
  absl::MutexLock cache_lock(&policy_mu_);
  if (FindPolicy(policy.name()) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("policy '", policy.name(), "' already exists"));
  }
  v1::Policy p = policy;
  p.set_revision(1);
  if (absl::Status s = WritePolicyRow(*db_, p, /*insert=*/true); !s.ok()) return s;
  auto at = std::lower_bound(
      policies_.begin(), policies_.end(), p,
      [](const v1::Policy& x, const v1::Policy& y) { return x.name() < y.name(); });
  policies_.insert(at, p);
  return p;
}

absl::StatusOr<v1::Policy> SqliteStore::GetPolicy(absl::string_view name) {
  absl::MutexLock l(&policy_mu_);
  const v1::Policy* p = FindPolicy(name);
  if (p == nullptr) return PolicyNotFound(name);
  return *p;
}

absl::StatusOr<std::vector<v1::Policy>> SqliteStore::ListPolicies() {
  absl::MutexLock l(&policy_mu_);
  return policies_;
}

absl::StatusOr<v1::Policy> SqliteStore::UpdatePolicy(const v1::Policy& policy,
                                                     uint64_t expected_revision) {
  absl::MutexLock l(&mu_);
  absl::MutexLock cache_lock(&policy_mu_);
  v1::Policy* old = FindPolicy(policy.name());
  if (old == nullptr) return PolicyNotFound(policy.name());
  if (expected_revision != 0 && old->revision() != expected_revision) {
    return absl::AbortedError(absl::StrCat("policy '", policy.name(), "' is at revision ",
                                           old->revision(), ", not ", expected_revision));
  }
  v1::Policy p = policy;
  p.set_revision(old->revision() + 1);
  p.set_create_time_unix(old->create_time_unix());
  if (absl::Status s = WritePolicyRow(*db_, p, /*insert=*/false); !s.ok()) return s;
  if (db_->changes() == 0) {
    return absl::InternalError(absl::StrCat("policy '", p.name(), "' vanished from the table"));
  }
  *old = p;
  return p;
}

absl::Status SqliteStore::DeletePolicy(absl::string_view name) {
  absl::MutexLock l(&mu_);
  absl::MutexLock cache_lock(&policy_mu_);
  v1::Policy* old = FindPolicy(name);
  if (old == nullptr) return PolicyNotFound(name);
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare("DELETE FROM policies WHERE name = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, name);
  absl::Status s = stmt->Run();
  if (!s.ok()) return s;
  policies_.erase(policies_.begin() + (old - policies_.data()));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Policy>> SqliteStore::MatchPolicy(const IpAddress& source,
                                                                   const IpAddress& peer,
                                                                   const v1::Selector& selector) {
  absl::MutexLock l(&policy_mu_);
  const v1::Policy* best = BestPolicy(policies_, source, peer, selector);
  if (best == nullptr) return std::nullopt;
  return *best;
}

absl::Status SqliteStore::Transact(absl::FunctionRef<absl::Status(AssociationTxn&)> fn) {
  absl::MutexLock l(&mu_);
  // Not retried on a full volume: `fn` is the caller's and may have done
  // more than write (AssociationStore promises one call).
  absl::Status s = InTransaction(
      [&]() {
        mu_.AssertHeld();  // InTransaction runs `fn` under mu_ (for -Wthread-safety)
        SqliteAssociationTxn txn(db_.get(), sealer_);
        absl::Status result = fn(txn);
        // A database error fails the transaction even if `fn` swallowed it,
        // and is what the caller sees if `fn` replaced a full volume's status.
        if (result.ok() || IsDatabaseFull(txn.failure())) result = txn.failure();
        return result;
      },
      /*retry_when_full=*/false);
  if (s.ok()) ++commits_;
  return s;
}

absl::StatusOr<std::vector<AssociationRow>> SqliteStore::ListAssociations(
    absl::string_view address) {
  absl::MutexLock l(&mu_);
  absl::StatusOr<SqliteStatement> stmt =
      address.empty()
          ? db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS " FROM associations ORDER BY id")
          : db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS
                         " FROM associations"
                         " WHERE a_address = ? OR b_address = ? ORDER BY id");
  if (!stmt.ok()) return stmt.status();
  if (!address.empty()) {
    stmt->BindText(1, address);
    stmt->BindText(2, address);
  }
  return ReadAssociations(*stmt, sealer_);
}

absl::StatusOr<std::optional<AssociationRow>> SqliteStore::GetAssociation(uint64_t id) {
  absl::MutexLock l(&mu_);
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS " FROM associations WHERE id = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt64(1, static_cast<int64_t>(id));
  absl::StatusOr<std::vector<AssociationRow>> rows = ReadAssociations(*stmt, sealer_);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

absl::StatusOr<absl::Time> SqliteStore::NextDeadline() {
  absl::MutexLock l(&mu_);
  // An established row's next_startup_time is stale: startups stop at S9.
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare(
      "SELECT (SELECT MIN(expire_time) FROM associations),"
      " (SELECT MIN(next_startup_time) FROM associations WHERE b_request_id = 0)");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  absl::Time t = absl::InfiniteFuture();
  for (int col : {0, 1}) {
    if (*row && !stmt->ColumnIsNull(col)) t = std::min(t, MicrosToTime(stmt->ColumnInt64(col)));
  }
  return t;
}

absl::Status SqliteStore::UpsertAgent(const AgentRecord& agent) {
  absl::MutexLock l(&mu_);
  return InTransaction([&]() -> absl::Status {
    mu_.AssertHeld();  // InTransaction runs `fn` under mu_ (for -Wthread-safety)
    for (const char* sql : {"DELETE FROM agent_addresses WHERE node_name = ?",
                            "DELETE FROM agents WHERE node_name = ?"}) {
      absl::StatusOr<SqliteStatement> del = db_->Prepare(sql);
      if (!del.ok()) return del.status();
      del->BindText(1, agent.node_name);
      absl::Status s = del->Run();
      if (!s.ok()) return s;
    }
    absl::StatusOr<SqliteStatement> insert = db_->Prepare(
        "INSERT INTO agents (node_name, agent_version, datapath, last_seen)"
        " VALUES (?, ?, ?, ?)");
    if (!insert.ok()) return insert.status();
    insert->BindText(1, agent.node_name);
    insert->BindText(2, agent.agent_version);
    insert->BindText(3, agent.datapath);
    insert->BindInt64(4, TimeToMicros(agent.last_seen));
    absl::Status s = insert->Run();
    if (!s.ok()) return s;
    for (size_t i = 0; i < agent.addresses.size(); ++i) {
      absl::StatusOr<SqliteStatement> address = db_->Prepare(
          "INSERT INTO agent_addresses (node_name, position, address) VALUES (?, ?, ?)");
      if (!address.ok()) return address.status();
      address->BindText(1, agent.node_name);
      address->BindInt64(2, static_cast<int64_t>(i));
      address->BindText(3, agent.addresses[i]);
      s = address->Run();
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AgentRecord>> SqliteStore::ListAgents() {
  absl::MutexLock l(&mu_);
  std::vector<AgentRecord> out;
  absl::flat_hash_map<std::string, size_t> index;
  {
    absl::StatusOr<SqliteStatement> stmt = db_->Prepare(
        "SELECT node_name, agent_version, datapath, last_seen FROM agents ORDER BY node_name");
    if (!stmt.ok()) return stmt.status();
    for (;;) {
      absl::StatusOr<bool> more = stmt->Step();
      if (!more.ok()) return more.status();
      if (!*more) break;
      AgentRecord& a = out.emplace_back();
      a.node_name = std::string(stmt->ColumnText(0));
      a.agent_version = std::string(stmt->ColumnText(1));
      a.datapath = std::string(stmt->ColumnText(2));
      a.last_seen = MicrosToTime(stmt->ColumnInt64(3));
      index[a.node_name] = out.size() - 1;
    }
  }
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT node_name, address FROM agent_addresses ORDER BY node_name, position");
  if (!stmt.ok()) return stmt.status();
  for (;;) {
    absl::StatusOr<bool> more = stmt->Step();
    if (!more.ok()) return more.status();
    if (!*more) return out;
    auto it = index.find(stmt->ColumnText(0));
    if (it != index.end()) out[it->second].addresses.emplace_back(stmt->ColumnText(1));
  }
}

}  // namespace ikeless::storage
