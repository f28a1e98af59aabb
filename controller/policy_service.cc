#include "controller/policy_service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/address.h"
#include "common/log.h"
#include "common/secret.h"
#include "controller/grpc_status.h"
#include "controller/caller.h"
#include "controller/grpc_status.h"
#include "controller/policy_validation.h"

namespace ikeless::controller {
namespace {

int64_t UnixSeconds(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return 0;
  return absl::ToUnixSeconds(t);
}

void FillSide(const storage::AssociationSide& s, v1::AssociationSide* out) {
  out->set_address(s.address);
  out->set_request_id(s.request_id);
  out->set_spi(s.spi);
}

std::string Describe(const v1::Policy& p) {
  return absl::StrCat(p.a().address(), " <-> ", p.b().address(), " rev=", p.revision());
}

}  // namespace

v1::Association ToAssociation(const storage::AssociationRow& row) {
  v1::Association a;
  a.set_id(row.id);
  a.set_state(row.established() ? v1::Association::ESTABLISHED : v1::Association::HALF_OPEN);
  FillSide(row.a, a.mutable_a());
  FillSide(row.b, a.mutable_b());
  a.set_policy_name(row.policy.name());
  *a.mutable_selector() = row.selector;
  a.set_create_time_unix(UnixSeconds(row.create_time));
  a.set_establish_time_unix(UnixSeconds(row.establish_time));
  a.set_expire_time_unix(UnixSeconds(row.expire_time));
  a.set_startups_sent(row.startups_sent);
  a.set_a_prefix(row.a_prefix);
  a.set_b_prefix(row.b_prefix);
  return a;
}

PolicyServiceImpl::PolicyServiceImpl(storage::PolicyStore* policies,
                                     storage::AssociationStore* associations,
                                     storage::AgentStore* agents, SessionRegistry* registry,
                                     EventHub* events, Clock* clock,
                                     bool require_client_certificates,
                                     const RevocationList* revocations)
    : policies_(policies),
      associations_(associations),
      agents_(agents),
      registry_(registry),
      events_(events),
      clock_(clock),
      require_client_certificates_(require_client_certificates),
      revocations_(revocations) {}

grpc::Status PolicyServiceImpl::Authorize(grpc::ServerContext* context) const {
  auto caller = CallerOf(context->auth_context().get(), require_client_certificates_);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (absl::Status st = CheckStanding(*caller, revocations_, absl::Now()); !st.ok()) {
    return ToGrpc(st);
  }
  absl::Status s = AuthorizeAdmin(*caller);
  if (!s.ok()) {
    LogWarning("admin_call_refused").Kv("caller", caller->name).Kv("reason", s.message());
  }
  return ToGrpc(s);
}

void PolicyServiceImpl::Publish(v1::Event::Kind kind, const std::string& subject,
                                const std::string& detail) {
  v1::Event e;
  e.set_kind(kind);
  e.set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
  e.set_subject(subject);
  e.set_detail(detail);
  events_->Publish(e);
}

absl::Status PolicyServiceImpl::WritePolicies(absl::FunctionRef<absl::Status()> write) {
  // Through the intent service when there is one: the write and what
  // follows from it happen under its lock (IntentService::ChangePolicies).
  return intent_ != nullptr ? intent_->ChangePolicies(write) : write();
}

grpc::Status PolicyServiceImpl::CreatePolicy(grpc::ServerContext* context,
                                             const v1::CreatePolicyRequest* request,
                                             v1::Policy* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  v1::Policy p = request->policy();
  std::vector<std::string> warnings;
  if (absl::Status s = NormalizePolicy(&p, &warnings); !s.ok()) return ToGrpc(s);
  for (const std::string& w : warnings) LogWarning("legacy_algorithm").Kv("policy", p.name()).Kv("detail", w);
  const int64_t now = absl::ToUnixSeconds(clock_->Now());
  p.set_create_time_unix(now);
  p.set_update_time_unix(now);
  absl::StatusOr<v1::Policy> created;
  absl::Status s = WritePolicies([&] {
    created = policies_->CreatePolicy(p);
    if (created.ok()) {
      LogInfo("policy_created").Kv("policy", p.name()).Kv("match", Describe(*created));
      Publish(v1::Event::POLICY_CREATED, p.name(), Describe(*created));
    }
    return created.status();
  });
  if (!s.ok()) return ToGrpc(s);
  *response = *created;
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                                          v1::Policy* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (absl::Status s = ValidatePolicyName(request->name()); !s.ok()) return ToGrpc(s);
  auto p = policies_->GetPolicy(request->name());
  if (!p.ok()) return ToGrpc(p.status());
  *response = *p;
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest*,
                                             v1::ListPoliciesResponse* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  auto all = policies_->ListPolicies();
  if (!all.ok()) return ToGrpc(all.status());
  for (auto& p : *all) *response->add_policies() = std::move(p);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::UpdatePolicy(grpc::ServerContext* context,
                                             const v1::UpdatePolicyRequest* request,
                                             v1::Policy* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  v1::Policy p = request->policy();
  std::vector<std::string> warnings;
  if (absl::Status s = NormalizePolicy(&p, &warnings); !s.ok()) return ToGrpc(s);
  for (const std::string& w : warnings) LogWarning("legacy_algorithm").Kv("policy", p.name()).Kv("detail", w);
  p.set_update_time_unix(absl::ToUnixSeconds(clock_->Now()));
  // Rows already opened copied the old one (S22): PoliciesChanged() rekeys
  // them now where the SA parameters differ, or tears them down.
  absl::StatusOr<v1::Policy> updated;
  absl::Status s = WritePolicies([&] {
    updated = policies_->UpdatePolicy(p, request->expected_revision());
    if (updated.ok()) {
      LogInfo("policy_updated").Kv("policy", p.name()).Kv("match", Describe(*updated));
      Publish(v1::Event::POLICY_UPDATED, p.name(), Describe(*updated));
    }
    return updated.status();
  });
  if (!s.ok()) return ToGrpc(s);
  *response = *updated;
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::DeletePolicy(grpc::ServerContext* context,
                                             const v1::DeletePolicyRequest* request,
                                             v1::DeletePolicyResponse*) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (absl::Status s = ValidatePolicyName(request->name()); !s.ok()) return ToGrpc(s);
  absl::Status s = WritePolicies([&] {
    absl::Status d = policies_->DeletePolicy(request->name());
    if (d.ok()) {
      LogInfo("policy_deleted").Kv("policy", request->name());
      Publish(v1::Event::POLICY_DELETED, request->name(), "");
    }
    return d;
  });
  if (!s.ok()) return ToGrpc(s);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::ListAssociations(grpc::ServerContext* context,
                                                 const v1::ListAssociationsRequest* request,
                                                 v1::ListAssociationsResponse* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  std::string address;
  if (!request->address().empty()) {
    auto a = CanonicalAddress(request->address(), "address");
    if (!a.ok()) return ToGrpc(a.status());
    address = *a;
  }
  auto rows = associations_->ListAssociations(address);
  if (!rows.ok()) return ToGrpc(rows.status());
  for (const auto& row : *rows) *response->add_associations() = ToAssociation(row);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::GetAssociation(grpc::ServerContext* context,
                                               const v1::GetAssociationRequest* request,
                                               v1::Association* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (request->id() == 0) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "id: must not be 0");
  auto row = associations_->GetAssociation(request->id());
  if (!row.ok()) return ToGrpc(row.status());
  if (!row->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("association ", request->id(), " not found"));
  }
  *response = ToAssociation(**row);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::DeleteAssociation(grpc::ServerContext* context,
                                                  const v1::DeleteAssociationRequest* request,
                                                  v1::DeleteAssociationResponse* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (deleter_ == nullptr || dispatcher_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "association delete is not enabled");
  }
  if (request->id() == 0) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "id: must not be 0");
  auto caller = CallerOf(context->auth_context().get(), require_client_certificates_);
  const std::string by = caller.ok() && !caller->name.empty() ? caller->name : "operator";
  storage::AssociationRow row;
  auto out = deleter_->Delete(request->id(), absl::StrCat("operator ", by), &row);
  if (!out.ok()) return ToGrpc(out.status());
  dispatcher_->Deliver(*out);
  LogInfo("association_deleted")
      .Kv("association", request->id())
      .Kv("a", row.a.address)
      .Kv("b", row.b.address)
      .Kv("by", by);
  *response->mutable_association() = ToAssociation(row);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::ListAgents(grpc::ServerContext* context, const v1::ListAgentsRequest*,
                                           v1::ListAgentsResponse* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  auto agents = agents_->ListAgents();
  if (!agents.ok()) return ToGrpc(agents.status());
  for (const auto& record : *agents) {
    v1::Agent* a = response->add_agents();
    a->set_node_name(record.node_name);
    for (const auto& addr : record.addresses) a->add_addresses(addr);
    a->set_agent_version(record.agent_version);
    a->set_datapath(record.datapath);
    a->set_last_seen_unix(absl::ToUnixSeconds(record.last_seen));
    auto session = registry_->FindByNode(record.node_name);
    a->set_connected(session != nullptr);
    if (session != nullptr) a->set_last_seen_unix(absl::ToUnixSeconds(clock_->Now()));
  }
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::WatchEvents(grpc::ServerContext* context,
                                            const v1::WatchEventsRequest*,
                                            grpc::ServerWriter<v1::Event>* writer) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  auto subscription = events_->Subscribe();
  grpc::Status status = grpc::Status::OK;
  while (!context->IsCancelled()) {
    // A watch may run for days: the caller must still stand.
    if (grpc::Status a = Authorize(context); !a.ok()) {
      events_->Unsubscribe(subscription);
      return a;
    }
    for (const v1::Event& e : subscription->Next(absl::Milliseconds(200))) {
      if (!writer->Write(e)) {
        events_->Unsubscribe(subscription);
        return grpc::Status::OK;
      }
    }
  }
  events_->Unsubscribe(subscription);
  return status;
}

grpc::Status PolicyServiceImpl::CreateEnrollmentToken(
    grpc::ServerContext* context, const v1::CreateEnrollmentTokenRequest* request,
    v1::EnrollmentToken* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (tokens_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "enrollment is off: start the controller with --ca_dir");
  }
  if (!request->sites().empty()) {
    // The token names the node's sites too: record the node now, so its
    // SPD (and its peers') is ready when it first connects.
    if (intent_ == nullptr) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "sites: nodes are not enabled");
    }
    v1::Node node;
    node.set_name(request->node_name());
    *node.mutable_addresses() = request->addresses();
    *node.mutable_sites() = request->sites();
    auto existing = intent_->GetNode(node.name());
    auto stored = existing.ok() ? intent_->UpdateNode(node, existing->revision())
                                : intent_->CreateNode(node);
    if (!stored.ok()) return ToGrpc(stored.status());
  }
  EnrollmentTokens::Grant grant;
  grant.node_name = request->node_name();
  grant.addresses.assign(request->addresses().begin(), request->addresses().end());
  absl::Duration ttl = absl::Seconds(request->ttl_seconds() == 0 ? 3600 : request->ttl_seconds());
  auto made = tokens_->Create(grant, ttl);
  if (!made.ok()) return ToGrpc(made.status());
  response->set_token(made->first);
  response->set_expire_time_unix(absl::ToUnixSeconds(made->second));
  WipeString(&made->first);
  LogInfo("enrollment_token_created").Kv("node", request->node_name()).Kv(
      "expires", absl::FormatTime(made->second));
  return grpc::Status::OK;
}

}  // namespace ikeless::controller
