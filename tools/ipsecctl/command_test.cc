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
      {"nodes add gw-a --address 198.18.0.1", Kind::kNodesAdd},
      {"nodes get gw-a", Kind::kNodesGet},
      {"nodes list", Kind::kNodesList},
      {"nodes set gw-a --add-site 198.18.10.0/24", Kind::kNodesSet},
      {"nodes remove gw-a", Kind::kNodesRemove},
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
  EXPECT_EQ(ErrorOf("frob"),
            "frob: unknown command; commands: policy, nodes, assoc, agents, watch, plan, apply, "
            "export, help");
  EXPECT_EQ(ErrorOf("policy"),
            "policy: missing subcommand; one of: add, get, list, update, delete");
  EXPECT_EQ(ErrorOf("policy -o json list"),
            "policy: missing subcommand; one of: add, get, list, update, delete");
  EXPECT_EQ(ErrorOf("assoc frob"), "assoc frob: unknown command; assoc commands: list, show, delete");
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
            "policy add: --lifetime: must be at least 8s: a rekey must have time to complete "
            "before the SA dies");
  EXPECT_EQ(ErrorOf("assoc show x"), "assoc show: ID: 'x' is not a number");
  EXPECT_EQ(ErrorOf("assoc list --address 198.18.0.0/24"),
            "assoc list: --address: '198.18.0.0/24' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ErrorOf("watch now"), "watch: unexpected argument 'now'");
  EXPECT_EQ(ErrorOf("--timeout 0 watch"), "--timeout: '0' is not a positive number of seconds");
  EXPECT_EQ(ErrorOf("watch -o yaml"), "watch: --output: 'yaml' is not one of: table, json");
  EXPECT_EQ(ErrorOf("--frob policy list"), "--frob: unknown option");
}

TEST(ParseInvocation, PolicyAction) {
  Command add = ParseOk("policy add lan --between 198.18.0.0/24 * --action bypass").command;
  EXPECT_EQ(*add.edits.action, v1::POLICY_ACTION_BYPASS);
  EXPECT_EQ(*ParseOk("policy update lan --action=discard").command.edits.action,
            v1::POLICY_ACTION_DISCARD);
  // Not given: left to the controller (PROTECT).
  EXPECT_FALSE(ParseOk("policy add lan --between * *").command.edits.action.has_value());
  EXPECT_EQ(ErrorOf("policy add lan --between * * --action drop"),
            "policy add: --action: 'drop' is not one of: protect, bypass, discard");
  EXPECT_EQ(ErrorOf("policy update lan --action"),
            "policy update: --action: missing value (--action protect|bypass|discard)");
  EXPECT_EQ(ErrorOf("policy get lan --action bypass"), "policy get: --action: unknown option");
}

TEST(ParseInvocation, NodesAddTakesAddressesSitesAndDescription) {
  Command c = ParseOk(
                  "nodes add gw-a --address 198.18.0.1 --address=fd00:0::1 --site 198.18.10.0/24 "
                  "--site fd00:10:0::/64 --site 198.18.11.7 --description edge")
                  .command;
  EXPECT_EQ(c.Subject(), "nodes add gw-a");
  EXPECT_EQ(c.node.addresses, (std::vector<std::string>{"198.18.0.1", "fd00::1"}));
  EXPECT_EQ(c.node.sites,
            (std::vector<std::string>{"198.18.10.0/24", "fd00:10::/64", "198.18.11.7/32"}));
  EXPECT_EQ(*c.node.description, "edge");
  // --address of a node is the node's, not assoc list's filter.
  EXPECT_EQ(c.address, "");
  EXPECT_TRUE(c.addresses.empty());
  EXPECT_TRUE(ParseOk("nodes add h --address 198.18.0.9").command.node.sites.empty());
}

TEST(ParseInvocation, NodesSetTakesSiteEdits) {
  Command c =
      ParseOk("nodes set gw-a --add-site 198.18.12.0/24 --remove-site fd00:10::/64").command;
  EXPECT_EQ(c.Subject(), "nodes set gw-a");
  EXPECT_EQ(c.node.add_sites, std::vector<std::string>{"198.18.12.0/24"});
  EXPECT_EQ(c.node.remove_sites, std::vector<std::string>{"fd00:10::/64"});
  EXPECT_TRUE(c.node.addresses.empty());
  EXPECT_TRUE(ParseOk("nodes set gw-a --no-sites").command.node.no_sites);
  EXPECT_EQ(*ParseOk("nodes set gw-a --description=").command.node.description, "");
  EXPECT_EQ(ParseOk("nodes set gw-a --address 198.18.0.2").command.node.addresses,
            std::vector<std::string>{"198.18.0.2"});
}

TEST(ParseInvocation, NodesRemoveAndKeepCertificates) {
  EXPECT_FALSE(ParseOk("nodes remove gw-a").command.keep_certificates);
  EXPECT_TRUE(ParseOk("nodes remove gw-a --keep-certificates").command.keep_certificates);
  EXPECT_FALSE(ParseOk("nodes remove gw-a --keep-certificates=false").command.keep_certificates);
  EXPECT_EQ(ErrorOf("nodes remove gw-a --keep-certificates=maybe"),
            "nodes remove: --keep-certificates: 'maybe' is not true or false");
}

TEST(ParseInvocation, NodesUsageErrorsSayWhatAndWhy) {
  EXPECT_EQ(ErrorOf("nodes"), "nodes: missing subcommand; one of: add, get, list, set, remove");
  EXPECT_EQ(ErrorOf("nodes delete gw-a"),
            "nodes delete: unknown command; nodes commands: add, get, list, set, remove");
  EXPECT_EQ(ErrorOf("nodes add --address 198.18.0.1"), "nodes add: missing NAME");
  EXPECT_EQ(ErrorOf("nodes add gw-a"), "nodes add: missing --address (the node's addresses)");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address gw-a.example"),
            "nodes add: --address: 'gw-a.example' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.0/24"),
            "nodes add: --address: '198.18.0.0/24' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --address 198.18.0.1"),
            "nodes add: --address: 198.18.0.1 given twice");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --site 198.18.10.1/24"),
            "nodes add: --site: '198.18.10.1/24' has host bits set; did you mean the network "
            "address?");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --site 198.18.10.0/33"),
            "nodes add: --site: prefix length '33' must be 0..32");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --site lan"),
            "nodes add: --site: 'lan' is not an IPv4 or IPv6 address");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --site *"),
            "nodes add: --site: '*' is not a prefix; name the network, e.g. 198.18.10.0/24");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --site"),
            "nodes add: --site: missing value (--site PREFIX)");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --add-site 198.18.10.0/24"),
            "nodes add: --add-site: unknown option");
  EXPECT_EQ(ErrorOf("nodes add gw-a --address 198.18.0.1 --lifetime 1h"),
            "nodes add: --lifetime: unknown option");
  EXPECT_EQ(ErrorOf("nodes add gw-a b --address 198.18.0.1"),
            "nodes add: unexpected argument 'b'");
  EXPECT_EQ(ErrorOf("nodes set --no-sites"), "nodes set: missing NAME");
  EXPECT_EQ(ErrorOf("nodes set gw-a"),
            "nodes set: nothing to update; give at least one node option");
  EXPECT_EQ(ErrorOf("nodes set gw-a --remove-site 198.18.10.0/24 --remove-site 198.18.10.0/24"),
            "nodes set: --remove-site: 198.18.10.0/24 given twice");
  EXPECT_EQ(ErrorOf("nodes set gw-a --no-sites --add-site 198.18.10.0/24"),
            "nodes set: --no-sites: cannot be combined with --site, --add-site or --remove-site");
  EXPECT_EQ(ErrorOf("nodes set gw-a --site 198.18.10.0/24 --remove-site 198.18.11.0/24"),
            "nodes set: --site: replaces the whole site list; cannot be combined with "
            "--add-site or --remove-site");
  EXPECT_EQ(ErrorOf("nodes set gw-a --add-site 198.18.10.0/24 --remove-site 198.18.10.0/24"),
            "nodes set: --add-site: 198.18.10.0/24 is also given to --remove-site");
  EXPECT_EQ(ErrorOf("nodes set gw-a --no-sites=true"), "nodes set: --no-sites: takes no value");
  EXPECT_EQ(ErrorOf("nodes get"), "nodes get: missing NAME");
  EXPECT_EQ(ErrorOf("nodes get gw-a --site 198.18.10.0/24"), "nodes get: --site: unknown option");
  EXPECT_EQ(ErrorOf("nodes list gw-a"), "nodes list: unexpected argument 'gw-a'");
  EXPECT_EQ(ErrorOf("nodes remove"), "nodes remove: missing NAME");
  EXPECT_EQ(ErrorOf("nodes remove gw-a --frob"), "nodes remove: --frob: unknown option");
  EXPECT_EQ(ErrorOf("nodes list -o yaml"),
            "nodes list: --output: 'yaml' is not one of: table, json");
}

TEST(ParseInvocation, AgentsEnrollTakesSites) {
  Command c =
      ParseOk("agents enroll gw-a --address 198.18.0.1 --site 198.18.10.0/24 --site fd00:10::/64")
          .command;
  EXPECT_EQ(c.addresses, std::vector<std::string>{"198.18.0.1"});
  EXPECT_EQ(c.node.sites, (std::vector<std::string>{"198.18.10.0/24", "fd00:10::/64"}));
  EXPECT_EQ(ErrorOf("agents enroll gw-a --address 198.18.0.1 --site 198.18.10.1/24"),
            "agents enroll: --site: '198.18.10.1/24' has host bits set; did you mean the network "
            "address?");
  EXPECT_EQ(ErrorOf("agents enroll gw-a --address 198.18.0.1 --add-site 198.18.10.0/24"),
            "agents enroll: --add-site: unknown option");
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

TEST(ParseInvocation, PlanApplyExportTakeTheFleetFileAndState) {
  Command c = ParseOk("plan -f fleet.yaml").command;
  EXPECT_EQ(c.kind, Command::Kind::kPlan);
  EXPECT_EQ(c.file, "fleet.yaml");
  c = ParseOk("apply --file fleet.yaml --state 0123456789abcdef").command;
  EXPECT_EQ(c.kind, Command::Kind::kApply);
  EXPECT_EQ(c.state, "0123456789abcdef");
  EXPECT_EQ(ParseOk("export").command.kind, Command::Kind::kExport);
  EXPECT_EQ(ErrorOf("plan"), "plan: missing -f FILE (the fleet file)");
  EXPECT_EQ(ErrorOf("plan -f f.yaml --state x"), "plan: --state: unknown option");
  EXPECT_EQ(ErrorOf("export -f f.yaml"), "export: -f: unknown option");
}

}  // namespace
}  // namespace ikeless::ipsecctl
