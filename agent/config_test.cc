#include "agent/config.h"

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

constexpr char kGood[] = R"(
node_name: "gw-a"
controller: "198.18.100.1:50051"
addresses: "198.18.0.1"
tls { ca_file: "ca.crt" cert_file: "gw-a.crt" key_file: "gw-a.key" }
spd { name: "site" local: "198.18.10.0/24" remote: "198.18.20.0/24" setup_peer: "198.18.0.2" }
spd { local: "198.18.0.1" remote: "198.18.0.2" action: BYPASS protocol: 17 port: 53 }
)";

TEST(AgentConfig, ParsesAndFillsDefaults) {
  auto c = ParseConfig(kGood, "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->config.esp().tun_name(), "ikl0");
  EXPECT_EQ(c->config.esp().udp_port(), 4500u);
  EXPECT_EQ(c->config.esp().listen_address(), "198.18.0.1");
  EXPECT_EQ(c->config.setup().max_attempts(), 6u);
  EXPECT_EQ(c->config.setup().successor_keys(), 3u);
  ASSERT_EQ(c->spd.size(), 2u);
  EXPECT_EQ(c->spd[0].id, 1u);
  EXPECT_EQ(c->spd[0].action, datapath::SpdEntry::Action::kProtect);
  EXPECT_EQ(c->spd[0].setup_peer, "198.18.0.2");
  EXPECT_EQ(c->spd[0].local_address, "198.18.0.1");
  EXPECT_EQ(c->spd[1].name, "spd-2");
  EXPECT_EQ(c->spd[1].local_prefix, "198.18.0.1/32");
  EXPECT_EQ(c->spd[1].action, datapath::SpdEntry::Action::kBypass);
}

TEST(AgentConfig, SuccessorKeysCanBeTurnedOffAndAreBounded) {
  auto off = ParseConfig(std::string(kGood) + "setup { successor_keys: 0 }", "a.conf");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->config.setup().successor_keys(), 0u);
  auto many = ParseConfig(std::string(kGood) + "setup { successor_keys: 9 }", "a.conf");
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("setup.successor_keys: at most 8"), std::string::npos)
      << many.status();
}

TEST(AgentConfig, XfrmBlockSelectsTheKernelDatapathWithDefaults) {
  auto plain = ParseConfig(kGood, "a.conf");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->config.has_xfrm()) << "the engine is the default";
  auto c = ParseConfig(std::string(kGood) + "xfrm {}", "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->config.has_xfrm());
  EXPECT_EQ(c->config.xfrm().reqid_base(), 0x1e50000u);
  EXPECT_EQ(c->config.xfrm().priority_base(), 1000u);
  EXPECT_EQ(c->config.xfrm().udp_port(), 4500u);
  auto raw = ParseConfig(std::string(kGood) + "xfrm { raw_esp: true }", "a.conf");
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(raw->config.xfrm().udp_port(), 0u);
  auto both = ParseConfig(std::string(kGood) + "xfrm { raw_esp: true udp_port: 4500 }", "a.conf");
  EXPECT_NE(both.status().message().find("xfrm.udp_port"), std::string::npos) << both.status();
  auto high = ParseConfig(std::string(kGood) + "xfrm { reqid_base: 4294967295 }", "a.conf");
  EXPECT_NE(high.status().message().find("xfrm.reqid_base"), std::string::npos) << high.status();
}

TEST(AgentConfig, ErrorsNameFileAndField) {
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {"node_name: \"x\" bogus: 1", "a.conf: line 1"},
      {"controller: \"h:1\" addresses: \"198.18.0.1\"", "a.conf: node_name: is required"},
      {"insecure: true node_name: \"x\" controller: \"h:1\" addresses: \"198.18.0\"", "addresses[0]"},
      {"insecure: true node_name: \"x\" controller: \"h:1\" addresses: \"198.18.0.1\" spd { local: \"198.18.1.0/24\" "
       "remote: \"198.18.2.0/24\" }",
       "spd[0].setup_peer: a PROTECT rule needs"},
      {"insecure: true node_name: \"x\" controller: \"h:1\" addresses: \"198.18.0.1\" spd { local: \"198.18.1.0/33\" "
       "remote: \"198.18.2.0/24\" setup_peer: \"198.18.0.2\" }",
       "spd[0].local"},
      {"insecure: true node_name: \"x\" controller: \"h:1\" addresses: \"198.18.0.1\" spd { local: \"198.18.1.0/24\" "
       "remote: \"fd00::/8\" setup_peer: \"198.18.0.2\" }",
       "spd[0].remote: must be of the same family"},
      {"insecure: true node_name: \"x\" controller: \"h:1\" addresses: \"198.18.0.1\" spd { local: \"198.18.1.0/24\" "
       "remote: \"198.18.2.0/24\" setup_peer: \"198.18.0.2\" local_address: \"198.18.0.9\" }",
       "spd[0].local_address: must be one of addresses"},
      {"insecure: true node_name: \"x\" controller: \"h:1\" addresses: \"198.18.0.1\" spd { local: \"198.18.1.0/24\" "
       "remote: \"198.18.2.0/24\" setup_peer: \"198.18.0.2\" port: 22 }",
       "spd[0].port: needs protocol"},
  };
  for (const Case& c : cases) {
    auto r = ParseConfig(c.text, "a.conf");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
}

TEST(AgentConfig, TlsIsRequiredUnlessInsecure) {
  auto r = ParseConfig("node_name: \"x\" controller: \"h:1\" addresses: \"198.18.0.1\"", "a.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tls.ca_file: is required"), std::string::npos);
  r = ParseConfig(
      "insecure: true tls { ca_file: \"c\" } node_name: \"x\" controller: \"h:1\" addresses: "
      "\"198.18.0.1\"",
      "a.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("insecure: do not combine"), std::string::npos);
}

// With a pushed SPD a node's config is only who it is, where the
// controller is, TLS and the datapath.
TEST(AgentConfig, SpdRulesAreOptionalAndRoutesAreManagedByDefault) {
  auto c = ParseConfig(R"(
node_name: "gw-a"
controller: "198.18.100.1:50051"
addresses: "198.18.0.1"
tls { ca_file: "ca.crt" cert_file: "gw-a.crt" key_file: "gw-a.key" }
esp { tun_name: "ikl0" }
)",
                       "a.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->spd.empty());
  EXPECT_TRUE(c->config.esp().manage_routes());
  EXPECT_EQ(c->config.esp().route_table(), 485u);
  EXPECT_EQ(c->config.esp().route_rule_priority(), 485u);
  auto off = ParseConfig(std::string(kGood) +
                             "esp { manage_routes: false route_table: 100 route_rule_priority: 90 }",
                         "a.conf");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->config.esp().manage_routes());
  EXPECT_EQ(off->config.esp().route_table(), 100u);
  EXPECT_EQ(off->config.esp().route_rule_priority(), 90u);
  auto main_table = ParseConfig(std::string(kGood) + "esp { route_table: 254 }", "a.conf");
  EXPECT_NE(main_table.status().message().find("esp.route_table"), std::string::npos);
  auto late = ParseConfig(std::string(kGood) + "esp { route_rule_priority: 32766 }", "a.conf");
  EXPECT_NE(late.status().message().find("esp.route_rule_priority"), std::string::npos);
}

TEST(AgentConfig, MissingFileIsNotFound) {
  auto r = LoadConfigFile("/nonexistent/agent.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ikeless::agent
