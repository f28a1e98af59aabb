#include "tools/ipsecctl/command.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

using Kind = Command::Kind;

// Splits a command line on spaces (no word here contains one).
absl::StatusOr<Invocation> ParseLine(absl::string_view line, absl::string_view env = "") {
  std::vector<std::string> args;
  if (!line.empty()) args = absl::StrSplit(line, ' ');
  return ParseInvocation(args, env);
}

Invocation ParseOk(absl::string_view line, absl::string_view env = "") {
  auto r = ParseLine(line, env);
  EXPECT_TRUE(r.ok()) << line << ": " << r.status();
  return r.ok() ? *r : Invocation();
}

// The usage error's message, or "" if the line parsed.
std::string ErrorOf(absl::string_view line) {
  auto r = ParseLine(line);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(ParseInvocation, EveryCommand) {
  struct Case {
    const char* line;
    Kind kind;
  } cases[] = {
      {"policy add web --between 198.18.0.1 198.18.0.2", Kind::kPolicyAdd},
      {"policy get web", Kind::kPolicyGet},
      {"policy list", Kind::kPolicyList},
      {"policy update web --priority 3", Kind::kPolicyUpdate},
      {"policy delete web", Kind::kPolicyDelete},
      {"assoc list", Kind::kAssocList},
      {"assoc show 42", Kind::kAssocShow},
      {"agents list", Kind::kAgentsList},
      {"watch", Kind::kWatch},
      {"help", Kind::kHelp},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseOk(c.line).command.kind, c.kind) << c.line;
  }
}

TEST(ParseInvocation, HelpWinsAnywhere) {
  for (const char* line : {"-h", "--help", "policy add --help", "policy add web --lifetime 0 -h",
                           "frob --help", "help me"}) {
    EXPECT_EQ(ParseOk(line).command.kind, Kind::kHelp) << line;
  }
  // After "--" it is an operand, not a request for help.
  EXPECT_NE(ErrorOf("policy get -- --help x"), "");
}

TEST(ParseInvocation, GlobalOptionsBeforeOrAfterTheCommand) {
  Invocation before = ParseOk("--controller 10.0.0.1:7 -o json --timeout 3 policy list");
  EXPECT_EQ(before.global.controller, "10.0.0.1:7");
  EXPECT_EQ(before.global.output, OutputFormat::kJson);
  EXPECT_EQ(before.global.timeout, absl::Seconds(3));
  EXPECT_EQ(before.command.kind, Kind::kPolicyList);

  Invocation after = ParseOk("policy get web --output=json --controller=ctl:1");
  EXPECT_EQ(after.global.output, OutputFormat::kJson);
  EXPECT_EQ(after.global.controller, "ctl:1");
  EXPECT_EQ(after.command.name, "web");
}

TEST(ParseInvocation, ControllerDefaults) {
  EXPECT_EQ(ParseOk("policy list").global.controller, "127.0.0.1:50051");
  EXPECT_EQ(ParseOk("policy list", "ctl.example:9").global.controller, "ctl.example:9");
  EXPECT_EQ(ParseOk("--controller x:1 policy list", "ctl.example:9").global.controller, "x:1");
}

TEST(ParseInvocation, PolicyAddCarriesOptionsAndDefaultLifetime) {
  Invocation inv = ParseOk(
      "policy add web --between 198.18.0.0/24 * --encryption aes-cbc --integrity "
      "hmac-sha2-256-128 --selector tcp/443");
  const Command& c = inv.command;
  EXPECT_EQ(c.name, "web");
  EXPECT_EQ(c.Subject(), "policy add web");
  EXPECT_EQ(*c.edits.a, "198.18.0.0/24");
  EXPECT_EQ(*c.edits.b, "*");
  EXPECT_EQ(*c.edits.encryption, v1::ENCRYPTION_AES_CBC);
  EXPECT_EQ(c.edits.selector->port(), 443u);
  // The controller requires a hard lifetime; add supplies an hour.
  EXPECT_EQ(*c.edits.hard_seconds, kDefaultHardLifetimeSeconds);
  // Everything else is left for the controller's defaults.
  EXPECT_FALSE(c.edits.mode.has_value());
  EXPECT_FALSE(c.edits.soft_seconds.has_value());

  EXPECT_EQ(*ParseOk("policy add web --lifetime 2h --between * *").command.edits.hard_seconds,
            7200u);
}

TEST(ParseInvocation, PolicyUpdateKeepsOnlyGivenOptions) {
  Command c = ParseOk("policy update web --lifetime 90m").command;
  EXPECT_EQ(*c.edits.hard_seconds, 5400u);
  // No default lifetime or anything else sneaks into an update.
  c.edits.hard_seconds.reset();
  EXPECT_TRUE(c.edits.empty());
}

TEST(ParseInvocation, AssocOperands) {
  EXPECT_EQ(ParseOk("assoc show 18446744073709551615").command.association_id,
            18446744073709551615ull);
  EXPECT_EQ(ParseOk("assoc show 7").command.Subject(), "assoc show 7");
  EXPECT_EQ(ParseOk("assoc list --address fd00:0::1").command.address, "fd00::1");
  EXPECT_EQ(ParseOk("assoc list").command.address, "");
}

TEST(ParseInvocation, UsageErrorsSayWhatAndWhy) {
  EXPECT_EQ(ErrorOf(""), "missing command; run 'ipsecctl help' for usage");
  EXPECT_EQ(ErrorOf("-o json"), "missing command; run 'ipsecctl help' for usage");
  EXPECT_EQ(ErrorOf("frob"), "frob: unknown command; commands: policy, assoc, agents, watch, help");
  EXPECT_EQ(ErrorOf("policy"),
            "policy: missing subcommand; one of: add, get, list, update, delete");
  EXPECT_EQ(ErrorOf("policy -o json list"),
            "policy: missing subcommand; one of: add, get, list, update, delete");
  EXPECT_EQ(ErrorOf("assoc frob"), "assoc frob: unknown command; assoc commands: list, show");
  EXPECT_EQ(ErrorOf("policy add web"), "policy add: missing --between A B");
  EXPECT_EQ(ErrorOf("policy add --between * *"), "policy add: missing NAME");
  EXPECT_EQ(ErrorOf("policy get"), "policy get: missing NAME");
  EXPECT_EQ(ErrorOf("policy get a b"), "policy get: unexpected argument 'b'");
  EXPECT_EQ(ErrorOf("policy list --priority 1"), "policy list: --priority: unknown option");
  EXPECT_EQ(ErrorOf("policy get web --between * *"), "policy get: --between: unknown option");
  EXPECT_EQ(ErrorOf("policy update web"),
            "policy update: nothing to update; give at least one policy option");
  EXPECT_EQ(ErrorOf("policy add web --between * * --lifetime"),
            "policy add: --lifetime: missing value (--lifetime DURATION)");
  EXPECT_EQ(ErrorOf("policy add web --between * * --lifetime 0"),
            "policy add: --lifetime: must be longer than 0s");
  EXPECT_EQ(ErrorOf("assoc show x"), "assoc show: ID: 'x' is not a number");
  EXPECT_EQ(ErrorOf("assoc list --address 198.18.0.0/24"),
            "assoc list: --address: '198.18.0.0/24' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ErrorOf("watch now"), "watch: unexpected argument 'now'");
  EXPECT_EQ(ErrorOf("--timeout 0 watch"), "--timeout: '0' is not a positive number of seconds");
  EXPECT_EQ(ErrorOf("watch -o yaml"), "watch: --output: 'yaml' is not one of: table, json");
  EXPECT_EQ(ErrorOf("--frob policy list"), "--frob: unknown option");
}

TEST(ParseInvocation, AgentsEnrollTakesAddressesAndTtl) {
  auto inv = ParseInvocation(
      {"agents", "enroll", "gw-a", "--address", "198.18.0.1", "--address", "fd00::1", "--ttl", "2h"},
      "");
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command.kind, Command::Kind::kAgentsEnroll);
  EXPECT_EQ(inv->command.name, "gw-a");
  EXPECT_EQ(inv->command.addresses, (std::vector<std::string>{"198.18.0.1", "fd00::1"}));
  EXPECT_EQ(inv->command.ttl_seconds, 7200u);
  auto missing = ParseInvocation({"agents", "enroll", "gw-a"}, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing --address"), std::string::npos);
  auto bad = ParseInvocation({"agents", "enroll", "gw-a", "--address", "x"}, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--address"), std::string::npos);
}

}  // namespace
}  // namespace ikeless::ipsecctl
