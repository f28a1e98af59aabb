// Secrets never appear in logs: a real controller and two agent cores (over
// real gRPC streams, fake datapaths) set up an SA pair at debug log level
// while stderr goes to a file; then the file is searched for every key and
// salt that was distributed, raw, in hex and in base64.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agent/agent_core.h"
#include "agent/fake_datapath.h"
#include "agent/stream_client.h"
#include "common/log.h"
#include "controller/controller_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"

namespace ikeless {
namespace {

using agent::AgentCore;
using agent::FakeDatapath;

// One node: agent core + fake datapath + stream client.
struct Node {
  Node(const std::string& target, const std::string& name, const std::string& self,
       const std::string& peer, const std::string& local_net, const std::string& remote_net) {
    datapath::SpdEntry e;
    e.id = 1;
    e.name = "site";
    e.local_prefix = local_net;
    e.remote_prefix = remote_net;
    e.setup_peer = peer;
    e.local_address = self;
    agent::StreamClient::Options so;
    so.target = target;
    so.hello.set_node_name(name);
    so.hello.add_addresses(self);
    agent::StreamClient::Handler h;
    h.on_connected = [this] { core->OnConnected(); };
    h.on_message = [this](const v1::ControllerMessage& m) { core->OnControllerMessage(m); };
    client = std::move(*agent::StreamClient::Create(so, h, CryptoRandom::Get()));
    core = std::make_unique<AgentCore>(AgentCore::Options(), std::vector<datapath::SpdEntry>{e},
                                       &dp, client.get(), SystemClock::Get(),
                                       CryptoRandom::Get());
    EXPECT_TRUE(core->Start().ok());
    client->Start();
  }
  ~Node() { client->Stop(); }

  FakeDatapath dp;
  std::unique_ptr<agent::StreamClient> client;
  std::unique_ptr<AgentCore> core;
};

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 1000 && !done(); ++i) absl::SleepFor(absl::Milliseconds(10));
  return done();
}

TEST(NoKeysInLogs, ControllerAndAgentsLogNoKeyMaterial) {
  const std::string log_path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/stderr.log");
  int saved = dup(STDERR_FILENO);
  int fd = open(log_path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  dup2(fd, STDERR_FILENO);
  SetMinLogLevel(LogLevel::kDebug);

  std::vector<std::string> secrets;
  {
    controller::ControllerServer::Options o;
    o.listen = "127.0.0.1:0";
    o.database = ":memory:";
    auto server = controller::ControllerServer::Start(o);
    ASSERT_TRUE(server.ok());
    {
      auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
      auto admin = v1::PolicyService::NewStub(channel);
      v1::CreatePolicyRequest req;
      req.mutable_policy()->set_name("a-b");
      req.mutable_policy()->mutable_a()->set_address("198.18.0.1");
      req.mutable_policy()->mutable_b()->set_address("198.18.0.2");
      req.mutable_policy()->set_encryption(v1::ENCRYPTION_AES_CBC);
      req.mutable_policy()->mutable_lifetime()->set_hard_seconds(3600);
      grpc::ClientContext ctx;
      v1::Policy out;
      ASSERT_TRUE(admin->CreatePolicy(&ctx, req, &out).ok());
    }
    Node a((*server)->address(), "gw-a", "198.18.0.1", "198.18.0.2", "198.18.10.0/24",
           "198.18.20.0/24");
    Node b((*server)->address(), "gw-b", "198.18.0.2", "198.18.0.1", "198.18.20.0/24",
           "198.18.10.0/24");
    ASSERT_TRUE(WaitFor([&] { return (*server)->registry().size() == 2; }));
    datapath::DatapathEvent acquire;
    acquire.kind = datapath::DatapathEvent::Kind::kAcquire;
    acquire.spd_entry = 1;
    a.dp.Raise(acquire);
    // Each node: its inbound and outbound SA and the inbound successors
    // installed ahead (DECISIONS 33), one per default successor key.
    const size_t sas = 2 + static_cast<size_t>(agent::SetupClient::Options().successor_keys);
    ASSERT_TRUE(
        WaitFor([&] { return a.dp.installed_count() == sas && b.dp.installed_count() == sas; }));
    for (Node* n : {&a, &b}) {
      for (const FakeDatapath::Call& c : n->dp.calls()) {
        if (c.kind != FakeDatapath::Call::Kind::kInstall) continue;
        auto sa = n->dp.Installed(c.direction, c.spi);
        ASSERT_TRUE(sa.has_value());
        secrets.push_back(sa->encryption_key());
        secrets.push_back(sa->integrity_key());
      }
    }
  }
  fsync(STDERR_FILENO);
  dup2(saved, STDERR_FILENO);
  close(fd);
  close(saved);
  SetMinLogLevel(LogLevel::kInfo);

  std::ifstream in(log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string logs = ss.str();
  EXPECT_NE(logs.find("association_established"), std::string::npos) << "nothing was logged";
  EXPECT_NE(logs.find("setup_done"), std::string::npos) << "agents logged nothing";
  // 2 nodes x their SAs x (cipher key, HMAC key).
  ASSERT_EQ(secrets.size(), 2 * 2 * (2 + static_cast<size_t>(agent::SetupClient::Options().successor_keys)));
  for (const std::string& k : secrets) {
    ASSERT_GE(k.size(), 16u);
    EXPECT_EQ(logs.find(k), std::string::npos) << "raw key in logs";
    std::string hex = absl::BytesToHexString(k);
    EXPECT_EQ(logs.find(hex), std::string::npos) << "hex key in logs";
    EXPECT_EQ(logs.find(absl::AsciiStrToUpper(hex)), std::string::npos) << "HEX key in logs";
    EXPECT_EQ(logs.find(absl::Base64Escape(k)), std::string::npos) << "base64 key in logs";
  }
}

}  // namespace
}  // namespace ikeless
