// PolicyService's node and intent RPCs: thin over IntentService, which
// validates, stores and carries a change out to associations and pushed
// SPDs.
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "controller/grpc_status.h"
#include "controller/policy_service.h"
#include "controller/pki/names.h"

namespace ikeless::controller {
namespace {

grpc::Status NodesOff() {
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "nodes are not enabled on this controller");
}

}  // namespace

std::vector<storage::AgentRecord> PolicyServiceImpl::AgentRecords() {
  auto agents = agents_->ListAgents();
  return agents.ok() ? *std::move(agents) : std::vector<storage::AgentRecord>();
}

void PolicyServiceImpl::AddAgentView(v1::Node* node,
                                     const std::vector<storage::AgentRecord>& agents) {
  for (const storage::AgentRecord& r : agents) {
    if (r.node_name != node->name()) continue;
    v1::NodeStatus* s = node->mutable_status();
    s->set_datapath(r.datapath);
    s->set_agent_version(r.agent_version);
    s->set_last_seen_unix(s->connected() ? absl::ToUnixSeconds(clock_->Now())
                                         : absl::ToUnixSeconds(r.last_seen));
  }
}

grpc::Status PolicyServiceImpl::CreateNode(grpc::ServerContext* context,
                                           const v1::CreateNodeRequest* request,
                                           v1::Node* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (intent_ == nullptr) return NodesOff();
  auto created = intent_->CreateNode(request->node());
  if (!created.ok()) return ToGrpc(created.status());
  *response = *created;
  AddAgentView(response, AgentRecords());
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::GetNode(grpc::ServerContext* context,
                                        const v1::GetNodeRequest* request, v1::Node* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (intent_ == nullptr) return NodesOff();
  if (absl::Status s = pki::ValidateIdentityName(request->name(), "name"); !s.ok()) return ToGrpc(s);
  auto node = intent_->GetNode(request->name());
  if (!node.ok()) return ToGrpc(node.status());
  *response = *node;
  AddAgentView(response, AgentRecords());
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::ListNodes(grpc::ServerContext* context,
                                          const v1::ListNodesRequest*,
                                          v1::ListNodesResponse* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (intent_ == nullptr) return NodesOff();
  // One read of the agent records for the whole list, not one per node.
  const std::vector<storage::AgentRecord> agents = AgentRecords();
  for (v1::Node& n : intent_->ListNodes()) {
    AddAgentView(&n, agents);
    // Per-SA counters only in GetNode: a fleet's would not fit one answer.
    if (n.has_status()) n.mutable_status()->clear_sas();
    *response->add_nodes() = std::move(n);
  }
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::UpdateNode(grpc::ServerContext* context,
                                           const v1::UpdateNodeRequest* request,
                                           v1::Node* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (intent_ == nullptr) return NodesOff();
  auto updated = intent_->UpdateNode(request->node(), request->expected_revision());
  if (!updated.ok()) return ToGrpc(updated.status());
  *response = *updated;
  AddAgentView(response, AgentRecords());
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::DeleteNode(grpc::ServerContext* context,
                                           const v1::DeleteNodeRequest* request,
                                           v1::DeleteNodeResponse* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (intent_ == nullptr) return NodesOff();
  if (absl::Status s = pki::ValidateIdentityName(request->name(), "name"); !s.ok()) return ToGrpc(s);
  auto deleted = intent_->DeleteNode(request->name(), request->keep_certificates());
  if (!deleted.ok()) return ToGrpc(deleted.status());
  *response = *deleted;
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::PlanIntent(grpc::ServerContext* context,
                                           const v1::PlanIntentRequest* request,
                                           v1::IntentPlan* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (intent_ == nullptr) return NodesOff();
  auto plan = intent_->PlanIntent(request->intent());
  if (!plan.ok()) return ToGrpc(plan.status());
  *response = *std::move(plan);
  return grpc::Status::OK;
}

grpc::Status PolicyServiceImpl::ApplyIntent(grpc::ServerContext* context,
                                            const v1::ApplyIntentRequest* request,
                                            v1::IntentPlan* response) {
  if (grpc::Status a = Authorize(context); !a.ok()) return a;
  if (intent_ == nullptr) return NodesOff();
  auto plan = intent_->ApplyIntent(request->intent(), request->expected_state());
  if (!plan.ok()) return ToGrpc(plan.status());
  *response = *std::move(plan);
  return grpc::Status::OK;
}

}  // namespace ikeless::controller
