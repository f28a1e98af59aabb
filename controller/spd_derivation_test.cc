#include "controller/spd_derivation.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

v1::Node Node(const std::string& name, std::vector<std::string> addresses,
              std::vector<std::string> sites = {}) {
  v1::Node n;
  n.set_name(name);
  for (auto& a : addresses) n.add_addresses(a);
  for (auto& s : sites) n.add_sites(s);
  return n;
}

v1::Policy Policy(const std::string& name, const std::string& a, const std::string& b,
                  v1::PolicyAction action = v1::POLICY_ACTION_PROTECT,
                  v1::Mode mode = v1::MODE_TUNNEL) {
  v1::Policy p;
  p.set_name(name);
  p.mutable_a()->set_address(a);
  p.mutable_b()->set_address(b);
  p.set_action(action);
  p.set_mode(mode);
  return p;
}

std::vector<std::string> Describe(const std::vector<v1::PushedRule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) {
    out.push_back(v1::PolicyAction_Name(r.action()).substr(14) + " " + r.local() + ">" +
                  r.remote() + " peer=" + r.setup_peer() + " rank=" + std::to_string(r.rank()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

const v1::Node kA = Node("gw-a", {"198.18.0.1"}, {"198.18.10.0/24", "fd00:10::/64"});
const v1::Node kB = Node("gw-b", {"198.18.0.2"}, {"198.18.20.0/24", "fd00:20::/64"});

TEST(SpdDerivation, TunnelProtectsSitePairsOfOneFamilyAndTheNodeAddresses) {
  auto rules = RulesToward(kA, kB, {Policy("mesh", "*", "*")});
  EXPECT_EQ(Describe(rules), (std::vector<std::string>{
                                 "PROTECT 198.18.0.1/32>198.18.0.2/32 peer=198.18.0.2 rank=2",
                                 "PROTECT 198.18.10.0/24>198.18.20.0/24 peer=198.18.0.2 rank=2",
                                 "PROTECT fd00:10::/64>fd00:20::/64 peer=198.18.0.2 rank=2"}));
  for (const auto& r : rules) {
    EXPECT_EQ(r.local_address(), "198.18.0.1");
    EXPECT_EQ(r.policy(), "mesh");
    EXPECT_EQ(r.peer_node(), "gw-b");
    EXPECT_EQ(r.key(), RuleKey(r));
  }
}

TEST(SpdDerivation, TransportProtectsOnlyTheAddressesAndSitesFailClosed) {
  auto rules = RulesToward(kA, kB, {Policy("hosts", "*", "*", v1::POLICY_ACTION_PROTECT,
                                           v1::MODE_TRANSPORT)});
  EXPECT_EQ(Describe(rules), (std::vector<std::string>{
                                 "DISCARD 198.18.10.0/24>198.18.20.0/24 peer= rank=2",
                                 "DISCARD fd00:10::/64>fd00:20::/64 peer= rank=2",
                                 "PROTECT 198.18.0.1/32>198.18.0.2/32 peer=198.18.0.2 rank=2"}));
}

TEST(SpdDerivation, NoPolicyDiscardsSiteTrafficButNeverTheNodeAddresses) {
  auto rules = RulesToward(kA, kB, {Policy("other", "198.18.0.1", "198.18.0.9")});
  EXPECT_EQ(Describe(rules), (std::vector<std::string>{
                                 "DISCARD 198.18.10.0/24>198.18.20.0/24 peer= rank=2",
                                 "DISCARD fd00:10::/64>fd00:20::/64 peer= rank=2"}));
  EXPECT_TRUE(RulesToward(Node("h1", {"198.18.0.5"}), Node("h2", {"198.18.0.6"}), {}).empty());
}

TEST(SpdDerivation, BypassAndSelectorSpecificRulesComeFirst) {
  v1::Policy web = Policy("web", "*", "*");
  web.mutable_selector()->set_protocol(6);
  web.mutable_selector()->set_port(443);
  auto rules = RulesToward(Node("h1", {"198.18.0.5"}), Node("h2", {"198.18.0.6"}),
                           {web, Policy("rest", "*", "*", v1::POLICY_ACTION_BYPASS)});
  EXPECT_EQ(Describe(rules), (std::vector<std::string>{
                                 "BYPASS 198.18.0.5/32>198.18.0.6/32 peer= rank=2",
                                 "PROTECT 198.18.0.5/32>198.18.0.6/32 peer=198.18.0.6 rank=0"}));
}

TEST(SpdDerivation, MoreSpecificPolicyWinsAndActionChangesTheKey) {
  std::vector<v1::Policy> policies = {Policy("mesh", "*", "*"),
                                      Policy("cut", "198.18.0.1", "198.18.0.2",
                                             v1::POLICY_ACTION_DISCARD)};
  auto rules = RulesToward(kA, kB, policies);
  ASSERT_FALSE(rules.empty());
  for (const auto& r : rules) EXPECT_EQ(r.action(), v1::POLICY_ACTION_DISCARD) << r.key();
  auto before = DeriveSpd(kA, {kA, kB}, {Policy("mesh", "*", "*")});
  auto after = DeriveSpd(kA, {kA, kB}, policies);
  v1::SpdUpdate delta;
  DiffRules(before, after, &delta);
  EXPECT_EQ(delta.remove_size(), 3);  // every PROTECT rule goes...
  EXPECT_EQ(delta.upsert_size(), 3);  // ...and a DISCARD rule takes each place
  v1::SpdUpdate none;
  DiffRules(after, after, &none);
  EXPECT_EQ(none.upsert_size() + none.remove_size(), 0);
}

TEST(SpdDerivation, DeriveSpdSkipsSelfAndCoversEveryPeer) {
  v1::Node c = Node("gw-c", {"198.18.0.3"}, {"198.18.30.0/24"});
  auto spd = DeriveSpd(kA, {kA, kB, c}, {Policy("mesh", "*", "*")});
  int toward_b = 0, toward_c = 0;
  for (const auto& [key, r] : spd) {
    EXPECT_NE(r.peer_node(), "gw-a");
    toward_b += r.peer_node() == "gw-b";
    toward_c += r.peer_node() == "gw-c";
  }
  EXPECT_EQ(toward_b, 3);
  EXPECT_EQ(toward_c, 2);  // the node addresses and the one IPv4 site pair
}

}  // namespace
}  // namespace ikeless::controller
