#include "storage/memory_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/secret.h"
#include "storage/policy_match.h"

namespace ikeless::storage {
namespace {

bool SameSelector(const v1::Selector& x, const v1::Selector& y) {
  return x.protocol() == y.protocol() && x.port() == y.port();
}

// The side of `row` that belongs to `source` when the other is `peer`.
const AssociationSide* SideOf(const AssociationRow& row, absl::string_view source,
                              absl::string_view peer) {
  if (row.a.address == source && row.b.address == peer) return &row.a;
  if (row.b.address == source && row.a.address == peer) return &row.b;
  return nullptr;
}

}  // namespace

// Works on a private copy of the rows; MemoryStore::Transact swaps it in.
class MemoryStore::Txn final : public AssociationTxn {
 public:
  Txn(std::map<uint64_t, AssociationRow> rows, uint64_t next_id)
      : rows_(std::move(rows)), next_id_(next_id) {}

  absl::StatusOr<std::optional<AssociationRow>> FindByRequestId(
      absl::string_view source, absl::string_view peer, uint64_t id) override {
    for (const auto& [_, row] : rows_) {
      const AssociationSide* s = SideOf(row, source, peer);
      if (s != nullptr && s->filled() && s->request_id == id) return row;
    }
    return std::nullopt;
  }

  absl::StatusOr<std::optional<AssociationRow>> FindBySpi(absl::string_view source,
                                                          absl::string_view peer,
                                                          uint32_t spi) override {
    for (const auto& [_, row] : rows_) {
      const AssociationSide* s = SideOf(row, source, peer);
      if (s != nullptr && s->filled() && s->spi == spi) return row;
    }
    return std::nullopt;
  }

  absl::StatusOr<std::optional<AssociationRow>> FindHalfOpen(
      absl::string_view opener, absl::string_view other, const v1::Selector& selector,
      absl::string_view opener_prefix, absl::string_view other_prefix) override {
    for (const auto& [_, row] : rows_) {
      if (row.a.address == opener && row.b.address == other && !row.b.filled() &&
          SameSelector(row.selector, selector) && row.a_prefix == opener_prefix &&
          row.b_prefix == other_prefix) {
        return row;
      }
    }
    return std::nullopt;
  }

  absl::StatusOr<std::vector<AssociationRow>> ListRows(absl::string_view address,
                                                       absl::string_view peer) override {
    std::vector<AssociationRow> out;
    for (const auto& [_, row] : rows_) {
      if ((row.a.address == address && (peer.empty() || row.b.address == peer)) ||
          (row.b.address == address && (peer.empty() || row.a.address == peer))) {
        out.push_back(row);
        for (auto* sa : {&out.back().a_to_b, &out.back().b_to_a}) {
          if (sa->has_value()) WipeKeys(&**sa);
          sa->reset();
        }
      }
    }
    return out;
  }

  absl::StatusOr<uint64_t> CountHalfOpen(absl::string_view opener) override {
    uint64_t n = 0;
    for (const auto& [_, row] : rows_) n += row.a.address == opener && !row.b.filled();
    return n;
  }

  absl::StatusOr<std::vector<SideEntry>> ListEntries(absl::string_view source,
                                                     absl::string_view peer) override {
    std::vector<SideEntry> out;
    for (const auto& [_, row] : rows_) {
      const AssociationSide* s = SideOf(row, source, peer);
      if (s != nullptr && s->filled()) out.push_back({s->request_id, s->spi});
    }
    return out;
  }

  absl::StatusOr<uint64_t> Insert(const AssociationRow& row) override {
    AssociationRow copy = row;
    copy.id = next_id_++;
    rows_[copy.id] = copy;
    return copy.id;
  }

  absl::Status Update(const AssociationRow& row) override {
    auto it = rows_.find(row.id);
    if (it == rows_.end()) {
      return absl::NotFoundError(absl::StrCat("association ", row.id, " not found"));
    }
    it->second = row;
    return absl::OkStatus();
  }

  absl::Status Delete(uint64_t id) override {
    if (rows_.erase(id) == 0) {
      return absl::NotFoundError(absl::StrCat("association ", id, " not found"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<AssociationRow>> All() override {
    std::vector<AssociationRow> out;
    for (const auto& [_, row] : rows_) out.push_back(row);
    return out;
  }

  absl::StatusOr<std::vector<AssociationRow>> DueStartups(absl::Time now,
                                                          size_t limit) override {
    std::vector<AssociationRow> out;
    for (const auto& [_, row] : rows_) {
      if (!row.established() && row.next_startup_time <= now) out.push_back(row);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
      return x.next_startup_time < y.next_startup_time;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  absl::StatusOr<std::vector<AssociationRow>> Expired(absl::Time now,
                                                      size_t limit) override {
    std::vector<AssociationRow> out;
    for (const auto& [_, row] : rows_) {
      if (row.expire_time <= now && out.size() < limit) out.push_back(row);
    }
    return out;
  }

  std::map<uint64_t, AssociationRow> rows_;
  uint64_t next_id_;
};

absl::StatusOr<v1::Policy> MemoryStore::CreatePolicy(const v1::Policy& policy) {
  absl::MutexLock l(&policy_mu_);
  if (policies_.count(policy.name())) {
    return absl::AlreadyExistsError(absl::StrCat("policy '", policy.name(), "' already exists"));
  }
  v1::Policy p = policy;
  p.set_revision(1);
  policies_[p.name()] = p;
  return p;
}

absl::StatusOr<v1::Policy> MemoryStore::GetPolicy(absl::string_view name) {
  absl::MutexLock l(&policy_mu_);
  auto it = policies_.find(std::string(name));
  if (it == policies_.end()) {
    return absl::NotFoundError(absl::StrCat("policy '", name, "' not found"));
  }
  return it->second;
}

absl::StatusOr<std::vector<v1::Policy>> MemoryStore::ListPolicies() {
  absl::MutexLock l(&policy_mu_);
  std::vector<v1::Policy> out;
  for (const auto& [_, p] : policies_) out.push_back(p);
  return out;
}

absl::StatusOr<v1::Policy> MemoryStore::UpdatePolicy(const v1::Policy& policy,
                                                     uint64_t expected_revision) {
  absl::MutexLock l(&policy_mu_);
  auto it = policies_.find(policy.name());
  if (it == policies_.end()) {
    return absl::NotFoundError(absl::StrCat("policy '", policy.name(), "' not found"));
  }
  if (expected_revision != 0 && it->second.revision() != expected_revision) {
    return absl::AbortedError(absl::StrCat("policy '", policy.name(), "' is at revision ",
                                           it->second.revision(), ", not ",
                                           expected_revision));
  }
  v1::Policy p = policy;
  p.set_revision(it->second.revision() + 1);
  p.set_create_time_unix(it->second.create_time_unix());
  it->second = p;
  return p;
}

absl::Status MemoryStore::DeletePolicy(absl::string_view name) {
  absl::MutexLock l(&policy_mu_);
  if (policies_.erase(std::string(name)) == 0) {
    return absl::NotFoundError(absl::StrCat("policy '", name, "' not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::Policy>> MemoryStore::MatchPolicy(const IpAddress& source,
                                                                   const IpAddress& peer,
                                                                   const v1::Selector& selector) {
  absl::MutexLock l(&policy_mu_);
  std::vector<v1::Policy> all;
  for (const auto& [_, p] : policies_) all.push_back(p);
  const v1::Policy* best = BestPolicy(all, source, peer, selector);
  if (best == nullptr) return std::nullopt;
  return *best;
}

absl::Status MemoryStore::Transact(absl::FunctionRef<absl::Status(AssociationTxn&)> fn) {
  absl::MutexLock l(&mu_);
  Txn txn(rows_, next_id_);
  absl::Status s = fn(txn);
  if (!s.ok()) return s;
  rows_ = std::move(txn.rows_);
  next_id_ = txn.next_id_;
  ++commits_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AssociationRow>> MemoryStore::ListAssociations(
    absl::string_view address) {
  absl::MutexLock l(&mu_);
  std::vector<AssociationRow> out;
  for (const auto& [_, row] : rows_) {
    if (address.empty() || row.a.address == address || row.b.address == address) {
      out.push_back(row);
    }
  }
  return out;
}

absl::StatusOr<std::optional<AssociationRow>> MemoryStore::GetAssociation(uint64_t id) {
  absl::MutexLock l(&mu_);
  auto it = rows_.find(id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<absl::Time> MemoryStore::NextDeadline() {
  absl::MutexLock l(&mu_);
  absl::Time t = absl::InfiniteFuture();
  for (const auto& [_, row] : rows_) {
    t = std::min({t, row.expire_time, row.established() ? absl::InfiniteFuture()
                                                         : row.next_startup_time});
  }
  return t;
}

absl::Status MemoryStore::UpsertAgent(const AgentRecord& agent) {
  absl::MutexLock l(&agent_mu_);
  agents_[agent.node_name] = agent;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AgentRecord>> MemoryStore::ListAgents() {
  absl::MutexLock l(&agent_mu_);
  std::vector<AgentRecord> out;
  for (const auto& [_, a] : agents_) out.push_back(a);
  return out;
}

absl::StatusOr<v1::Node> MemoryStore::CreateNode(const v1::Node& node) {
  absl::MutexLock l(&node_mu_);
  if (nodes_.count(node.name()) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("node '", node.name(), "' already exists"));
  }
  v1::Node n = node;
  n.clear_status();
  n.set_revision(1);
  nodes_[n.name()] = n;
  return n;
}

absl::StatusOr<v1::Node> MemoryStore::GetNode(absl::string_view name) {
  absl::MutexLock l(&node_mu_);
  auto it = nodes_.find(std::string(name));
  if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("node '", name, "' not found"));
  return it->second;
}

absl::StatusOr<std::vector<v1::Node>> MemoryStore::ListNodes() {
  absl::MutexLock l(&node_mu_);
  std::vector<v1::Node> out;
  for (const auto& [_, n] : nodes_) out.push_back(n);
  return out;
}

absl::StatusOr<v1::Node> MemoryStore::UpdateNode(const v1::Node& node,
                                                 uint64_t expected_revision) {
  absl::MutexLock l(&node_mu_);
  auto it = nodes_.find(node.name());
  if (it == nodes_.end()) {
    return absl::NotFoundError(absl::StrCat("node '", node.name(), "' not found"));
  }
  if (expected_revision != 0 && it->second.revision() != expected_revision) {
    return absl::AbortedError(absl::StrCat("node '", node.name(), "' is at revision ",
                                           it->second.revision(), ", not ", expected_revision));
  }
  v1::Node n = node;
  n.clear_status();
  n.set_revision(it->second.revision() + 1);
  n.set_create_time_unix(it->second.create_time_unix());
  it->second = n;
  return n;
}

absl::Status MemoryStore::DeleteNode(absl::string_view name) {
  absl::MutexLock l(&node_mu_);
  if (nodes_.erase(std::string(name)) == 0) {
    return absl::NotFoundError(absl::StrCat("node '", name, "' not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MemoryStore::NextSpdRevision() {
  absl::MutexLock l(&node_mu_);
  return next_spd_revision_++;
}

absl::Status MemoryStore::WriteIntent(const IntentWrite& write) {
  absl::MutexLock policy_lock(&policy_mu_);
  absl::MutexLock node_lock(&node_mu_);
  std::map<std::string, v1::Policy> policies = policies_;
  std::map<std::string, v1::Node> nodes = nodes_;
  for (const v1::Policy& policy : write.put_policies) {
    v1::Policy p = policy;
    auto old = policies.find(p.name());
    p.set_revision(old == policies.end() ? 1 : old->second.revision() + 1);
    if (old != policies.end()) p.set_create_time_unix(old->second.create_time_unix());
    policies[p.name()] = std::move(p);
  }
  for (const std::string& name : write.delete_policies) {
    if (policies.erase(name) == 0) {
      return absl::NotFoundError(absl::StrCat("policy '", name, "' not found"));
    }
  }
  for (const v1::Node& node : write.put_nodes) {
    v1::Node n = node;
    n.clear_status();
    auto old = nodes.find(n.name());
    n.set_revision(old == nodes.end() ? 1 : old->second.revision() + 1);
    if (old != nodes.end()) n.set_create_time_unix(old->second.create_time_unix());
    nodes[n.name()] = std::move(n);
  }
  for (const std::string& name : write.delete_nodes) {
    if (nodes.erase(name) == 0) {
      return absl::NotFoundError(absl::StrCat("node '", name, "' not found"));
    }
  }
  policies_ = std::move(policies);
  nodes_ = std::move(nodes);
  return absl::OkStatus();
}

}  // namespace ikeless::storage
