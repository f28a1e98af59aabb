// RunCommand against a scripted PolicyService on loopback: what is sent,
// what is printed, and the one-line errors. The service here only replays
// what each test tells it; it is a test double, not the controller.
#include "tools/ipsecctl/run.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tools/ipsecctl/command.h"

namespace ikeless::ipsecctl {
namespace {

using google::protobuf::util::MessageDifferencer;

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
    response->set_id(request->id());
    response->set_state(v1::Association::ESTABLISHED);
    return status;
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
};

v1::Policy StoredPolicy() {
  v1::Policy p;
  p.set_name("web");
  p.mutable_a()->set_address("198.18.0.0/24");
  p.mutable_b()->set_address("*");
  p.set_mode(v1::MODE_TUNNEL);
  p.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  p.set_integrity(v1::INTEGRITY_NONE);
  p.mutable_lifetime()->set_hard_seconds(3600);
  p.mutable_lifetime()->set_soft_seconds(3000);
  p.set_priority(4);
  p.set_description("front ends");
  p.set_revision(7);
  p.set_create_time_unix(1800000000);
  p.set_update_time_unix(1800000100);
  return p;
}

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

TEST_F(RunTest, PolicyAddSendsTheOptionsAndPrintsTheCreatedPolicy) {
  Result r =
      Run("policy add web --between 198.18.0.0/24 * --encryption aes-cbc --integrity "
          "hmac-sha2-256-128 --selector tcp/443");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  absl::MutexLock lock(&service_.mu);
  const v1::Policy& sent = service_.create.policy();
  EXPECT_EQ(sent.name(), "web");
  EXPECT_EQ(sent.a().address(), "198.18.0.0/24");
  EXPECT_EQ(sent.b().address(), "*");
  EXPECT_EQ(sent.encryption(), v1::ENCRYPTION_AES_CBC);
  EXPECT_EQ(sent.selector().port(), 443u);
  EXPECT_EQ(sent.lifetime().hard_seconds(), 3600u);  // the default for add
  EXPECT_EQ(sent.mode(), v1::MODE_UNSPECIFIED);      // left to the controller
  EXPECT_NE(r.out.find("NAME                   web\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ENCRYPTION             aes-cbc\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REVISION               1\n"), std::string::npos) << r.out;
}

TEST_F(RunTest, PolicyUpdateChangesOnlyTheGivenOptionsAtTheRevisionRead) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.policy = StoredPolicy();
  }
  Result r = Run("-o json policy update web --lifetime 2h --description=");
  EXPECT_EQ(r.code, kExitOk) << r.err;

  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.calls, (std::vector<std::string>{"GetPolicy", "UpdatePolicy"}));
  EXPECT_EQ(service_.name, "web");
  EXPECT_EQ(service_.update.expected_revision(), 7u);
  v1::Policy expected = StoredPolicy();
  expected.mutable_lifetime()->set_hard_seconds(7200);
  expected.set_description("");
  expected.clear_revision();
  expected.clear_create_time_unix();
  expected.clear_update_time_unix();
  std::string diff;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(expected, service_.update.policy())) << diff;
  // The answer is printed as the JSON of the returned policy.
  v1::Policy printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &printed).ok()) << r.out;
  EXPECT_EQ(printed.revision(), 8u);
  EXPECT_EQ(printed.lifetime().hard_seconds(), 7200u);
}

TEST_F(RunTest, ConcurrentUpdateIsReportedAsAborted) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.policy = StoredPolicy();
    service_.update_status = grpc::Status(grpc::StatusCode::ABORTED, "policy web is at revision 8");
  }
  Result r = Run("policy update web --priority 1");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ipsecctl: policy update web: ABORTED: policy web is at revision 8 (revision 7 "
            "changed while updating; run the update again)\n");
}

TEST_F(RunTest, PolicyUpdateOfAMissingPolicyStopsAfterTheRead) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no policy named web");
  }
  Result r = Run("policy update web --priority 1");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "ipsecctl: policy update web: NOT_FOUND: no policy named web\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.calls, std::vector<std::string>{"GetPolicy"});
}

TEST_F(RunTest, ControllerRejectionIsOneLineWithTheCodeName) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "lifetime.soft_seconds must be below hard_seconds");
  }
  Result r = Run("policy add web --between * * --soft-lifetime 2h");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ipsecctl: policy add web: INVALID_ARGUMENT: lifetime.soft_seconds must be below "
            "hard_seconds\n");
}

TEST_F(RunTest, MultiLineServerMessageStaysOneLine) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.status = grpc::Status(grpc::StatusCode::INTERNAL, "first\nsecond\x1b[0m");
  }
  Result r = Run("policy list");
  EXPECT_EQ(r.err, "ipsecctl: policy list: INTERNAL: first second?[0m\n");
}

TEST_F(RunTest, UnreachableControllerNamesTheAddress) {
  // Nothing listens here any more.
  std::string address = address_;
  server_->Shutdown();
  Result r = Run("policy list", address);
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  std::string prefix =
      absl::StrCat("ipsecctl: policy list: UNAVAILABLE: controller at ", address, ": ");
  EXPECT_EQ(r.err.substr(0, prefix.size()), prefix) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(RunTest, SlowControllerHitsTheTimeout) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.hang = true;
  }
  Result r = Run("--timeout 0.2 agents list");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, absl::StrCat("ipsecctl: agents list: DEADLINE_EXCEEDED: controller at ",
                                address_, " did not answer within 200ms\n"));
}

TEST_F(RunTest, ListsPrintTheResponseObjectInJson) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.policy = StoredPolicy();
  }
  Result r = Run("policy list -o json");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  v1::ListPoliciesResponse printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &printed).ok()) << r.out;
  ASSERT_EQ(printed.policies_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(printed.policies(0), StoredPolicy()));
  EXPECT_NE(r.out.find("\"policies\""), std::string::npos);
}

TEST_F(RunTest, TablesForListsAndShow) {
  Result agents = Run("agents list");
  EXPECT_EQ(agents.code, kExitOk) << agents.err;
  EXPECT_EQ(agents.out.substr(0, agents.out.find('\n')),
            "NODE      ADDRESSES  CONNECTED  VERSION  DATAPATH  LAST-SEEN");
  Result assoc = Run("assoc list --address 198.18.1.1");
  EXPECT_EQ(assoc.code, kExitOk) << assoc.err;
  EXPECT_NE(assoc.out.find("42  half-open  198.18.1.1 id=1001 spi=0x000013ec (5100)  "
                           "198.18.2.1 id=- spi=-  mesh    -\n"),
            std::string::npos)
      << assoc.out;
  Result show = Run("assoc show 42");
  EXPECT_EQ(show.code, kExitOk) << show.err;
  EXPECT_EQ(show.out.substr(0, show.out.find('\n', show.out.find('\n') + 1) + 1),
            "ID             42\nSTATE          established\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.list_associations.address(), "198.18.1.1");
  EXPECT_EQ(service_.get_association.id(), 42u);
}

TEST_F(RunTest, DeletePrintsAConfirmationOrAnEmptyObject) {
  Result table = Run("policy delete web");
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_EQ(table.out, "policy web deleted\n");
  Result json = Run("-o json policy delete web");
  EXPECT_EQ(json.out, "{}\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.name, "web");
}

TEST_F(RunTest, WatchPrintsOneLinePerEvent) {
  {
    absl::MutexLock lock(&service_.mu);
    v1::Event e;
    e.set_kind(v1::Event::AGENT_CONNECTED);
    e.set_time_unix_micros(1800000000000000);
    e.set_subject("router-1");
    service_.events.push_back(e);
    e.set_kind(v1::Event::POLICY_DELETED);
    e.set_subject("web");
    service_.events.push_back(e);
  }
  Result table = Run("watch");
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_EQ(table.out,
            "2027-01-15T08:00:00.000000Z  agent-connected          router-1\n"
            "2027-01-15T08:00:00.000000Z  policy-deleted           web\n");

  Result json = Run("watch -o json");
  EXPECT_EQ(json.code, kExitOk) << json.err;
  std::vector<std::string> lines = absl::StrSplit(json.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << json.out;
  for (const std::string& line : lines) {
    v1::Event parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok()) << line;
  }
}

TEST_F(RunTest, WatchEndedByTheControllerWithAnErrorFails) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.events.emplace_back();
    service_.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller shutting down");
  }
  Result r = Run("watch");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  EXPECT_EQ(r.err, absl::StrCat("ipsecctl: watch: UNAVAILABLE: controller at ", address_,
                                ": controller shutting down\n"));
}

}  // namespace
}  // namespace ikeless::ipsecctl
