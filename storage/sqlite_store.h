#ifndef IKELESS_STORAGE_SQLITE_STORE_H_
#define IKELESS_STORAGE_SQLITE_STORE_H_

// The controller's durable store: policies, the association table and the
// agents seen, in one SQLite database (WAL mode) on one connection. Same
// contract as MemoryStore (storage/store_contract_test runs both).
//
// Policies are also kept in memory, loaded at Open and updated after each
// successful write, so S21 (MatchPolicy) never touches SQL and may be called from
// inside a Transact callback. That cache assumes this process is the only
// writer of the file. No other method may be called from inside Transact.
//
// Key material at rest: with Options::sealer, the association rows' SA
// parameters (a_to_b, b_to_a) are sealed under a key-encryption key kept
// outside the database (storage/key_sealer.h), and deleted rows are zeroed
// in the file (PRAGMA secure_delete), so a copy of the database files alone
// holds no usable key.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/agent_store.h"
#include "storage/association_store.h"
#include "storage/intent_store.h"
#include "storage/key_sealer.h"
#include "storage/node_store.h"
#include "storage/policy_store.h"
#include "storage/sqlite_db.h"
#include "storage/wal_checkpointer.h"

namespace ikeless::storage {

// PolicyStore, AssociationStore, AgentStore, NodeStore and IntentStore on
// one SQLite file.
class SqliteStore final : public PolicyStore,
                          public AssociationStore,
                          public AgentStore,
                          public NodeStore,
                          public IntentStore {
 public:
  struct Options {
    // true: PRAGMA synchronous=FULL, the WAL is fsynced at every commit, so
    // a committed transaction survives power loss and OS crashes.
    // false: NORMAL; committed transactions still survive the process
    // being killed (kill -9), but the last ones may roll back after power
    // loss (never corruption). Measured on this machine kind (ext4 on a
    // virtio disk, one small insert per transaction): ~7,400 commits/s with
    // FULL, ~73,000 with NORMAL.
    bool sync_every_commit = true;
    // How long a statement waits for another process's lock.
    absl::Duration busy_timeout = absl::Seconds(5);
    // Seals and opens the SA parameter blobs; must outlive the store.
    // nullptr stores them in the clear: for tests and for tools that only
    // read policies (a warning is logged when a file is opened so). Rows
    // written one way do not read the other way (DATA_LOSS).
    const KeySealer* sealer = nullptr;
    // > 0: a background thread checkpoints the WAL when it reaches 1000
    // pages, and at least this often; commits never do (wal_checkpointer.h).
    // 0: SQLite's auto-checkpoint, run by the commit that crosses 1000
    // pages. Files only.
    // Measured (BENCHMARKS.md): p99 of a setup 3.1-3.9 ms -> 0.7-0.9 ms,
    // but p50 315-365 -> 400-465 us and rare stalls of tens of ms (the two
    // connections' WAL read-mark locks), so it is not the default.
    absl::Duration checkpoint_interval = absl::ZeroDuration();
    // The WAL pages at which a commit checkpoints (PRAGMA
    // wal_autocheckpoint, SQLite's default 1000; >= 1), and the size the
    // WAL is truncated to after a restart scales with it.
    int wal_autocheckpoint_pages = 1000;
    // > 0: the database may not grow past this many pages (PRAGMA
    // max_page_count); a write that would fails as on a full volume
    // (RESOURCE_EXHAUSTED). A quota, and how tests fill "the volume".
    int64_t max_database_pages = 0;
  };

  // Opens or creates the database at `path` (":memory:" for a private
  // in-memory one) and migrates its schema. Refuses, unchanged, a file that
  // is not an ikeless database (FAILED_PRECONDITION) and one that SQLite's
  // quick_check finds damaged (DATA_LOSS). FAILED_PRECONDITION if a newer
  // build wrote it. With a sealer, also opens the newest row's SA blobs so a
  // wrong key-encryption key fails here, not at every later read:
  // FAILED_PRECONDITION naming both key ids, or DATA_LOSS if that row was
  // written without a sealer.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           const Options& options);

  // PolicyStore
  absl::StatusOr<v1::Policy> CreatePolicy(const v1::Policy& policy) override;
  absl::StatusOr<v1::Policy> GetPolicy(absl::string_view name) override;
  absl::StatusOr<std::vector<v1::Policy>> ListPolicies() override;
  absl::StatusOr<v1::Policy> UpdatePolicy(const v1::Policy& policy,
                                          uint64_t expected_revision) override;
  absl::Status DeletePolicy(absl::string_view name) override;
  absl::StatusOr<std::optional<v1::Policy>> MatchPolicy(const IpAddress& source,
                                                        const IpAddress& peer,
                                                        const v1::Selector& selector) override;

  // AssociationStore
  absl::Status Transact(absl::FunctionRef<absl::Status(AssociationTxn&)> fn) override;
  absl::StatusOr<std::vector<AssociationRow>> ListAssociations(absl::string_view address) override;
  absl::StatusOr<std::optional<AssociationRow>> GetAssociation(uint64_t id) override;
  absl::StatusOr<absl::Time> NextDeadline() override;

  // AgentStore
  absl::Status UpsertAgent(const AgentRecord& agent) override;
  absl::StatusOr<std::vector<AgentRecord>> ListAgents() override;

  // NodeStore (sqlite_node_store.cc)
  absl::StatusOr<v1::Node> CreateNode(const v1::Node& node) override;
  absl::StatusOr<v1::Node> GetNode(absl::string_view name) override;
  absl::StatusOr<std::vector<v1::Node>> ListNodes() override;
  absl::StatusOr<v1::Node> UpdateNode(const v1::Node& node, uint64_t expected_revision) override;
  absl::Status DeleteNode(absl::string_view name) override;
  absl::StatusOr<uint64_t> NextSpdRevision() override;

  // IntentStore (sqlite_node_store.cc)
  absl::Status WriteIntent(const IntentWrite& write) override;

  // Transactions committed by Transact() (as MemoryStore::commits(); policy
  // and agent writes are not counted). For benchmarks and tests.
  int64_t commits() const {
    absl::MutexLock l(&mu_);
    return commits_;
  }
  // The background checkpointer's counters (zero without one).
  WalCheckpointer::Stats checkpoint_stats() const {
    return checkpointer_ != nullptr ? checkpointer_->stats() : WalCheckpointer::Stats{};
  }

 private:
  SqliteStore(std::unique_ptr<SqliteDb> db, const KeySealer* sealer)
      : sealer_(sealer), db_(std::move(db)) {}

  absl::Status LoadPolicies() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_, policy_mu_);
  // Opens the SA blobs of the newest row that has any (see Open).
  absl::Status CheckSealer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `fn` between BEGIN IMMEDIATE and COMMIT; rolls back if it or the
  // commit fails. On a full volume (IsDatabaseFull) truncates the WAL and,
  // if `retry_when_full`, runs the whole once more: `fn` must then be
  // repeatable (only database writes, state rebuilt at each call).
  absl::Status InTransaction(absl::FunctionRef<absl::Status()> fn, bool retry_when_full = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The cached policy named `name`, or nullptr.
  v1::Policy* FindPolicy(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(policy_mu_);

  // Set at Open, never changed.
  const KeySealer* const sealer_;
  // The connection. Held for a whole Transact() call.
  mutable absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
  int64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  // The policy cache has its own lock because the request processor calls
  // MatchPolicy (S21) from inside a Transact callback (S22). Writers take mu_
  // first, then this; readers take only this.
  mutable absl::Mutex policy_mu_ ABSL_ACQUIRED_AFTER(mu_);
  // Mirror of the policies table, sorted by name.
  std::vector<v1::Policy> policies_ ABSL_GUARDED_BY(policy_mu_);
  // Set at Open (files with checkpoint_interval > 0), never changed.
  // Declared after db_: destroyed first, before the connection its hook is on.
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SQLITE_STORE_H_
