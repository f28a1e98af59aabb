#include "tools/ikeless-ca/command_line.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::ikeless_ca {
namespace {

using pki::CertificateKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<CaCommand> Parse(std::vector<std::string> args) { return ParseCommandLine(args); }

std::string ErrorOf(std::vector<std::string> args) {
  auto cmd = ParseCommandLine(args);
  EXPECT_FALSE(cmd.ok());
  EXPECT_EQ(cmd.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(cmd.status().message());
}

TEST(CommandLineTest, Help) {
  for (auto args : std::vector<std::vector<std::string>>{
           {}, {"help"}, {"--help"}, {"-h"}, {"issue", "node", "--help"}}) {
    auto cmd = Parse(args);
    ASSERT_TRUE(cmd.ok()) << cmd.status();
    EXPECT_EQ(cmd->verb, CaCommand::Verb::kHelp);
  }
  EXPECT_THAT(
      UsageText(),
      HasSubstr("\n  issue node NAME --address A [--address B ...] --dir DIR --out PREFIX\n"));
}

TEST(CommandLineTest, Init) {
  auto cmd = Parse({"init", "--dir", "/tmp/ca", "--name=Lab CA", "--days", "365"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->verb, CaCommand::Verb::kInit);
  EXPECT_EQ(cmd->dir, "/tmp/ca");
  EXPECT_EQ(cmd->ca_name, "Lab CA");
  EXPECT_EQ(cmd->days, 365);
}

TEST(CommandLineTest, IssueNode) {
  auto cmd = Parse({"issue", "node", "n1", "--address", "198.18.0.1", "--dir=ca",
                    "--address=FD00::0001", "--out", "out/n1", "--days", "7"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->verb, CaCommand::Verb::kIssue);
  EXPECT_EQ(cmd->request.kind, CertificateKind::kNode);
  EXPECT_EQ(cmd->request.name, "n1");
  EXPECT_THAT(cmd->request.addresses, ElementsAre("198.18.0.1", "fd00::1"));
  EXPECT_EQ(cmd->dir, "ca");
  EXPECT_EQ(cmd->out, "out/n1");
  EXPECT_EQ(cmd->days, 7);
  EXPECT_TRUE(cmd->csr_file.empty());
}

TEST(CommandLineTest, IssueAdminAndServer) {
  auto admin =
      Parse({"issue", "admin", "alice", "--dir", "ca", "--out", "alice", "--csr", "a.csr"});
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->request.kind, CertificateKind::kAdmin);
  EXPECT_EQ(admin->csr_file, "a.csr");

  auto server = Parse({"issue", "server", "controller", "--dns", "localhost", "--ip", "127.0.0.1",
                       "--dns", "ikeless-controller", "--dir", "ca", "--out", "c"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->request.kind, CertificateKind::kServer);
  EXPECT_THAT(server->request.dns_names, ElementsAre("localhost", "ikeless-controller"));
  EXPECT_THAT(server->request.addresses, ElementsAre("127.0.0.1"));
}

TEST(CommandLineTest, Show) {
  auto cmd = Parse({"show", "n1.crt"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->verb, CaCommand::Verb::kShow);
  EXPECT_EQ(cmd->file, "n1.crt");
}

TEST(CommandLineTest, DoubleDashEndsOptions) {
  auto cmd = Parse({"show", "--", "-odd.crt"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->file, "-odd.crt");
}

TEST(CommandLineTest, ErrorsNameTheWord) {
  EXPECT_EQ(ErrorOf({"frobnicate"}),
            "'frobnicate' is not a command; use init, issue, show or help");
  EXPECT_EQ(ErrorOf({"init"}), "'init' needs --dir DIR");
  EXPECT_EQ(ErrorOf({"init", "--dir"}), "--dir: needs a value");
  EXPECT_EQ(ErrorOf({"init", "--dir", "a", "--dir", "b"}), "--dir: given more than once");
  EXPECT_EQ(ErrorOf({"init", "--dir", "a", "--bogus", "1"}), "'--bogus': unknown option");
  EXPECT_EQ(ErrorOf({"init", "--dir", "a", "--out", "x"}), "--out: not an option of 'init'");
  EXPECT_EQ(ErrorOf({"init", "--dir", "a", "extra"}), "init: unexpected argument 'extra'");
  EXPECT_EQ(ErrorOf({"issue"}), "issue: give a kind (node, admin or server)");
  EXPECT_EQ(ErrorOf({"issue", "router", "r1"}),
            "issue: 'router' is not a kind; use node, admin or server");
  EXPECT_EQ(ErrorOf({"issue", "node", "--dir", "ca"}), "issue node: give exactly one NAME");
  EXPECT_THAT(ErrorOf({"issue", "node", "n 1", "--dir", "ca", "--out", "x"}),
              HasSubstr("NAME: 'n 1' may use only letters"));
  EXPECT_EQ(ErrorOf({"issue", "node", "n1", "--address", "10.0.0.1", "--out", "x"}),
            "'issue node' needs --dir DIR");
  EXPECT_EQ(ErrorOf({"issue", "node", "n1", "--address", "10.0.0.1", "--dir", "ca"}),
            "'issue node' needs --out PREFIX");
  EXPECT_EQ(ErrorOf({"issue", "node", "n1", "--dir", "ca", "--out", "x"}),
            "'issue node' needs at least one --address");
  EXPECT_EQ(ErrorOf({"issue", "node", "n1", "--address", "nope", "--dir", "ca", "--out", "x"}),
            "--address: 'nope' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ErrorOf({"issue", "node", "n1", "--address", "fd00::1", "--address", "fd00:0::1",
                     "--dir", "ca", "--out", "x"}),
            "--address: fd00::1 is given twice");
  EXPECT_EQ(ErrorOf({"issue", "node", "n1", "--address", "10.0.0.1", "--dns", "a", "--dir", "ca",
                     "--out", "x"}),
            "--dns: not an option of 'issue node'");
  EXPECT_EQ(ErrorOf({"issue", "admin", "a", "--address", "10.0.0.1", "--dir", "ca", "--out", "x"}),
            "--address: not an option of 'issue admin'");
  EXPECT_THAT(ErrorOf({"issue", "server", "c", "--dns", "bad_host", "--dir", "ca", "--out", "x"}),
              HasSubstr("--dns: 'bad_host' may use only"));
  for (const char* days : {"0", "-1", "+5", "1.5", "x", "36501"}) {
    EXPECT_THAT(ErrorOf({"init", "--dir", "a", "--days", days}),
                HasSubstr("--days: '" + std::string(days) +
                          "' must be a whole number of days from 1 to 36500"));
  }
  EXPECT_EQ(ErrorOf({"show"}), "show: give exactly one certificate file");
  EXPECT_EQ(ErrorOf({"show", "a", "b"}), "show: give exactly one certificate file");
  EXPECT_EQ(ErrorOf({"show", "a", "--dir", "x"}), "--dir: not an option of 'show'");
  EXPECT_EQ(ErrorOf({"help", "me"}), "help: takes no arguments");
  EXPECT_EQ(ErrorOf({"init", "--dir="}), "--dir: empty value");
}

}  // namespace
}  // namespace ikeless::ikeless_ca
