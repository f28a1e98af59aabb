#include "tools/ikeless-ca/run.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "controller/pki/identity.h"
#include "controller/pki/pki_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::ikeless_ca {
namespace {

using pki::test_util::FileMode;
using pki::test_util::MakeTempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One run of the tool, its exit code and what it printed.
struct Result {
  int code;
  std::string out;
  std::string err;
};

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    ca_ = root_ + "/ca";
    Result init = Run({"init", "--dir", ca_});
    ASSERT_EQ(init.code, kExitOk) << init.err;
  }

  Result Run(std::vector<std::string> args, Clock* clock = nullptr) {
    std::ostringstream out, err;
    int code = RunIkelessCa(args, clock != nullptr ? clock : &clock_, out, err);
    return {code, out.str(), err.str()};
  }

  static void ExpectOneLineError(const Result& r, const std::string& text) {
    EXPECT_THAT(r.err, HasSubstr(text));
    EXPECT_TRUE(absl::StartsWith(r.err, "ikeless-ca: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_THAT(r.out, IsEmpty());
  }

  FakeClock clock_{absl::Now()};
  std::string root_;
  std::string ca_;
};

TEST_F(RunTest, InitWritesTheCaAndRefusesToRepeat) {
  EXPECT_EQ(FileMode(ca_ + "/ca.key"), 0600);
  EXPECT_EQ(FileMode(ca_ + "/ca.crt"), 0644);
  std::string key = ReadFile(ca_ + "/ca.key");
  Result again = Run({"init", "--dir", ca_});
  EXPECT_EQ(again.code, kExitFailure);
  ExpectOneLineError(again, "already exists; refusing to overwrite a CA");
  EXPECT_EQ(ReadFile(ca_ + "/ca.key"), key);
}

TEST_F(RunTest, IssueNodeWritesCertificateAndPrivateKey) {
  std::string prefix = root_ + "/n1";
  Result r = Run({"issue", "node", "n1", "--address", "198.18.0.1", "--address", "fd00::1",
                  "--days", "10", "--dir", ca_, "--out", prefix});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, HasSubstr("issued node certificate for n1, serial "));
  EXPECT_THAT(r.out, Not(HasSubstr("PRIVATE KEY")));
  EXPECT_EQ(FileMode(prefix + ".key"), 0600);
  EXPECT_EQ(FileMode(prefix + ".crt"), 0644);
  EXPECT_THAT(ReadFile(prefix + ".key"), HasSubstr("-----BEGIN PRIVATE KEY-----"));
  auto id = pki::ParsePeerIdentity(ReadFile(prefix + ".crt"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, pki::PeerKind::kNode);
  EXPECT_EQ(id->name, "n1");
  EXPECT_THAT(id->addresses, ElementsAre("198.18.0.1", "fd00::1"));
  EXPECT_EQ(absl::ToUnixSeconds(id->not_after),
            absl::ToUnixSeconds(clock_.Now() + absl::Hours(24 * 10)));

  Result show = Run({"show", prefix + ".crt"});
  ASSERT_EQ(show.code, kExitOk) << show.err;
  EXPECT_THAT(show.out, HasSubstr("kind:        node\n"));
  EXPECT_THAT(show.out, HasSubstr("name:        n1\n"));
  EXPECT_THAT(show.out, HasSubstr("addresses:   198.18.0.1, fd00::1\n"));
  EXPECT_THAT(show.out, HasSubstr("serial:      " + id->serial_hex + "\n"));
  EXPECT_THAT(show.out, Not(HasSubstr("expired")));
}

TEST_F(RunTest, IssueRefusesToOverwriteOutputs) {
  std::string prefix = root_ + "/a";
  std::vector<std::string> args = {"issue", "admin", "alice", "--dir", ca_, "--out", prefix};
  ASSERT_EQ(Run(args).code, kExitOk);
  std::string key = ReadFile(prefix + ".key");
  Result again = Run(args);
  EXPECT_EQ(again.code, kExitFailure);
  ExpectOneLineError(again, "--out: " + prefix + ".crt already exists; refusing to overwrite it");
  EXPECT_EQ(ReadFile(prefix + ".key"), key);
}

TEST_F(RunTest, IssueAdminAndServer) {
  ASSERT_EQ(Run({"issue", "admin", "alice", "--dir", ca_, "--out", root_ + "/alice"}).code,
            kExitOk);
  Result show = Run({"show", root_ + "/alice.crt"});
  EXPECT_THAT(show.out, HasSubstr("kind:        admin\n"));
  EXPECT_THAT(show.out, HasSubstr("name:        alice\n"));

  Result server =
      Run({"issue", "server", "controller", "--dns", "localhost", "--dns", "ikeless-controller",
           "--ip", "127.0.0.1", "--dir", ca_, "--out", root_ + "/controller"});
  ASSERT_EQ(server.code, kExitOk) << server.err;
  show = Run({"show", root_ + "/controller.crt"});
  EXPECT_THAT(show.out, HasSubstr("kind:        unknown\n"));
  EXPECT_THAT(show.out, HasSubstr("dns names:   localhost, ikeless-controller\n"));
  EXPECT_THAT(show.out, HasSubstr("addresses:   127.0.0.1\n"));
  EXPECT_THAT(show.out, HasSubstr("common name: controller\n"));
}

TEST_F(RunTest, IssueFromCsrWritesOnlyTheCertificate) {
  auto made = pki::GenerateKeyAndCsr("whatever");
  ASSERT_TRUE(made.ok());
  std::string csr = root_ + "/n2.csr";
  std::ofstream(csr) << made->csr_pem;
  Result r = Run({"issue", "node", "n2", "--address", "198.18.0.2", "--csr", csr, "--dir", ca_,
                  "--out", root_ + "/n2"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(FileMode(root_ + "/n2.key"), -1);
  auto id = pki::ParsePeerIdentity(ReadFile(root_ + "/n2.crt"));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->name, "n2");
}

TEST_F(RunTest, ShowMarksExpiredCertificates) {
  FakeClock past(absl::Now() - absl::Hours(24 * 40));
  std::string old_ca = root_ + "/old";
  ASSERT_EQ(Run({"init", "--dir", old_ca}, &past).code, kExitOk);
  ASSERT_EQ(Run({"issue", "node", "old", "--address", "198.18.0.3", "--days", "1", "--dir", old_ca,
                 "--out", root_ + "/old"},
                &past)
                .code,
            kExitOk);
  Result show = Run({"show", root_ + "/old.crt"});
  ASSERT_EQ(show.code, kExitOk) << show.err;
  EXPECT_THAT(show.out, HasSubstr("(expired)"));
}

TEST_F(RunTest, UsageErrorsExitTwoWithOneLine) {
  Result r = Run({"issue", "node", "n1", "--dir", ca_, "--out", root_ + "/x"});
  EXPECT_EQ(r.code, kExitUsage);
  ExpectOneLineError(r, "'issue node' needs at least one --address (see ikeless-ca --help)");
  r = Run({"bogus"});
  EXPECT_EQ(r.code, kExitUsage);
  ExpectOneLineError(r, "'bogus' is not a command");
}

TEST_F(RunTest, FailuresExitOneWithOneLine) {
  Result r = Run({"issue", "node", "n1", "--address", "198.18.0.1", "--dir", root_ + "/none",
                  "--out", root_ + "/x"});
  EXPECT_EQ(r.code, kExitFailure);
  ExpectOneLineError(r, "ca.key: cannot read " + root_ + "/none/ca.key");
  EXPECT_EQ(FileMode(root_ + "/x.key"), -1);

  r = Run({"issue", "node", "n1", "--address", "198.18.0.1", "--days", "4000", "--dir", ca_,
           "--out", root_ + "/x"});
  EXPECT_EQ(r.code, kExitFailure);
  ExpectOneLineError(r, "validity: ");
  EXPECT_EQ(FileMode(root_ + "/x.key"), -1);
  EXPECT_EQ(FileMode(root_ + "/x.crt"), -1);

  std::ofstream(root_ + "/junk.crt") << "junk";
  r = Run({"show", root_ + "/junk.crt"});
  EXPECT_EQ(r.code, kExitFailure);
  ExpectOneLineError(r, "junk.crt: certificate: ");

  r = Run({"help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("usage: ikeless-ca"));
}

}  // namespace
}  // namespace ikeless::ikeless_ca
