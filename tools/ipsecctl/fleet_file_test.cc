#include "tools/ipsecctl/fleet_file.h"

#include "google/protobuf/util/message_differencer.h"
#include "tools/ipsecctl/policy_flags.h"
#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

constexpr char kFleet[] = R"(# two gateways
nodes:
  - name: gw-a
    addresses: [198.18.0.1]
    sites: [198.18.10.0/24]
  - name: gw-b
    addresses: [198.18.0.2, fd00::2]
    sites: 198.18.20.0/24
    description: "branch: north"
policies:
  - name: mesh
    between: [198.18.0.0/29, "*"]
    encryption: chacha20-poly1305
    lifetime: 2h
    selector: tcp/443
assertions:
  - between: [gw-a, gw-b]
    expect: protected
    encryption: chacha20-poly1305
  - between: [gw-b, gw-a]
    expect: unreachable
)";

TEST(FleetFile, ParsesNodesPoliciesAndAssertionsWithTheirLines) {
  auto file = ParseFleetFile(kFleet, "fleet.yaml");
  ASSERT_TRUE(file.ok()) << file.status();
  const v1::Intent& i = file->intent;
  ASSERT_EQ(i.nodes_size(), 2);
  EXPECT_EQ(i.nodes(1).addresses(1), "fd00::2");
  EXPECT_EQ(i.nodes(1).sites(0), "198.18.20.0/24");  // a single value is a list of one
  EXPECT_EQ(i.nodes(1).description(), "branch: north");
  ASSERT_EQ(i.policies_size(), 1);
  EXPECT_EQ(i.policies(0).b().address(), "*");
  EXPECT_EQ(i.policies(0).encryption(), v1::ENCRYPTION_CHACHA20_POLY1305);
  EXPECT_EQ(i.policies(0).lifetime().hard_seconds(), 7200u);
  EXPECT_EQ(i.policies(0).selector().port(), 443u);
  ASSERT_EQ(i.assertions_size(), 2);
  EXPECT_EQ(i.assertions(0).expect(), v1::IntentAssertion::EXPECT_PROTECTED);
  EXPECT_EQ(i.assertions(1).a(), "gw-b");
  EXPECT_EQ(file->lines.at("nodes[1]"), 6);
  EXPECT_EQ(file->lines.at("nodes[1].sites"), 8);
  EXPECT_EQ(file->lines.at("policies[0].lifetime"), 14);
  EXPECT_EQ(file->lines.at("assertions[1]"), 20);
}

TEST(FleetFile, PolicyWithoutLifetimeGetsPolicyAddsDefault) {
  auto file = ParseFleetFile("nodes: []\npolicies:\n  - {name: p, between: ['*', '*']}\n", "f");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->intent.policies(0).lifetime().hard_seconds(), kDefaultHardLifetimeSeconds);
}

TEST(FleetFile, BadFilesNameTheLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"nodes: []\npolicies: [\n  - name: x\n", "f.yaml:3: YAML syntax: illegal block entry"},
      {"nodes: []\npolicies:\n  - name: p\n    between: ['*', '*']\n    encrpytion: aes-gcm-16\n",
       "f.yaml:5: policies[0]: unknown key 'encrpytion'"},
      {"nodes: []\npolicies:\n  - name: p\n    between: ['*', '*']\n    lifetime: 0\n",
       "f.yaml:5: policies[0].lifetime: must be at least 8s: a rekey must have time to complete "
       "before the SA dies"},
      {"nodes: []\npolicies:\n  - name: p\n    between: ['*']\n",
       "f.yaml:4: policies[0].between: needs two endpoints"},
      {"nodes:\n  - addresses: [198.18.0.1]\npolicies: []\n", "f.yaml:2: nodes[0]: missing name"},
      {"nodes: []\n", "f.yaml:1: missing policies:"},
      {"nodes: []\npolicies: []\nassertions:\n  - between: [a, b]\n    expect: maybe\n",
       "f.yaml:5: assertions[0].expect: 'maybe' is not one of"},
      {"nodes: {}\npolicies: []\n", "f.yaml:1: nodes: must be a list"},
      {"- just a list\n", "f.yaml:1: the file must be a map"},
      // Review findings: an emptied section must not mean "remove all".
      {"nodes:\n  # - name: gw-a\npolicies: []\n", "f.yaml:1: nodes: is empty; write 'nodes: []'"},
      {"nodes: []\npolicies: ~\n", "f.yaml:2: policies: is empty"},
      // Repeated keys would be merged or overridden silently by YAML.
      {"nodes:\n  - name: a\n    sites: [198.18.1.0/24]\n    sites: [198.18.2.0/24]\npolicies: []\n",
       "f.yaml:4: nodes[0]: key 'sites' given twice"},
      {"nodes: []\npolicies: []\nnodes: []\n", "f.yaml:3: file: key 'nodes' given twice"},
      {"nodes: []\npolicies: []\n---\nnodes: []\n", "f.yaml:4: one YAML document per file"},
      {"nodes:\n  - {[a]: b}\npolicies: []\n", "f.yaml:2: nodes[0]: keys must be plain names"},
  };
  for (const Case& c : cases) {
    auto file = ParseFleetFile(c.text, "f.yaml");
    ASSERT_FALSE(file.ok()) << c.text;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(file.status().message()).rfind(c.error, 0), 0u)
        << file.status().message();
  }
}

TEST(FleetFile, LocateNamesTheLineOfTheControllersError) {
  auto file = ParseFleetFile(kFleet, "fleet.yaml");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->Locate("nodes[1] (gw-b): sites: 198.18.20.0/24 overlaps ..."),
            "fleet.yaml:8: nodes[1] (gw-b): sites: 198.18.20.0/24 overlaps ...");
  EXPECT_EQ(file->Locate("nodes[1] (gw-b): name: revoked"), "fleet.yaml:6: nodes[1] (gw-b): name: revoked");
  EXPECT_EQ(file->Locate("assertions[1]: does not hold"), "fleet.yaml:20: assertions[1]: does not hold");
  EXPECT_EQ(file->Locate("policies[0] (mesh): lifetime.hard_seconds: too long"),
            "fleet.yaml:14: policies[0] (mesh): lifetime.hard_seconds: too long");
  EXPECT_EQ(file->Locate("controller unavailable"), "controller unavailable");
  // Proto field names map to the file's keys.
  EXPECT_EQ(file->Locate("policies[0] (mesh): lifetime.hard_seconds: too long"),
            "fleet.yaml:14: policies[0] (mesh): lifetime.hard_seconds: too long");
  EXPECT_EQ(file->Locate("policies[0] (mesh): encryption_key_bits: 100"),  // no key-bits: item
            "fleet.yaml:11: policies[0] (mesh): encryption_key_bits: 100");
  EXPECT_EQ(file->Locate("policies[0] (mesh): a.address: bad"),
            "fleet.yaml:12: policies[0] (mesh): a.address: bad");
}

TEST(FleetFile, ExportParsesBackToTheSameRecords) {
  v1::Node a;
  a.set_name("gw-a");
  a.add_addresses("198.18.0.1");
  a.add_sites("198.18.10.0/24");
  a.set_description("hq: rack 3 # not a comment");
  v1::Node host;
  host.set_name("pc-1");
  host.add_addresses("fd00::7");
  v1::Policy p;
  p.set_name("mesh");
  p.mutable_a()->set_address("*");
  p.mutable_b()->set_address("198.18.0.0/29");
  p.set_action(v1::POLICY_ACTION_PROTECT);
  p.set_protocol(v1::IPSEC_PROTOCOL_ESP);
  p.set_mode(v1::MODE_TUNNEL);
  p.set_encryption(v1::ENCRYPTION_AES_CBC);
  p.set_encryption_key_bits(256);
  p.set_integrity(v1::INTEGRITY_HMAC_SHA2_256_128);
  p.mutable_lifetime()->set_hard_seconds(5400);
  p.mutable_lifetime()->set_soft_seconds(4000);  // chosen, not the derived 90 %
  p.mutable_lifetime()->set_hard_bytes(1'000'000'000);
  p.mutable_lifetime()->set_soft_bytes(800'000'000);
  p.mutable_selector()->set_protocol(17);
  p.mutable_selector()->set_port(4789);
  p.set_priority(-5);
  p.set_replay_window(1024);
  p.set_description("'quoted' and \"double\"");
  v1::Policy bypass;
  bypass.set_name("dns-clear");
  bypass.mutable_a()->set_address("198.18.0.0/29");
  bypass.mutable_b()->set_address("198.18.0.53");
  bypass.set_action(v1::POLICY_ACTION_BYPASS);
  bypass.mutable_lifetime()->set_hard_seconds(3600);

  v1::Policy derived = bypass;
  derived.set_name("derived-soft");
  derived.mutable_lifetime()->set_soft_seconds(3240);  // 90 % of 3600: left out
  EXPECT_EQ(WriteFleetFile({}, {derived}).find("soft-lifetime"), std::string::npos);

  const std::string text = WriteFleetFile({a, host}, {p, bypass});
  auto file = ParseFleetFile(text, "export.yaml");
  ASSERT_TRUE(file.ok()) << file.status() << "\n" << text;
  using google::protobuf::util::MessageDifferencer;
  ASSERT_EQ(file->intent.nodes_size(), 2);
  EXPECT_TRUE(MessageDifferencer::Equals(file->intent.nodes(0), a)) << text;
  EXPECT_TRUE(MessageDifferencer::Equals(file->intent.nodes(1), host)) << text;
  ASSERT_EQ(file->intent.policies_size(), 2);
  EXPECT_TRUE(MessageDifferencer::Equals(file->intent.policies(0), p))
      << file->intent.policies(0).DebugString() << "\n" << text;
  EXPECT_TRUE(MessageDifferencer::Equals(file->intent.policies(1), bypass))
      << file->intent.policies(1).DebugString() << "\n" << text;
}

}  // namespace
}  // namespace ikeless::ipsecctl
