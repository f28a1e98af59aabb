#include "controller/intent_service.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "controller/node_validation.h"
#include "controller/policy_enforcer.h"

namespace ikeless::controller {

absl::Status IntentService::Load() {
  auto nodes = deps_.nodes->ListNodes();
  if (!nodes.ok()) return nodes.status();
  auto policies = deps_.policies->ListPolicies();
  if (!policies.ok()) return policies.status();
  absl::MutexLock l(&mu_);
  auto revision = NextRevision();
  if (!revision.ok()) return revision.status();
  const size_t count = nodes->size();
  publisher_.SetIntent(*std::move(nodes), *std::move(policies), *revision,
                       deps_.clock->Now());  // nobody is connected yet
  LogInfo("intent_loaded").Kv("nodes", static_cast<uint64_t>(count)).Kv("revision", *revision);
  return absl::OkStatus();
}

absl::Status IntentService::RefuseRevokedName(const std::string& name,
                                              const std::string& field) const {
  if (deps_.revocations == nullptr || !deps_.revocations->IsNameRevoked(name)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      field, ": the certificates of '", name,
      "' are revoked (the node was removed); choose another name, or delete the line node:", name,
      " from the revocation file if its old certificates may be used again"));
}

absl::StatusOr<uint64_t> IntentService::NextRevision() { return deps_.nodes->NextSpdRevision(); }

void IntentService::Carry(SpdPublisher::Output out) {
  int sent = 0;
  for (SpdPublisher::Push& p : out.pushes) {
    std::shared_ptr<AgentSession> s = deps_.registry->FindByNode(p.node);
    if (s != nullptr && s->Send(p.message)) ++sent;
  }
  if (!out.pushes.empty()) {
    LogInfo("spd_pushed").Kv("nodes", static_cast<int64_t>(out.pushes.size())).Kv("sent", sent);
  }
  deps_.events->Publish(out.events);
}

absl::StatusOr<Enforcement> IntentService::Enforce(const std::vector<v1::Policy>& policies,
                                                    const std::vector<std::string>& gone) {
  auto result = EnforcePolicies(*deps_.associations, policies,
                                std::set<std::string>(gone.begin(), gone.end()), *deps_.clock);
  if (!result.ok()) return result.status();
  if (result->torn_down + result->rekeyed > 0) {
    LogInfo("associations_enforced")
        .Kv("torn_down", static_cast<uint64_t>(result->torn_down))
        .Kv("rekeyed", static_cast<uint64_t>(result->rekeyed));
  }
  deps_.dispatcher->Deliver(result->out);
  return result;
}

absl::Status IntentService::PoliciesChanged() {
  absl::MutexLock l(&mu_);
  return PoliciesChangedLocked();
}

absl::Status IntentService::ChangePolicies(absl::FunctionRef<absl::Status()> write) {
  absl::MutexLock l(&mu_);
  if (absl::Status s = write(); !s.ok()) return s;
  if (absl::Status s = PoliciesChangedLocked(); !s.ok()) {
    LogError("policy_enforcement_failed").Kv("error", s.message());
  }
  return absl::OkStatus();
}

absl::Status IntentService::PoliciesChangedLocked() {
  auto policies = deps_.policies->ListPolicies();
  if (!policies.ok()) return policies.status();
  auto revision = NextRevision();
  if (!revision.ok()) return revision.status();
  // Teardowns first, before the SPDs are derived anew (at 1,000 nodes that
  // is 10^6 rules, seconds): "told within a second" is about the SAs; the
  // SPD deltas (fail closed) follow on the same streams.
  auto enforced = Enforce(*policies, {});
  Carry(publisher_.SetPolicies(*std::move(policies), *revision, deps_.clock->Now()));
  return enforced.status();
}

absl::StatusOr<v1::Node> IntentService::CreateNode(v1::Node node) {
  if (absl::Status s = NormalizeNode(&node); !s.ok()) return s;
  if (absl::Status s = RefuseRevokedName(node.name(), "node.name"); !s.ok()) return s;
  absl::MutexLock l(&mu_);
  if (absl::Status s = CheckAgainstFleet(node, publisher_.nodes()); !s.ok()) return s;
  const int64_t now = absl::ToUnixSeconds(deps_.clock->Now());
  node.set_create_time_unix(now);
  node.set_update_time_unix(now);
  auto created = deps_.nodes->CreateNode(node);
  if (!created.ok()) return created.status();
  auto revision = NextRevision();
  if (!revision.ok()) return revision.status();
  Carry(publisher_.PutNode(*created, *revision, deps_.clock->Now()));
  LogInfo("node_created").Kv("node", created->name()).Kv("sites", absl::StrJoin(created->sites(), ","));
  Publish(v1::Event::NODE_CREATED, created->name(),
          absl::StrCat(absl::StrJoin(created->addresses(), ","), " sites=",
                       absl::StrJoin(created->sites(), ",")));
  return WithStatus(*created);
}

absl::StatusOr<v1::Node> IntentService::UpdateNode(v1::Node node, uint64_t expected_revision) {
  if (absl::Status s = NormalizeNode(&node); !s.ok()) return s;
  absl::MutexLock l(&mu_);
  const v1::Node* old = publisher_.FindNode(node.name());
  if (old == nullptr) return absl::NotFoundError(absl::StrCat("node '", node.name(), "' not found"));
  if (absl::Status s = CheckAgainstFleet(node, publisher_.nodes()); !s.ok()) return s;
  std::vector<std::string> gone;  // addresses the node no longer has
  for (const std::string& a : old->addresses()) {
    if (std::find(node.addresses().begin(), node.addresses().end(), a) == node.addresses().end()) {
      gone.push_back(a);
    }
  }
  node.set_update_time_unix(absl::ToUnixSeconds(deps_.clock->Now()));
  auto updated = deps_.nodes->UpdateNode(node, expected_revision);
  if (!updated.ok()) return updated.status();
  auto revision = NextRevision();
  if (!revision.ok()) return revision.status();
  SpdPublisher::Output out = publisher_.PutNode(*updated, *revision, deps_.clock->Now());
  if (!gone.empty()) {
    auto e = Enforce(publisher_.policies(), gone);
    if (!e.ok()) LogError("enforce_failed").Kv("error", e.status().message());
  }
  Carry(std::move(out));
  LogInfo("node_updated").Kv("node", updated->name()).Kv("sites", absl::StrJoin(updated->sites(), ","));
  Publish(v1::Event::NODE_UPDATED, updated->name(),
          absl::StrCat("revision=", updated->revision(), " sites=",
                       absl::StrJoin(updated->sites(), ",")));
  return WithStatus(*updated);
}

absl::StatusOr<v1::DeleteNodeResponse> IntentService::DeleteNode(const std::string& name,
                                                                  bool keep_certificates) {
  absl::MutexLock l(&mu_);
  const v1::Node* old = publisher_.FindNode(name);
  if (old == nullptr) return absl::NotFoundError(absl::StrCat("node '", name, "' not found"));
  const std::vector<std::string> addresses(old->addresses().begin(), old->addresses().end());
  if (absl::Status s = deps_.nodes->DeleteNode(name); !s.ok()) return s;
  v1::DeleteNodeResponse response;
  if (!keep_certificates && deps_.revocations != nullptr) {
    // Its sessions close at the controller's next standing check (1 s).
    absl::Status r = deps_.revocations->RevokeName(name, "removed with ipsecctl nodes remove");
    if (!r.ok()) LogError("node_revoke_failed").Kv("node", name).Kv("error", r.message());
    response.set_certificates_revoked(r.ok());
  }
  auto revision = NextRevision();
  if (!revision.ok()) return revision.status();
  SpdPublisher::Output out = publisher_.RemoveNode(name, *revision, deps_.clock->Now());
  auto torn = Enforce(publisher_.policies(), addresses);
  if (!torn.ok()) LogError("enforce_failed").Kv("error", torn.status().message());
  response.set_associations_torn_down(torn.ok() ? torn->torn_down : 0);
  Carry(std::move(out));
  LogInfo("node_deleted").Kv("node", name).Kv("torn_down", response.associations_torn_down());
  Publish(v1::Event::NODE_DELETED, name,
          absl::StrCat("associations_torn_down=", response.associations_torn_down(),
                       response.certificates_revoked() ? " certificates revoked" : ""));
  return response;
}

absl::StatusOr<v1::Node> IntentService::GetNode(const std::string& name) {
  absl::MutexLock l(&mu_);
  const v1::Node* n = publisher_.FindNode(name);
  if (n == nullptr) return absl::NotFoundError(absl::StrCat("node '", name, "' not found"));
  return WithStatus(*n);
}

std::vector<v1::Node> IntentService::ListNodes() {
  absl::MutexLock l(&mu_);
  std::vector<v1::Node> out = publisher_.nodes();
  for (v1::Node& n : out) n = WithStatus(std::move(n));
  return out;
}

v1::Node IntentService::WithStatus(v1::Node node) const {
  if (auto s = publisher_.Status(node.name()); s.has_value()) *node.mutable_status() = *s;
  absl::MutexLock l(&reports_mu_);
  if (auto it = reports_.find(node.name()); it != reports_.end()) {
    v1::NodeStatus* s = node.mutable_status();
    *s->mutable_drops() = it->second.report.drops();
    *s->mutable_sas() = it->second.report.sas();
    s->set_sas_omitted(it->second.report.sas_omitted());
    s->set_report_time_unix(absl::ToUnixSeconds(it->second.time));
  }
  return node;
}

void IntentService::OnReport(const std::string& node, const v1::DatapathReport& report) {
  // Reports come from the network: keep at most two a second per node, and
  // only what an agent sends (bounded names and counts), whatever arrives.
  // An agent reports at most once a second, when something changed; its
  // timer wakes a little early or late, so a limit of exactly one second
  // dropped every other report when they came 0.98 s apart, and with it a
  // change the agent would not report again (spd_push_test's drops).
  const absl::Time accepted = deps_.clock->Monotonic();
  absl::MutexLock l(&reports_mu_);
  auto it = reports_.find(node);
  if (it != reports_.end() && accepted - it->second.accepted < absl::Milliseconds(500)) return;
  v1::DatapathReport kept;
  for (const auto& [reason, count] : report.drops()) {
    if (kept.drops_size() >= 64 || reason.empty() || reason.size() > 32 ||
        reason.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      continue;
    }
    (*kept.mutable_drops())[reason] = count;
  }
  for (const v1::SaReport& sa : report.sas()) {
    if (kept.sas_size() >= 1000) break;
    *kept.add_sas() = sa;
  }
  kept.set_sas_omitted(report.sas_omitted() + (report.sas_size() - kept.sas_size()));
  reports_[node] = {std::move(kept), deps_.clock->Now(), accepted};
}

void IntentService::OnConnected(const std::string& node) {
  absl::MutexLock l(&mu_);
  Carry(publisher_.Connected(node, deps_.clock->Now()));
}

void IntentService::OnDisconnected(const std::string& node) {
  {
    absl::MutexLock l(&reports_mu_);
    reports_.erase(node);  // counters of an agent that is gone would mislead
  }
  absl::MutexLock l(&mu_);
  publisher_.Disconnected(node);
}

void IntentService::OnAck(const std::string& node, const v1::SpdAck& ack) {
  absl::MutexLock l(&mu_);
  if (!ack.error().empty()) {
    LogWarning("spd_rejected").Kv("node", node).Kv("revision", ack.revision()).Kv("error", ack.error());
  }
  Carry(publisher_.Acknowledged(node, ack, deps_.clock->Now()));
}

void IntentService::Publish(v1::Event::Kind kind, const std::string& subject,
                            const std::string& detail) {
  v1::Event e;
  e.set_kind(kind);
  e.set_time_unix_micros(absl::ToUnixMicros(deps_.clock->Now()));
  e.set_subject(subject);
  e.set_detail(detail);
  deps_.events->Publish(e);
}

}  // namespace ikeless::controller
