// RunCommand against a scripted PolicyService on loopback, shared by
// run_test.cc (policies, associations, agents, watch) and run_nodes_test.cc
// (nodes, enrollment with sites). The service only replays what each test
// tells it and records the requests; it is a test double, not the
// controller.
#ifndef IKELESS_TOOLS_IPSECCTL_RUN_TEST_FIXTURE_H_
#define IKELESS_TOOLS_IPSECCTL_RUN_TEST_FIXTURE_H_

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "tools/ipsecctl/command.h"
#include "tools/ipsecctl/run.h"

namespace ikeless::ipsecctl::testing_fixture {

// Answers each call from fields a test sets, and records the requests.
class ScriptedService final : public v1::PolicyService::Service {
 public:
  absl::Mutex mu;
  grpc::Status status ABSL_GUARDED_BY(mu);  // returned by every call
  v1::Policy policy ABSL_GUARDED_BY(mu);    // GetPolicy's answer
  grpc::Status update_status ABSL_GUARDED_BY(mu);
  std::vector<v1::Event> events ABSL_GUARDED_BY(mu);
  bool hang ABSL_GUARDED_BY(mu) = false;  // ListAgents waits for the deadline
  std::vector<std::string> calls ABSL_GUARDED_BY(mu);
  v1::CreatePolicyRequest create ABSL_GUARDED_BY(mu);
  v1::UpdatePolicyRequest update ABSL_GUARDED_BY(mu);
  std::string name ABSL_GUARDED_BY(mu);  // of Get/Delete
  v1::ListAssociationsRequest list_associations ABSL_GUARDED_BY(mu);
  v1::GetAssociationRequest get_association ABSL_GUARDED_BY(mu);
  v1::Association association ABSL_GUARDED_BY(mu);  // GetAssociation's, with the id asked
  v1::DeleteAssociationRequest delete_association ABSL_GUARDED_BY(mu);
  grpc::Status delete_association_status ABSL_GUARDED_BY(mu);  // DeleteAssociation's
  v1::CreateEnrollmentTokenRequest enroll ABSL_GUARDED_BY(mu);
  // Nodes.
  v1::Node node ABSL_GUARDED_BY(mu);                // GetNode's answer
  std::vector<v1::Node> nodes ABSL_GUARDED_BY(mu);  // ListNodes's answer
  grpc::Status node_update_status ABSL_GUARDED_BY(mu);
  v1::DeleteNodeResponse node_deleted ABSL_GUARDED_BY(mu);  // DeleteNode's answer
  v1::CreateNodeRequest create_node ABSL_GUARDED_BY(mu);
  v1::UpdateNodeRequest update_node ABSL_GUARDED_BY(mu);
  v1::DeleteNodeRequest delete_node ABSL_GUARDED_BY(mu);

  grpc::Status CreatePolicy(grpc::ServerContext*, const v1::CreatePolicyRequest* request,
                            v1::Policy* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("CreatePolicy");
    create = *request;
    *response = request->policy();
    response->set_revision(1);
    return status;
  }
  grpc::Status GetPolicy(grpc::ServerContext*, const v1::GetPolicyRequest* request,
                         v1::Policy* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("GetPolicy");
    name = request->name();
    *response = policy;
    return status;
  }
  grpc::Status ListPolicies(grpc::ServerContext*, const v1::ListPoliciesRequest*,
                            v1::ListPoliciesResponse* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("ListPolicies");
    *response->add_policies() = policy;
    return status;
  }
  grpc::Status UpdatePolicy(grpc::ServerContext*, const v1::UpdatePolicyRequest* request,
                            v1::Policy* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("UpdatePolicy");
    update = *request;
    *response = request->policy();
    response->set_revision(request->expected_revision() + 1);
    return update_status;
  }
  grpc::Status DeletePolicy(grpc::ServerContext*, const v1::DeletePolicyRequest* request,
                            v1::DeletePolicyResponse*) override {
    absl::MutexLock lock(&mu);
    calls.push_back("DeletePolicy");
    name = request->name();
    return status;
  }
  grpc::Status ListAssociations(grpc::ServerContext*, const v1::ListAssociationsRequest* request,
                                v1::ListAssociationsResponse* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("ListAssociations");
    list_associations = *request;
    v1::Association* a = response->add_associations();
    a->set_id(42);
    a->set_state(v1::Association::HALF_OPEN);
    a->mutable_a()->set_address("198.18.1.1");
    a->mutable_a()->set_request_id(1001);
    a->mutable_a()->set_spi(5100);
    a->mutable_b()->set_address("198.18.2.1");
    a->set_policy_name("mesh");
    return status;
  }
  grpc::Status GetAssociation(grpc::ServerContext*, const v1::GetAssociationRequest* request,
                              v1::Association* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("GetAssociation");
    get_association = *request;
    *response = association;
    response->set_id(request->id());
    response->set_state(v1::Association::ESTABLISHED);
    return status;
  }
  grpc::Status DeleteAssociation(grpc::ServerContext*, const v1::DeleteAssociationRequest* request,
                                 v1::DeleteAssociationResponse* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("DeleteAssociation");
    delete_association = *request;
    *response->mutable_association() = association;
    response->mutable_association()->set_id(request->id());
    return delete_association_status;
  }
  grpc::Status ListAgents(grpc::ServerContext* context, const v1::ListAgentsRequest*,
                          v1::ListAgentsResponse* response) override {
    bool wait;
    {
      absl::MutexLock lock(&mu);
      calls.push_back("ListAgents");
      wait = hang;
    }
    while (wait && !context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    v1::Agent* agent = response->add_agents();
    agent->set_node_name("router-1");
    agent->set_connected(true);
    absl::MutexLock lock(&mu);
    return status;
  }
  grpc::Status WatchEvents(grpc::ServerContext*, const v1::WatchEventsRequest*,
                           grpc::ServerWriter<v1::Event>* writer) override {
    absl::MutexLock lock(&mu);
    calls.push_back("WatchEvents");
    for (const v1::Event& e : events) writer->Write(e);
    return status;
  }
  grpc::Status CreateEnrollmentToken(grpc::ServerContext*,
                                     const v1::CreateEnrollmentTokenRequest* request,
                                     v1::EnrollmentToken* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("CreateEnrollmentToken");
    enroll = *request;
    response->set_token("one-time-token");
    response->set_expire_time_unix(1800003600);
    return status;
  }
  grpc::Status CreateNode(grpc::ServerContext*, const v1::CreateNodeRequest* request,
                          v1::Node* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("CreateNode");
    create_node = *request;
    *response = request->node();
    response->set_revision(1);
    return status;
  }
  grpc::Status GetNode(grpc::ServerContext*, const v1::GetNodeRequest* request,
                       v1::Node* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("GetNode");
    name = request->name();
    *response = node;
    return status;
  }
  grpc::Status ListNodes(grpc::ServerContext*, const v1::ListNodesRequest*,
                         v1::ListNodesResponse* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("ListNodes");
    for (const v1::Node& n : nodes) *response->add_nodes() = n;
    return status;
  }
  grpc::Status UpdateNode(grpc::ServerContext*, const v1::UpdateNodeRequest* request,
                          v1::Node* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("UpdateNode");
    update_node = *request;
    *response = request->node();
    response->set_revision(request->expected_revision() + 1);
    return node_update_status;
  }
  grpc::Status DeleteNode(grpc::ServerContext*, const v1::DeleteNodeRequest* request,
                          v1::DeleteNodeResponse* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("DeleteNode");
    delete_node = *request;
    *response = node_deleted;
    return status;
  }
  // Plan / apply: answer `plan`, record the request.
  v1::IntentPlan plan ABSL_GUARDED_BY(mu);
  v1::ApplyIntentRequest apply ABSL_GUARDED_BY(mu);
  grpc::Status PlanIntent(grpc::ServerContext*, const v1::PlanIntentRequest* request,
                          v1::IntentPlan* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("PlanIntent");
    apply.Clear();
    *apply.mutable_intent() = request->intent();
    *response = plan;
    return status;
  }
  grpc::Status ApplyIntent(grpc::ServerContext*, const v1::ApplyIntentRequest* request,
                           v1::IntentPlan* response) override {
    absl::MutexLock lock(&mu);
    calls.push_back("ApplyIntent");
    apply = *request;
    *response = plan;
    return status;
  }
};

// Starts the scripted service on a loopback port for each test.
class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    address_ = absl::StrCat("127.0.0.1:", port);
  }

  void TearDown() override { server_->Shutdown(); }

  struct Result {
    int code;
    std::string out;
    std::string err;
  };

  // Runs a command line (words split on spaces) against `address`, as main
  // would: parse, then run.
  Result Run(absl::string_view line, const std::string& address) {
    std::vector<std::string> args = absl::StrSplit(line, ' ');
    args.insert(args.begin(), {"--controller", address});
    auto invocation = ParseInvocation(args, "");
    EXPECT_TRUE(invocation.ok()) << invocation.status();
    if (!invocation.ok()) return {kExitUsage, "", ""};
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = v1::PolicyService::NewStub(channel);
    std::ostringstream out, err;
    int code = RunCommand(*invocation, stub.get(), out, err);
    return {code, out.str(), err.str()};
  }
  Result Run(absl::string_view line) { return Run(line, address_); }

  ScriptedService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace ikeless::ipsecctl::testing_fixture

#endif  // IKELESS_TOOLS_IPSECCTL_RUN_TEST_FIXTURE_H_
