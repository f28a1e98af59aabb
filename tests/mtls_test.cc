// Mutual TLS with certificates from the controller's CA (controller/pki):
// identity comes from the certificate, never from the message.
//   - node A's certificate cannot open a session as B, nor claim B's
//     address, so it can neither request as B nor receive B's keys;
//   - no certificate, an expired one, or one from another CA: refused;
//   - a node certificate cannot call PolicyService; an admin can.
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "controller/controller_server.h"
#include "controller/pki/certificate_authority.h"
#include "controller/pki/identity.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "proto/agent.grpc.pb.h"
#include "tests/test_pki.h"

namespace ikeless {
namespace {

using testing_pki::Dir;
using testing_pki::Issue;
using testing_pki::Write;

constexpr char k2a[] = "198.18.1.1";
constexpr char k2b[] = "198.18.2.1";

class MtlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!ca_file_.empty()) return;  // made once for both fixtures
    auto ca = pki::CertificateAuthority::Init(Dir("ca"));
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_file_ = Dir("ca/ca.crt");
    using K = pki::CertificateKind;
    server_ = Issue(*ca, ca_file_, K::kServer, "controller", {}, {"ikeless-controller"});
    node_a_ = Issue(*ca, ca_file_, K::kNode, "gw-a", {k2a});
    node_b_ = Issue(*ca, ca_file_, K::kNode, "gw-b", {k2b});
    admin_ = Issue(*ca, ca_file_, K::kAdmin, "ops", {});
    // Issued two hours ago for one hour: expired now.
    FakeClock past(absl::Now() - absl::Hours(2));
    auto old_ca = pki::CertificateAuthority::Load(Dir("ca"), &past);
    ASSERT_TRUE(old_ca.ok()) << old_ca.status();
    expired_ = Issue(*old_ca, ca_file_, K::kNode, "gw-old", {k2a}, {}, absl::Hours(1));
    // A look-alike from another CA.
    auto rogue = pki::CertificateAuthority::Init(Dir("rogue-ca"));
    ASSERT_TRUE(rogue.ok());
    rogue_ = Issue(*rogue, ca_file_, K::kAdmin, "rogue", {});
  }

  void SetUp() override {
    controller::ControllerServer::Options o;
    o.listen = "127.0.0.1:0";
    o.database = ":memory:";
    o.tls = server_;
    o.revocation_file = Dir("revoked.txt");
    std::remove(o.revocation_file.c_str());
    auto s = controller::ControllerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
  }

  std::shared_ptr<grpc::Channel> Channel(const TlsFiles& files) {
    grpc::ChannelArguments args;
    auto creds = MakeChannelCredentials(files, &args);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return grpc::CreateCustomChannel(server->address(), *creds, args);
  }

  // Opens a session with `files`, sends a Hello, returns the stream's first
  // answer or its final status.
  struct SessionResult {
    bool welcomed = false;
    grpc::Status status;
  };
  SessionResult Hello(const TlsFiles& files, const std::string& node, const std::string& address) {
    auto stub = v1::AgentService::NewStub(Channel(files));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auto stream = stub->Session(&ctx);
    v1::AgentMessage m;
    m.mutable_hello()->set_node_name(node);
    m.mutable_hello()->add_addresses(address);
    stream->Write(m);
    v1::ControllerMessage reply;
    SessionResult r;
    r.welcomed = stream->Read(&reply) && reply.has_welcome();
    if (r.welcomed) {
      ctx.TryCancel();  // done; otherwise the controller ended the stream
    }
    r.status = stream->Finish();
    return r;
  }

  grpc::Status ListPolicies(const TlsFiles& files) {
    auto stub = v1::PolicyService::NewStub(Channel(files));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListPoliciesResponse resp;
    return stub->ListPolicies(&ctx, v1::ListPoliciesRequest(), &resp);
  }

  static std::string ca_file_;
  static TlsFiles server_, node_a_, node_b_, admin_, expired_, rogue_;
  std::unique_ptr<controller::ControllerServer> server;
};

std::string MtlsTest::ca_file_;
TlsFiles MtlsTest::server_, MtlsTest::node_a_, MtlsTest::node_b_, MtlsTest::admin_,
    MtlsTest::expired_, MtlsTest::rogue_;

TEST_F(MtlsTest, NodeSessionMatchesItsCertificate) {
  EXPECT_TRUE(Hello(node_a_, "gw-a", k2a).welcomed);
  SessionResult as_b = Hello(node_a_, "gw-b", k2b);
  EXPECT_FALSE(as_b.welcomed);
  EXPECT_EQ(as_b.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(as_b.status.error_message().find("hello.node_name"), std::string::npos);
  SessionResult b_address = Hello(node_a_, "gw-a", k2b);
  EXPECT_FALSE(b_address.welcomed);
  EXPECT_EQ(b_address.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(b_address.status.error_message().find("hello.addresses[0]"), std::string::npos);
  EXPECT_EQ(server->registry().FindByAddress(k2b), nullptr);
}

TEST_F(MtlsTest, AdminCertificateIsNotANode) {
  SessionResult r = Hello(admin_, "ops", k2a);
  EXPECT_FALSE(r.welcomed);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MtlsTest, PolicyServiceIsForAdminsOnly) {
  EXPECT_TRUE(ListPolicies(admin_).ok());
  grpc::Status s = ListPolicies(node_a_);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("gw-a"), std::string::npos);
}

TEST_F(MtlsTest, ClientsWithoutAValidCertificateAreRefused) {
  // No certificate at all: the handshake fails.
  grpc::SslCredentialsOptions no_cert;
  std::ifstream in(ca_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  no_cert.pem_root_certs = ss.str();
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("ikeless-controller");
  auto channel = grpc::CreateCustomChannel(server->address(), grpc::SslCredentials(no_cert), args);
  auto stub = v1::PolicyService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ListPoliciesResponse resp;
  EXPECT_FALSE(stub->ListPolicies(&ctx, v1::ListPoliciesRequest(), &resp).ok());
  // Expired, and from another CA.
  EXPECT_FALSE(ListPolicies(expired_).ok());
  EXPECT_FALSE(Hello(expired_, "gw-old", k2a).welcomed);
  EXPECT_FALSE(ListPolicies(rogue_).ok());
  // Plain text to a TLS controller.
  auto plain = v1::PolicyService::NewStub(
      grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_FALSE(plain->ListPolicies(&ctx2, v1::ListPoliciesRequest(), &resp).ok());
  EXPECT_EQ(server->registry().size(), 0u);
}

std::string SerialOf(const TlsFiles& files) {
  std::ifstream in(files.cert_file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto id = pki::ParsePeerIdentity(ss.str());
  EXPECT_TRUE(id.ok());
  return id.ok() ? id->serial_hex : "";
}

// What an independent TLS client (the openssl binary, outside this
// process's OpenSSL configuration) gets from the controller.
std::string Handshake(const std::string& address, const char* version) {
  std::string cmd = absl::StrCat("openssl s_client ", version, " -connect ", address,
                                 " </dev/null 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  return out;
}

TEST_F(MtlsTest, OnlyTls13IsSpoken) {
  std::string v13 = Handshake(server->address(), "-tls1_3");
  EXPECT_NE(v13.find("TLSv1.3"), std::string::npos) << v13;
  std::string v12 = Handshake(server->address(), "-tls1_2");
  EXPECT_NE(v12.find("Cipher is (NONE)"), std::string::npos) << v12;
  EXPECT_EQ(v12.find("TLSv1.2, Cipher"), std::string::npos) << v12;
}

TEST_F(MtlsTest, RevokedCertificateIsDisconnectedAtOnceAndRefused) {
  // gw-a holds an open session.
  auto stub = v1::AgentService::NewStub(Channel(node_a_));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->Session(&ctx);
  v1::AgentMessage hello;
  hello.mutable_hello()->set_node_name("gw-a");
  hello.mutable_hello()->add_addresses(k2a);
  ASSERT_TRUE(stream->Write(hello));
  v1::ControllerMessage m;
  ASSERT_TRUE(stream->Read(&m) && m.has_welcome());
  ASSERT_TRUE(stream->Read(&m) && m.has_spd_update());  // the SPD snapshot after Welcome
  // The operator lists its serial (and the admin's).
  std::ofstream(Dir("revoked.txt")) << "# stolen laptop\n" << SerialOf(node_a_) << "\n"
                                    << SerialOf(admin_) << "\n";
  absl::Time start = absl::Now();
  EXPECT_FALSE(stream->Read(&m));  // the controller ends the stream
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("revoked"), std::string::npos);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  for (int i = 0; i < 200 && server->registry().size() != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));  // OnDone runs after the status is sent
  }
  EXPECT_EQ(server->registry().size(), 0u);
  // And it cannot come back; the admin is refused too; others are not.
  SessionResult again = Hello(node_a_, "gw-a", k2a);
  EXPECT_FALSE(again.welcomed);
  EXPECT_EQ(again.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ListPolicies(admin_).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Hello(node_b_, "gw-b", k2b).welcomed);
}

// A stream outlives its handshake: when the certificate expires, the
// controller closes the session (checked every second).
TEST_F(MtlsTest, SessionEndsWhenItsCertificateExpires) {
  auto ca = pki::CertificateAuthority::Load(Dir("ca"));
  ASSERT_TRUE(ca.ok());
  TlsFiles brief = Issue(*ca, ca_file_, pki::CertificateKind::kNode, "gw-brief", {"198.18.4.1"},
                         {}, absl::Seconds(3));
  auto stub = v1::AgentService::NewStub(Channel(brief));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  auto stream = stub->Session(&ctx);
  v1::AgentMessage hello;
  hello.mutable_hello()->set_node_name("gw-brief");
  hello.mutable_hello()->add_addresses("198.18.4.1");
  ASSERT_TRUE(stream->Write(hello));
  v1::ControllerMessage m;
  ASSERT_TRUE(stream->Read(&m) && m.has_welcome());
  ASSERT_TRUE(stream->Read(&m) && m.has_spd_update());  // the SPD snapshot after Welcome
  EXPECT_FALSE(stream->Read(&m));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("expired"), std::string::npos);
}

// Revoking by name covers every certificate of the node, including one it
// renewed for itself with a stolen key.
TEST_F(MtlsTest, RevokingANodeByNameCoversAllItsCertificates) {
  EXPECT_TRUE(Hello(node_b_, "gw-b", k2b).welcomed);
  std::ofstream(Dir("revoked.txt")) << "node:gw-b\n";
  for (int i = 0; i < 300 && Hello(node_b_, "gw-b", k2b).welcomed; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  SessionResult r = Hello(node_b_, "gw-b", k2b);
  EXPECT_FALSE(r.welcomed);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Hello(node_a_, "gw-a", k2a).welcomed);
  std::remove(Dir("revoked.txt").c_str());
}

// With --ca_dir the controller enrolls nodes: an admin makes a one-time,
// expiring token; the node trades it (without a client certificate) for a
// certificate naming exactly the granted identity, then renews it with it.
class EnrollmentTest : public MtlsTest {
 protected:
  void SetUp() override {
    controller::ControllerServer::Options o;
    o.listen = "127.0.0.1:0";
    o.database = ":memory:";
    o.tls = server_;
    o.ca_dir = Dir("ca");
    auto s = controller::ControllerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
  }

  // TLS that checks the controller but shows no client certificate.
  std::shared_ptr<grpc::Channel> AnonymousChannel() {
    std::ifstream in(ca_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ss.str();
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("ikeless-controller");
    return grpc::CreateCustomChannel(server->address(), grpc::SslCredentials(o), args);
  }

  absl::StatusOr<std::string> Token(const TlsFiles& as, const std::string& node,
                                    const std::string& address, uint32_t ttl = 0) {
    auto stub = v1::PolicyService::NewStub(Channel(as));
    grpc::ClientContext ctx;
    v1::CreateEnrollmentTokenRequest req;
    req.set_node_name(node);
    req.add_addresses(address);
    req.set_ttl_seconds(ttl);
    v1::EnrollmentToken token;
    grpc::Status s = stub->CreateEnrollmentToken(&ctx, req, &token);
    if (!s.ok()) return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return token.token();
  }

  grpc::Status Enroll(const std::string& token, const std::string& csr, v1::EnrollResponse* out) {
    auto stub = v1::EnrollmentService::NewStub(AnonymousChannel());
    grpc::ClientContext ctx;
    v1::EnrollRequest req;
    req.set_token(token);
    req.set_csr_pem(csr);
    return stub->Enroll(&ctx, req, out);
  }
};

TEST_F(EnrollmentTest, TokenBuysExactlyOneCertificateForTheGrantedIdentity) {
  auto token = Token(admin_, "gw-c", "198.18.3.1");
  ASSERT_TRUE(token.ok()) << token.status();
  auto key = pki::GenerateKeyAndCsr("gw-c");
  ASSERT_TRUE(key.ok());
  v1::EnrollResponse enrolled;
  ASSERT_TRUE(Enroll(*token, key->csr_pem, &enrolled).ok());
  auto id = pki::ParsePeerIdentity(enrolled.certificate_pem());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->kind, pki::PeerKind::kNode);
  EXPECT_EQ(id->name, "gw-c");
  EXPECT_EQ(id->addresses, std::vector<std::string>{"198.18.3.1"});
  // Used tokens are refused.
  v1::EnrollResponse again;
  EXPECT_EQ(Enroll(*token, key->csr_pem, &again).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The new certificate opens a session for gw-c.
  TlsFiles c;
  c.ca_file = ca_file_;
  c.cert_file = Dir("gw-c.crt");
  c.key_file = Dir("gw-c.key");
  Write(c.cert_file, enrolled.certificate_pem());
  Write(c.key_file, key->private_key_pem.pem());
  EXPECT_TRUE(Hello(c, "gw-c", "198.18.3.1").welcomed);

  // Renewal with it keeps the identity (a fresh key, same name/addresses).
  auto fresh = pki::GenerateKeyAndCsr("gw-c");
  ASSERT_TRUE(fresh.ok());
  auto stub = v1::EnrollmentService::NewStub(Channel(c));
  grpc::ClientContext ctx;
  v1::RenewRequest renew;
  renew.set_csr_pem(fresh->csr_pem);
  v1::EnrollResponse renewed;
  ASSERT_TRUE(stub->Renew(&ctx, renew, &renewed).ok());
  auto rid = pki::ParsePeerIdentity(renewed.certificate_pem());
  ASSERT_TRUE(rid.ok());
  EXPECT_EQ(rid->name, "gw-c");
  EXPECT_EQ(rid->addresses, id->addresses);
  EXPECT_NE(rid->serial_hex, id->serial_hex);
}

TEST_F(EnrollmentTest, ExpiredTokensAndWrongCallersAreRefused) {
  auto token = Token(admin_, "gw-d", "198.18.3.2", /*ttl=*/1);
  ASSERT_TRUE(token.ok());
  absl::SleepFor(absl::Milliseconds(1100));
  auto key = pki::GenerateKeyAndCsr("gw-d");
  v1::EnrollResponse out;
  EXPECT_EQ(Enroll(*token, key->csr_pem, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Enroll("made-up-token", key->csr_pem, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A malformed CSR does not spend a good token.
  auto good = Token(admin_, "gw-f", "198.18.3.4");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(Enroll(*good, "not a csr", &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto fkey = pki::GenerateKeyAndCsr("gw-f");
  EXPECT_TRUE(Enroll(*good, fkey->csr_pem, &out).ok());
  // Only admins make tokens.
  EXPECT_EQ(Token(node_a_, "gw-e", "198.18.3.3").status().code(),
            absl::StatusCode::kPermissionDenied);
  // Client certificates are optional on the wire now, but nothing else is
  // open without one.
  auto admin = v1::PolicyService::NewStub(AnonymousChannel());
  grpc::ClientContext ctx;
  v1::ListPoliciesResponse list;
  EXPECT_EQ(admin->ListPolicies(&ctx, v1::ListPoliciesRequest(), &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto agent = v1::AgentService::NewStub(AnonymousChannel());
  grpc::ClientContext actx;
  auto stream = agent->Session(&actx);
  v1::AgentMessage hello;
  hello.mutable_hello()->set_node_name("gw-a");
  hello.mutable_hello()->add_addresses(k2a);
  stream->Write(hello);
  v1::ControllerMessage m;
  EXPECT_FALSE(stream->Read(&m));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace ikeless
