#ifndef IKELESS_STORAGE_MEMORY_STORE_H_
#define IKELESS_STORAGE_MEMORY_STORE_H_

// In-memory fake of every store interface, for unit tests of the logic that
// decides. Same contract as the SQLite backend (storage/store_contract_test
// runs both); a transaction works on a copy and swaps it in on success.

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/agent_store.h"
#include "storage/association_store.h"
#include "storage/intent_store.h"
#include "storage/node_store.h"
#include "storage/policy_store.h"

namespace ikeless::storage {

class MemoryStore final : public PolicyStore,
                          public AssociationStore,
                          public AgentStore,
                          public NodeStore,
                          public IntentStore {
 public:
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

  // NodeStore
  absl::StatusOr<v1::Node> CreateNode(const v1::Node& node) override;
  absl::StatusOr<v1::Node> GetNode(absl::string_view name) override;
  absl::StatusOr<std::vector<v1::Node>> ListNodes() override;
  absl::StatusOr<v1::Node> UpdateNode(const v1::Node& node, uint64_t expected_revision) override;
  absl::Status DeleteNode(absl::string_view name) override;
  absl::StatusOr<uint64_t> NextSpdRevision() override;

  // IntentStore: on copies of both maps, swapped in when every step held.
  absl::Status WriteIntent(const IntentWrite& write) override;

  // For tests: how many transactions committed.
  int commits() const {
    absl::MutexLock l(&mu_);
    return commits_;
  }

 private:
  class Txn;

  // Separate locks: the request processor matches policies (S21) while it
  // holds an association transaction (S22).
  mutable absl::Mutex policy_mu_;
  std::map<std::string, v1::Policy> policies_ ABSL_GUARDED_BY(policy_mu_);
  mutable absl::Mutex mu_;
  std::map<uint64_t, AssociationRow> rows_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  mutable absl::Mutex agent_mu_;
  std::map<std::string, AgentRecord> agents_ ABSL_GUARDED_BY(agent_mu_);
  int commits_ ABSL_GUARDED_BY(mu_) = 0;
  mutable absl::Mutex node_mu_;
  std::map<std::string, v1::Node> nodes_ ABSL_GUARDED_BY(node_mu_);
  uint64_t next_spd_revision_ ABSL_GUARDED_BY(node_mu_) = 1;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_MEMORY_STORE_H_
