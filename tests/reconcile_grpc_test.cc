// Issue #12 over real gRPC on loopback, in one process: a Hello's report
// reconciled with the table (a restarted node's rows retired and its peer
// told; a reconnected node's rows kept), the pending RequestStartup sent
// the moment its node says Hello, `DeleteAssociation`, and the report's
// bound.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/controller_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "tests/scripted_agent.h"

namespace ikeless {
namespace {

using testing::ScriptedAgent;

constexpr char kA[] = "198.18.1.1";
constexpr char kB[] = "198.18.2.1";

class ReconcileGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    controller::ControllerServer::Options o;
    o.listen = "127.0.0.1:0";
    o.database = ":memory:";
    // S23's own repetition is far off: whatever arrives sooner was pushed.
    o.processor.startup_interval = absl::Seconds(30);
    auto s = controller::ControllerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    admin_ = v1::PolicyService::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    v1::CreatePolicyRequest req;
    req.mutable_policy()->set_name("a-b");
    req.mutable_policy()->mutable_a()->set_address(kA);
    req.mutable_policy()->mutable_b()->set_address(kB);
    req.mutable_policy()->mutable_lifetime()->set_hard_seconds(3600);
    grpc::ClientContext ctx;
    v1::Policy created;
    ASSERT_TRUE(admin_->CreatePolicy(&ctx, req, &created).ok());
  }

  // Hello with a report (`reconcile`), then the Welcome.
  std::unique_ptr<ScriptedAgent> Connect(const std::string& node, const std::string& address,
                                         bool reconcile, std::vector<uint64_t> installed = {}) {
    auto agent = std::make_unique<ScriptedAgent>(server_->address());
    v1::AgentMessage m;
    v1::Hello* h = m.mutable_hello();
    h->set_node_name(node);
    h->add_addresses(address);
    h->set_reconcile(reconcile);
    for (uint64_t id : installed) h->add_installed_associations(id);
    EXPECT_TRUE(agent->Send(m));
    auto welcome = agent->Next();
    EXPECT_TRUE(welcome.has_value() && welcome->has_welcome());
    return agent;
  }

  // Establishes one row between A and B; returns its id.
  uint64_t Establish(ScriptedAgent& a, ScriptedAgent& b) {
    EXPECT_TRUE(a.Request(1001, kA, kB, 5100));
    auto startup = b.Next();
    EXPECT_TRUE(startup.has_value() && startup->has_startup());
    EXPECT_TRUE(b.Request(2001, kB, kA, 6100));
    auto da = a.Next();
    auto db = NotStartup(b);
    EXPECT_TRUE(da.has_value() && da->has_distribution());
    EXPECT_TRUE(db.has_value() && db->has_distribution());
    return da.has_value() ? da->distribution().association_id() : 0;
  }

  // The next message that is not a RequestStartup (a test that only
  // cares about what follows).
  static std::optional<v1::ControllerMessage> NotStartup(ScriptedAgent& agent) {
    for (;;) {
      auto m = agent.Next();
      if (!m.has_value() || !m->has_startup()) return m;
    }
  }

  std::vector<v1::Association> Rows() {
    grpc::ClientContext ctx;
    v1::ListAssociationsResponse list;
    EXPECT_TRUE(admin_->ListAssociations(&ctx, v1::ListAssociationsRequest(), &list).ok());
    return {list.associations().begin(), list.associations().end()};
  }

  std::unique_ptr<controller::ControllerServer> server_;
  std::unique_ptr<v1::PolicyService::Stub> admin_;
};

TEST_F(ReconcileGrpcTest, PendingStartupIsSentTheMomentThePeerSaysHello) {
  auto a = Connect("gw-a", kA, true);
  ASSERT_TRUE(a->Request(1001, kA, kB, 5100));  // gw-b is not connected: the startup is lost
  // The request is written, not yet handled (slow under ASan): wait for its row.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (Rows().empty() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(Rows().size(), 1u);
  const absl::Time hello = absl::Now();
  auto b = Connect("gw-b", kB, true);
  auto startup = b->Next(absl::Seconds(5));
  ASSERT_TRUE(startup.has_value() && startup->has_startup());
  EXPECT_LT(absl::Now() - hello, absl::Seconds(5));  // not the 30 s repetition
  EXPECT_EQ(startup->startup().peer(), kA);
  EXPECT_EQ(startup->startup().local(), kB);
  // Not counted as one of S24's attempts.
  EXPECT_EQ(Rows()[0].startups_sent(), 1u);
  ASSERT_TRUE(b->Request(2001, kB, kA, 6100));
  auto da = a->Next();
  ASSERT_TRUE(da.has_value() && da->has_distribution());
}

TEST_F(ReconcileGrpcTest, ReconnectKeepsRowsRestartRetiresThemAndTellsThePeer) {
  auto a = Connect("gw-a", kA, true);
  auto b = Connect("gw-b", kB, true);
  const uint64_t id = Establish(*a, *b);
  ASSERT_NE(id, 0u);
  // gw-a reconnects (a newer stream replaces the old) and reports the SA.
  auto a2 = Connect("gw-a", kA, true, {id});
  auto quiet = b->Next(absl::Milliseconds(300));
  EXPECT_FALSE(quiet.has_value() && !quiet->has_startup());
  ASSERT_EQ(Rows().size(), 1u);
  // gw-a restarts: its new process has nothing.
  auto a3 = Connect("gw-a", kA, true);
  auto teardown = NotStartup(*b);
  ASSERT_TRUE(teardown.has_value() && teardown->has_teardown());
  ASSERT_EQ(teardown->teardown().association_ids_size(), 1);
  EXPECT_EQ(teardown->teardown().association_ids(0), id);
  EXPECT_TRUE(Rows().empty());
  // gw-b still had the SAs of the row: reconnecting, it is told to drop
  // them should it not have done so.
  auto b2 = Connect("gw-b", kB, true, {id});
  auto own = b2->Next();
  ASSERT_TRUE(own.has_value() && own->has_teardown());
  EXPECT_EQ(own->teardown().association_ids(0), id);
}

TEST_F(ReconcileGrpcTest, AnAgentWithoutAReportLosesNothing) {
  auto a = Connect("gw-a", kA, true);
  auto b = Connect("gw-b", kB, true);
  Establish(*a, *b);
  auto old = Connect("gw-a", kA, /*reconcile=*/false);
  auto quiet = b->Next(absl::Milliseconds(300));
  EXPECT_FALSE(quiet.has_value() && !quiet->has_startup());
  EXPECT_EQ(Rows().size(), 1u);
}

TEST_F(ReconcileGrpcTest, DeleteAssociationTellsBothSidesThenNotFound) {
  auto a = Connect("gw-a", kA, true);
  auto b = Connect("gw-b", kB, true);
  const uint64_t id = Establish(*a, *b);
  v1::DeleteAssociationRequest req;
  req.set_id(id);
  {
    grpc::ClientContext ctx;
    v1::DeleteAssociationResponse resp;
    grpc::Status s = admin_->DeleteAssociation(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.association().id(), id);
    EXPECT_EQ(resp.association().a().address(), kA);
    EXPECT_EQ(resp.SerializeAsString().find("key"), std::string::npos);
  }
  for (ScriptedAgent* agent : {a.get(), b.get()}) {
    auto t = NotStartup(*agent);
    ASSERT_TRUE(t.has_value() && t->has_teardown());
    EXPECT_EQ(t->teardown().association_ids(0), id);
  }
  EXPECT_TRUE(Rows().empty());
  grpc::ClientContext ctx;
  v1::DeleteAssociationResponse resp;
  grpc::Status s = admin_->DeleteAssociation(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), absl::StrCat("association ", id, " not found"));
}

TEST_F(ReconcileGrpcTest, OversizedReportEndsTheStreamNamingTheField) {
  ScriptedAgent agent(server_->address());
  v1::AgentMessage m;
  m.mutable_hello()->set_node_name("gw-a");
  m.mutable_hello()->add_addresses(kA);
  m.mutable_hello()->set_reconcile(true);
  for (uint64_t i = 1; i <= 4097; ++i) m.mutable_hello()->add_installed_associations(i);
  agent.Send(m);
  grpc::Status s = agent.AwaitEnd();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("hello.installed_associations"), std::string::npos);
  EXPECT_EQ(server_->registry().size(), 0u);
}

}  // namespace
}  // namespace ikeless
