// ipsecctl against a controller speaking mutual TLS (issue #11, point 6):
// the controller certificate's name can be given (--tls-server-name), and a
// refused handshake says what to check instead of only "Socket closed".
#include <sstream>

#include "controller/controller_server.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"
#include "tools/ipsecctl/command.h"
#include "tools/ipsecctl/dial.h"
#include "tools/ipsecctl/run.h"

namespace ikeless {
namespace {

using testing_pki::Dir;
using testing_pki::Issue;

class IpsecctlTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto ca = pki::CertificateAuthority::Init(Dir("ca"));
    ASSERT_TRUE(ca.ok()) << ca.status();
    using K = pki::CertificateKind;
    const std::string ca_file = Dir("ca/ca.crt");
    server_files_ = Issue(*ca, ca_file, K::kServer, "controller", {},
                          {"ikeless-controller", "ctl.example"});
    admin_ = Issue(*ca, ca_file, K::kAdmin, "ops", {});
    ASSERT_TRUE(pki::CertificateAuthority::Init(Dir("rogue-ca")).ok());
  }

  void SetUp() override {
    controller::ControllerServer::Options o;
    o.listen = "127.0.0.1:0";
    o.database = ":memory:";
    o.tls = server_files_;
    o.revocation_file = Dir("revoked.txt");
    auto s = controller::ControllerServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }

  // Runs `ipsecctl --controller ADDR --tls-* ... ARGS policy list` as main
  // does; returns the exit code, the error output in *err.
  int Run(std::vector<std::string> args, std::string* err) {
    std::vector<std::string> line = {"--controller", server_->address(), "--timeout", "3",
                                     "--tls-cert", admin_.cert_file, "--tls-key", admin_.key_file};
    line.insert(line.end(), args.begin(), args.end());
    line.insert(line.end(), {"policy", "list"});
    auto invocation = ipsecctl::ParseInvocation(line, "");
    EXPECT_TRUE(invocation.ok()) << invocation.status();
    auto channel = ipsecctl::DialController(invocation->global);
    EXPECT_TRUE(channel.ok()) << channel.status();
    auto stub = v1::PolicyService::NewStub(*channel);
    std::ostringstream out, error;
    int code = ipsecctl::RunCommand(*invocation, stub.get(), out, error);
    *err = error.str();
    return code;
  }

  static TlsFiles server_files_, admin_;
  std::unique_ptr<controller::ControllerServer> server_;
};

TlsFiles IpsecctlTlsTest::server_files_, IpsecctlTlsTest::admin_;

TEST_F(IpsecctlTlsTest, ServerNameCanBeGiven) {
  std::string err;
  EXPECT_EQ(Run({"--tls-ca", Dir("ca/ca.crt")}, &err), 0) << err;
  EXPECT_EQ(Run({"--tls-ca", Dir("ca/ca.crt"), "--tls-server-name", "ctl.example"}, &err), 0)
      << err;
  EXPECT_NE(Run({"--tls-ca", Dir("ca/ca.crt"), "--tls-server-name", "other.example"}, &err), 0);
  EXPECT_NE(err.find("UNAVAILABLE"), std::string::npos) << err;
  EXPECT_NE(err.find("'other.example'"), std::string::npos) << err;
  EXPECT_NE(err.find("--tls-server-name"), std::string::npos) << err;
}

TEST_F(IpsecctlTlsTest, RefusedHandshakeSaysWhatToCheck) {
  std::string err;
  EXPECT_NE(Run({"--tls-ca", Dir("rogue-ca/ca.crt")}, &err), 0);
  EXPECT_NE(err.find("--tls-ca"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
}

}  // namespace
}  // namespace ikeless
