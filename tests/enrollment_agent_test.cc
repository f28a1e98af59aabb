// The agent's side of enrollment against a real controller holding a CA:
// a token buys the node's key and certificate files; the stream client
// connects with them; renewal replaces them and the stream reconnects with
// the new certificate.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agent/enrollment.h"
#include "agent/stream_client.h"
#include "controller/controller_server.h"
#include "controller/pki/certificate_authority.h"
#include "controller/pki/identity.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"

namespace ikeless {
namespace {

std::string Dir(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TlsFiles IssueFiles(const pki::CertificateAuthority& ca, pki::CertificateKind kind,
                    const std::string& name, std::vector<std::string> dns = {}) {
  pki::CertificateRequest req;
  req.kind = kind;
  req.name = name;
  req.dns_names = std::move(dns);
  auto issued = ca.Issue(req);
  EXPECT_TRUE(issued.ok()) << issued.status();
  TlsFiles f{Dir("ca/ca.crt"), Dir(name + ".crt"), Dir(name + ".key")};
  std::ofstream(f.cert_file) << issued->certificate_pem;
  std::ofstream(f.key_file) << issued->private_key_pem.pem();
  return f;
}

TEST(AgentEnrollment, EnrollConnectRenewReconnect) {
  auto ca = pki::CertificateAuthority::Init(Dir("ca"));
  ASSERT_TRUE(ca.ok()) << ca.status();
  TlsFiles server = IssueFiles(*ca, pki::CertificateKind::kServer, "controller", {"ikeless-controller"});
  TlsFiles admin = IssueFiles(*ca, pki::CertificateKind::kAdmin, "ops");
  controller::ControllerServer::Options o;
  o.listen = "127.0.0.1:0";
  o.database = ":memory:";
  o.tls = server;
  o.ca_dir = Dir("ca");
  auto controller = controller::ControllerServer::Start(o);
  ASSERT_TRUE(controller.ok()) << controller.status();
  const std::string target = (*controller)->address();

  // The admin makes a token for gw-a.
  std::string token;
  {
    grpc::ChannelArguments args;
    auto creds = MakeChannelCredentials(admin, &args);
    ASSERT_TRUE(creds.ok());
    auto stub = v1::PolicyService::NewStub(grpc::CreateCustomChannel(target, *creds, args));
    grpc::ClientContext ctx;
    v1::CreateEnrollmentTokenRequest req;
    req.set_node_name("gw-a");
    req.add_addresses("198.18.0.1");
    v1::EnrollmentToken t;
    ASSERT_TRUE(stub->CreateEnrollmentToken(&ctx, req, &t).ok());
    token = t.token();
  }

  TlsFiles node{Dir("ca/ca.crt"), Dir("node/gw-a.crt"), Dir("node/gw-a.key")};
  std::filesystem::create_directories(Dir("node"));
  ASSERT_TRUE(agent::EnrollNode(target, node, "gw-a", token).ok());
  struct stat st;
  ASSERT_EQ(stat(node.key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A second enrollment neither overwrites nor succeeds.
  EXPECT_EQ(agent::EnrollNode(target, node, "gw-a", token).code(),
            absl::StatusCode::kAlreadyExists);
  auto first = pki::ParsePeerIdentity(Read(node.cert_file));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->name, "gw-a");

  std::atomic<int> connects{0};
  agent::StreamClient::Options so;
  so.target = target;
  so.tls = node;
  so.hello.set_node_name("gw-a");
  so.hello.add_addresses("198.18.0.1");
  so.min_backoff = absl::Milliseconds(50);
  agent::StreamClient::Handler h;
  h.on_connected = [&] { ++connects; };
  auto client = agent::StreamClient::Create(so, h, CryptoRandom::Get());
  ASSERT_TRUE(client.ok()) << client.status();
  (*client)->Start();
  auto wait = [](const std::function<bool()>& f) {
    for (int i = 0; i < 500 && !f(); ++i) absl::SleepFor(absl::Milliseconds(10));
    return f();
  };
  ASSERT_TRUE(wait([&] { return connects == 1; }));

  // Not due yet with the default threshold; due when asked to renew early.
  auto not_due = agent::RenewIfDue(target, node);
  ASSERT_TRUE(not_due.ok()) << not_due.status();
  EXPECT_FALSE(not_due->has_value());
  auto renewed = agent::RenewIfDue(target, node, /*renew_when_left=*/1.0);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  ASSERT_TRUE(renewed->has_value());
  auto second = pki::ParsePeerIdentity(Read(node.cert_file));
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->serial_hex, first->serial_hex);
  EXPECT_EQ(second->name, "gw-a");
  EXPECT_EQ(second->addresses, first->addresses);

  (*client)->Reconnect();
  ASSERT_TRUE(wait([&] { return connects == 2; }));
  EXPECT_TRUE(wait([&] { return (*controller)->registry().size() == 1; }));
  (*client)->Stop();
}

}  // namespace
}  // namespace ikeless
