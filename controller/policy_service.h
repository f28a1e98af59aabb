#ifndef IKELESS_CONTROLLER_POLICY_SERVICE_H_
#define IKELESS_CONTROLLER_POLICY_SERVICE_H_

// PolicyService: the operator's API behind `ipsecctl`. Policy CRUD with
// validation (controller/policy_validation.h), read-only views of the
// association table and of agents, and a stream of events. It never returns
// key material.

#include "absl/functional/function_ref.h"
#include "common/clock.h"
#include "controller/association_reconciler.h"
#include "controller/dispatcher.h"
#include "controller/enrollment_tokens.h"
#include "controller/event_hub.h"
#include "controller/intent_service.h"
#include "controller/revocation_list.h"
#include "controller/session_registry.h"
#include "proto/admin.grpc.pb.h"
#include "storage/agent_store.h"
#include "storage/association_store.h"
#include "storage/policy_store.h"

namespace ikeless::controller {

class PolicyServiceImpl final : public v1::PolicyService::Service {
 public:
  PolicyServiceImpl(storage::PolicyStore* policies, storage::AssociationStore* associations,
                    storage::AgentStore* agents, SessionRegistry* registry, EventHub* events,
                    Clock* clock, bool require_client_certificates = false,
                    const RevocationList* revocations = nullptr);

  grpc::Status CreatePolicy(grpc::ServerContext*, const v1::CreatePolicyRequest*,
                            v1::Policy*) override;
  grpc::Status GetPolicy(grpc::ServerContext*, const v1::GetPolicyRequest*,
                         v1::Policy*) override;
  grpc::Status ListPolicies(grpc::ServerContext*, const v1::ListPoliciesRequest*,
                            v1::ListPoliciesResponse*) override;
  grpc::Status UpdatePolicy(grpc::ServerContext*, const v1::UpdatePolicyRequest*,
                            v1::Policy*) override;
  grpc::Status DeletePolicy(grpc::ServerContext*, const v1::DeletePolicyRequest*,
                            v1::DeletePolicyResponse*) override;
  grpc::Status ListAssociations(grpc::ServerContext*, const v1::ListAssociationsRequest*,
                                v1::ListAssociationsResponse*) override;
  grpc::Status GetAssociation(grpc::ServerContext*, const v1::GetAssociationRequest*,
                              v1::Association*) override;
  grpc::Status DeleteAssociation(grpc::ServerContext*, const v1::DeleteAssociationRequest*,
                                 v1::DeleteAssociationResponse*) override;
  grpc::Status ListAgents(grpc::ServerContext*, const v1::ListAgentsRequest*,
                          v1::ListAgentsResponse*) override;
  grpc::Status WatchEvents(grpc::ServerContext*, const v1::WatchEventsRequest*,
                           grpc::ServerWriter<v1::Event>*) override;
  grpc::Status CreateEnrollmentToken(grpc::ServerContext*, const v1::CreateEnrollmentTokenRequest*,
                                     v1::EnrollmentToken*) override;

  // Nodes (policy_service_nodes.cc).
  grpc::Status CreateNode(grpc::ServerContext*, const v1::CreateNodeRequest*, v1::Node*) override;
  grpc::Status GetNode(grpc::ServerContext*, const v1::GetNodeRequest*, v1::Node*) override;
  grpc::Status ListNodes(grpc::ServerContext*, const v1::ListNodesRequest*,
                         v1::ListNodesResponse*) override;
  grpc::Status UpdateNode(grpc::ServerContext*, const v1::UpdateNodeRequest*, v1::Node*) override;
  grpc::Status DeleteNode(grpc::ServerContext*, const v1::DeleteNodeRequest*,
                          v1::DeleteNodeResponse*) override;
  grpc::Status PlanIntent(grpc::ServerContext*, const v1::PlanIntentRequest*,
                          v1::IntentPlan*) override;
  grpc::Status ApplyIntent(grpc::ServerContext*, const v1::ApplyIntentRequest*,
                           v1::IntentPlan*) override;

  // Policy and node changes reach live associations and pushed SPDs
  // through it. Null: nodes are unavailable and changes reach only new
  // requests (tests of the policy store alone).
  void set_intent(IntentService* intent) { intent_ = intent; }

  // Enables DeleteAssociation: `deleter` decides, `dispatcher` tells the
  // nodes. Without them it is UNIMPLEMENTED.
  void set_association_deleter(AssociationReconciler* deleter, Dispatcher* dispatcher) {
    deleter_ = deleter;
    dispatcher_ = dispatcher;
  }

  // Enables CreateEnrollmentToken (the controller holds a CA).
  void set_enrollment_tokens(EnrollmentTokens* tokens) { tokens_ = tokens; }

 private:
  void Publish(v1::Event::Kind kind, const std::string& subject, const std::string& detail);
  // Runs one policy write; live associations and SPDs follow it, under the
  // intent service's lock when there is one.
  absl::Status WritePolicies(absl::FunctionRef<absl::Status()> write);
  // The agent record's view (datapath, version, last seen) in `node`'s
  // status, from `agents` (AgentRecords(): empty if the store fails).
  std::vector<storage::AgentRecord> AgentRecords();
  void AddAgentView(v1::Node* node, const std::vector<storage::AgentRecord>& agents);
  // Only admins (controller/authorization.h); checked on every call.
  grpc::Status Authorize(grpc::ServerContext* context) const;

  storage::PolicyStore* policies_;
  storage::AssociationStore* associations_;
  storage::AgentStore* agents_;
  SessionRegistry* registry_;
  EventHub* events_;
  Clock* clock_;
  bool require_client_certificates_;
  const RevocationList* revocations_;
  EnrollmentTokens* tokens_ = nullptr;
  IntentService* intent_ = nullptr;
  AssociationReconciler* deleter_ = nullptr;
  Dispatcher* dispatcher_ = nullptr;
};

// The operator's view of a row: everything but the keys.
v1::Association ToAssociation(const storage::AssociationRow& row);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_POLICY_SERVICE_H_
