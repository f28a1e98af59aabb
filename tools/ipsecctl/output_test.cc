#include "tools/ipsecctl/output.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

// 2027-01-15T08:00:00Z
constexpr int64_t kT0 = 1800000000;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  EXPECT_EQ(lines.back(), "") << "output must end with a newline";
  lines.pop_back();
  return lines;
}

// Column start offsets from a header line (words separated by 2+ spaces).
std::vector<size_t> ColumnStarts(const std::string& header) {
  std::vector<size_t> starts = {0};
  for (size_t i = 1; i < header.size(); ++i) {
    if (header[i] != ' ' && header[i - 1] == ' ') starts.push_back(i);
  }
  return starts;
}

v1::Policy WebPolicy() {
  v1::Policy p;
  p.set_name("web");
  p.mutable_a()->set_address("198.18.0.0/24");
  p.mutable_b()->set_address("*");
  p.mutable_selector()->set_protocol(6);
  p.mutable_selector()->set_port(443);
  p.set_protocol(v1::IPSEC_PROTOCOL_ESP);
  p.set_mode(v1::MODE_TUNNEL);
  p.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  p.set_encryption_key_bits(128);
  p.set_integrity(v1::INTEGRITY_NONE);
  p.mutable_lifetime()->set_hard_seconds(3600);
  p.set_priority(10);
  p.set_revision(3);
  p.set_create_time_unix(kT0);
  return p;
}

v1::Association Established() {
  v1::Association a;
  a.set_id(42);
  a.set_state(v1::Association::ESTABLISHED);
  a.mutable_a()->set_address("198.18.1.1");
  a.mutable_a()->set_request_id(1001);
  a.mutable_a()->set_spi(5100);
  a.mutable_b()->set_address("198.18.2.1");
  a.mutable_b()->set_request_id(2001);
  a.mutable_b()->set_spi(0xdeadbeef);
  a.set_policy_name("mesh");
  a.set_create_time_unix(kT0);
  a.set_establish_time_unix(kT0 + 1);
  a.set_expire_time_unix(kT0 + 3600);
  return a;
}

TEST(Format, TimesAreRfc3339Utc) {
  EXPECT_EQ(FormatTime(kT0), "2027-01-15T08:00:00Z");
  EXPECT_EQ(FormatTime(0), "-");
  EXPECT_EQ(FormatTimeMicros(kT0 * 1000000 + 123456), "2027-01-15T08:00:00.123456Z");
  EXPECT_EQ(FormatTimeMicros(0), "-");
}

TEST(Format, SpisInHexAndDecimal) {
  EXPECT_EQ(FormatSpi(5100), "0x000013ec (5100)");
  EXPECT_EQ(FormatSpi(0xffffffff), "0xffffffff (4294967295)");
}

TEST(PolicyTable, HeaderColumnsAndAlignment) {
  v1::ListPoliciesResponse r;
  *r.add_policies() = WebPolicy();
  v1::Policy* other = r.add_policies();
  other->set_name("legacy-branch-office");
  other->mutable_a()->set_address("fd00:1::/64");
  other->mutable_b()->set_address("fd00:2::1");
  other->set_mode(v1::MODE_TRANSPORT);
  other->set_encryption(v1::ENCRYPTION_AES_CBC);
  other->set_integrity(v1::INTEGRITY_HMAC_SHA2_256_128);
  other->mutable_lifetime()->set_hard_seconds(5400);
  other->set_revision(12);
  other->set_action(v1::POLICY_ACTION_BYPASS);

  std::vector<std::string> lines = Lines(PolicyTable(r));
  ASSERT_EQ(lines.size(), 3u);
  // web's action is unspecified: PROTECT.
  EXPECT_EQ(lines[0],
            "NAME                  A              B          SELECTOR  ACTION   MODE       "
            "ENCRYPTION      INTEGRITY          LIFETIME  PRIORITY  REV");
  EXPECT_EQ(lines[1],
            "web                   198.18.0.0/24  *          tcp/443   protect  tunnel     "
            "aes-gcm-16/128  none               1h        10        3");
  EXPECT_EQ(lines[2],
            "legacy-branch-office  fd00:1::/64    fd00:2::1  any       bypass   transport  "
            "aes-cbc         hmac-sha2-256-128  1h30m     0         12");
}

TEST(AssociationTable, SidesShowAddressIdAndSpi) {
  v1::ListAssociationsResponse r;
  *r.add_associations() = Established();
  v1::Association* half = r.add_associations();
  half->set_id(43);
  half->set_state(v1::Association::HALF_OPEN);
  half->mutable_a()->set_address("198.18.1.1");
  half->mutable_a()->set_request_id(1002);
  half->mutable_a()->set_spi(5101);
  half->mutable_b()->set_address("198.18.3.1");
  half->set_policy_name("mesh");

  std::vector<std::string> lines = Lines(AssociationTable(r));
  ASSERT_EQ(lines.size(), 3u);
  std::vector<size_t> starts = ColumnStarts(lines[0]);
  ASSERT_EQ(starts.size(), 6u) << lines[0];
  EXPECT_EQ(lines[0].substr(0, 9), "ID  STATE");
  EXPECT_EQ(lines[0].substr(starts[2], 1), "A");
  EXPECT_EQ(lines[0].substr(starts[3], 1), "B");
  EXPECT_EQ(lines[0].substr(starts[4]), "POLICY  EXPIRES");
  EXPECT_EQ(lines[1].substr(starts[1], 11), "established");
  EXPECT_EQ(lines[1].substr(starts[2], 40), "198.18.1.1 id=1001 spi=0x000013ec (5100)");
  EXPECT_EQ(lines[1].substr(starts[3]),
            "198.18.2.1 id=2001 spi=0xdeadbeef (3735928559)  mesh    2027-01-15T09:00:00Z");
  EXPECT_EQ(lines[2].substr(0, starts[2]), "43  half-open    ");
  // Side b has not asked yet; the row does not expire yet.
  EXPECT_EQ(lines[2].substr(starts[3]),
            "198.18.3.1 id=- spi=-                           mesh    -");
}

TEST(AssociationTable, TrafficColumnOnlyWhenSomeAssociationStatesPrefixes) {
  v1::ListAssociationsResponse r;
  *r.add_associations() = Established();
  EXPECT_EQ(Lines(AssociationTable(r))[0].find("TRAFFIC"), std::string::npos);

  v1::Association* tunnel = r.add_associations();
  *tunnel = Established();
  tunnel->set_id(44);
  tunnel->set_a_prefix("198.18.10.0/24");
  tunnel->set_b_prefix("fd00:20::/64");
  std::vector<std::string> lines = Lines(AssociationTable(r));
  ASSERT_EQ(lines.size(), 3u);
  std::vector<size_t> starts = ColumnStarts(lines[0]);
  ASSERT_EQ(starts.size(), 7u) << lines[0];
  EXPECT_EQ(lines[0].substr(starts[4]), "TRAFFIC                          POLICY  EXPIRES");
  // Not stated: "-", as every empty cell.
  EXPECT_EQ(lines[1].substr(starts[4], 2), "- ");
  EXPECT_EQ(lines[2].substr(starts[4]),
            "198.18.10.0/24 <-> fd00:20::/64  mesh    2027-01-15T09:00:00Z");
}

TEST(AgentTable, Columns) {
  v1::ListAgentsResponse r;
  v1::Agent* a = r.add_agents();
  a->set_node_name("router-1");
  a->add_addresses("198.18.1.1");
  a->add_addresses("fd00:1::1");
  a->set_agent_version("0.1.0");
  a->set_connected(true);
  a->set_last_seen_unix(kT0);
  a->set_datapath("xfrm");
  v1::Agent* b = r.add_agents();
  b->set_node_name("pc-2");
  b->set_datapath("esp-engine");
  EXPECT_EQ(AgentTable(r),
            "NODE      ADDRESSES             CONNECTED  VERSION  DATAPATH    LAST-SEEN\n"
            "router-1  198.18.1.1,fd00:1::1  yes        0.1.0    xfrm        2027-01-15T08:00:00Z\n"
            "pc-2      -                     no         -        esp-engine  -\n");
}

TEST(PolicyDetail, ShowsEveryOperatorField) {
  v1::Policy p = WebPolicy();
  p.mutable_lifetime()->set_soft_bytes(1000);
  p.set_description("front ends");
  std::string out = PolicyDetail(p);
  for (const char* line :
       {"NAME                   web\n", "SELECTOR               tcp/443\n",
        "PROTOCOL               esp\n", "ENCRYPTION             aes-gcm-16/128\n",
        "ACTION                 protect\n", "LIFETIME               1h\n",
        "SOFT-LIFETIME          -\n",
        "SOFT-LIFETIME-BYTES    1000\n", "LIFETIME-BYTES         unlimited\n",
        "REPLAY-WINDOW          -\n", "ALLOW-LEGACY           no\n",
        "DESCRIPTION            front ends\n", "REVISION               3\n",
        "CREATED                2027-01-15T08:00:00Z\n", "UPDATED                -\n"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "in:\n" << out;
  }
}

TEST(AssociationDetail, ShowsSidesAndTimes) {
  std::string out = AssociationDetail(Established());
  EXPECT_NE(out.find("STATE          established\n"), std::string::npos) << out;
  EXPECT_NE(out.find("B              198.18.2.1 id=2001 spi=0xdeadbeef (3735928559)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("ESTABLISHED    2027-01-15T08:00:01Z\n"), std::string::npos) << out;
  EXPECT_NE(out.find("STARTUPS-SENT  0\n"), std::string::npos) << out;
}

TEST(AssociationDetail, TrafficOnlyWhenStated) {
  EXPECT_EQ(AssociationDetail(Established()).find("TRAFFIC"), std::string::npos);
  v1::Association a = Established();
  a.set_a_prefix("198.18.10.0/24");
  std::string out = AssociationDetail(a);
  EXPECT_NE(out.find("B              198.18.2.1 id=2001 spi=0xdeadbeef (3735928559)\n"
                     "TRAFFIC        198.18.10.0/24 <-> -\n"),
            std::string::npos)
      << out;
}

// Three nodes: in sync, away (its agent holds an older revision), and
// connected but behind.
v1::ListNodesResponse Fleet() {
  v1::ListNodesResponse r;
  v1::Node* a = r.add_nodes();
  a->set_name("gw-a");
  a->add_addresses("198.18.0.1");
  a->add_sites("198.18.10.0/24");
  a->add_sites("fd00:10::/64");
  v1::NodeStatus* s = a->mutable_status();
  s->set_connected(true);
  s->set_spd_revision(7);
  s->set_applied_revision(7);
  s->set_in_sync(true);
  s->set_spd_rules(4);
  s->set_datapath("xfrm");
  v1::Node* b = r.add_nodes();
  b->set_name("gw-b");
  b->add_addresses("198.18.0.2");
  b->add_addresses("fd00::2");
  s = b->mutable_status();
  s->set_spd_revision(5);
  s->set_applied_revision(3);
  s->set_spd_rules(2);
  v1::Node* c = r.add_nodes();
  c->set_name("pc-c");
  c->add_addresses("198.18.0.3");
  s = c->mutable_status();
  s->set_connected(true);
  s->set_spd_revision(9);
  s->set_applied_revision(8);
  s->set_spd_rules(1);
  s->set_datapath("esp-engine");
  return r;
}

TEST(NodeTable, Columns) {
  EXPECT_EQ(
      NodeTable(Fleet()),
      "NAME  ADDRESSES           SITES                        CONNECTED  SPD  SYNC  RULES  "
      "DATAPATH\n"
      "gw-a  198.18.0.1          198.18.10.0/24,fd00:10::/64  yes        7/7  yes   4      xfrm\n"
      "gw-b  198.18.0.2,fd00::2  -                            no         3/5  -     2      -\n"
      "pc-c  198.18.0.3          -                            yes        8/9  no    1      "
      "esp-engine\n");
}

TEST(NodeTable, NothingPushedYet) {
  v1::ListNodesResponse r;
  v1::Node* n = r.add_nodes();
  n->set_name("new");
  n->add_addresses("198.18.0.9");
  EXPECT_EQ(Lines(NodeTable(r))[1], "new   198.18.0.9  -      no         -    -     0      -");
}

TEST(NodeDetail, RecordThenStatus) {
  v1::Node n = Fleet().nodes(0);
  n.set_description("branch office");
  n.set_revision(2);
  n.set_create_time_unix(kT0);
  n.mutable_status()->set_last_error("rule 3: prefix family mismatch");
  n.mutable_status()->set_agent_version("0.2.0");
  n.mutable_status()->set_last_seen_unix(kT0 + 60);
  EXPECT_EQ(NodeDetail(n),
            "NAME         gw-a\n"
            "ADDRESSES    198.18.0.1\n"
            "SITES        198.18.10.0/24,fd00:10::/64\n"
            "DESCRIPTION  branch office\n"
            "REVISION     2\n"
            "CREATED      2027-01-15T08:00:00Z\n"
            "UPDATED      -\n"
            "CONNECTED    yes\n"
            "SPD          7/7\n"
            "SYNC         yes\n"
            "RULES        4\n"
            "LAST-ERROR   rule 3: prefix family mismatch\n"
            "DATAPATH     xfrm\n"
            "VERSION      0.2.0\n"
            "LAST-SEEN    2027-01-15T08:01:00Z\n");
  // Create and Update answer without a status: only the record.
  n.clear_status();
  EXPECT_EQ(Lines(NodeDetail(n)).size(), 7u);
}

TEST(NodeDetail, DatapathReportShowsDropsAndEachSa) {
  v1::Node n = Fleet().nodes(0);
  v1::NodeStatus* s = n.mutable_status();
  s->set_report_time_unix(kT0 + 5);
  (*s->mutable_drops())["replay"] = 2;
  (*s->mutable_drops())["integrity"] = 3;
  v1::SaReport* sa = s->add_sas();
  sa->set_association_id(17);
  sa->set_inbound(true);
  sa->set_spi(0x1234);
  sa->set_packets(10);
  sa->set_bytes(1400);
  sa->set_integrity_failures(3);
  std::vector<std::string> lines = Lines(NodeDetail(n));
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[lines.size() - 3], "DROPS        integrity=3 replay=2");
  EXPECT_EQ(lines[lines.size() - 2], "REPORTED     2027-01-15T08:00:05Z");
  EXPECT_EQ(lines.back(),
            "SA           assoc 17 in 0x00001234 (4660) packets=10 bytes=1400 replay=0 integrity=3");
}

TEST(Json, NodeCarriesStatusAndSites) {
  auto json = ToJson(Fleet(), JsonStyle::kOneLine);
  ASSERT_TRUE(json.ok());
  for (const char* field :
       {"\"nodes\":[", "\"sites\":[\"198.18.10.0/24\",\"fd00:10::/64\"]",
        "\"applied_revision\":\"7\"", "\"in_sync\":true", "\"spd_rules\":4",
        "\"last_error\":\"\""}) {
    EXPECT_NE(json->find(field), std::string::npos) << field << " in " << *json;
  }
}

TEST(EventLine, OneAlignedLinePerEvent) {
  v1::Event e;
  e.set_kind(v1::Event::POLICY_CREATED);
  e.set_time_unix_micros(kT0 * 1000000);
  e.set_subject("web");
  e.set_detail("198.18.0.0/24 <-> *");
  v1::Event f;
  f.set_kind(v1::Event::ASSOCIATION_ESTABLISHED);
  f.set_time_unix_micros(kT0 * 1000000 + 5);
  f.set_subject("42");
  f.set_detail("line one\nline two");
  EXPECT_EQ(EventLine(e),
            "2027-01-15T08:00:00.000000Z  policy-created           web  198.18.0.0/24 <-> *\n");
  EXPECT_EQ(EventLine(f),
            "2027-01-15T08:00:00.000005Z  association-established  42  line one?line two\n");
  v1::Event bare;
  bare.set_kind(v1::Event::POLICY_DELETED);
  bare.set_subject("web");
  EXPECT_EQ(EventLine(bare), "-  policy-deleted           web\n");
  // The SPD kinds line up with the others.
  v1::Event pushed;
  pushed.set_kind(v1::Event::SPD_REJECTED);
  pushed.set_time_unix_micros(kT0 * 1000000);
  pushed.set_subject("gw-a");
  pushed.set_detail("revision 8: base 6 is not 7");
  EXPECT_EQ(EventLine(pushed),
            "2027-01-15T08:00:00.000000Z  spd-rejected             gw-a  revision 8: base 6 is "
            "not 7\n");
}

TEST(Json, ProtoFieldNamesAndEveryPrimitiveField) {
  v1::ListAssociationsResponse r;
  *r.add_associations() = Established();
  auto json = ToJson(r, JsonStyle::kIndented);
  ASSERT_TRUE(json.ok()) << json.status();
  for (const char* field :
       {"\"associations\"", "\"policy_name\": \"mesh\"", "\"request_id\": \"1001\"",
        "\"spi\": 5100", "\"state\": \"ESTABLISHED\"", "\"startups_sent\": 0",
        "\"expire_time_unix\": \"1800003600\""}) {
    EXPECT_NE(json->find(field), std::string::npos) << field << " in\n" << *json;
  }
  EXPECT_EQ(json->find("policyName"), std::string::npos);
  EXPECT_EQ(json->back(), '\n');
}

TEST(Json, OneLineForStreamsAndEmptyObjectForDelete) {
  v1::Event e;
  e.set_kind(v1::Event::AGENT_CONNECTED);
  e.set_subject("router-1");
  auto json = ToJson(e, JsonStyle::kOneLine);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json,
            "{\"kind\":\"AGENT_CONNECTED\",\"time_unix_micros\":\"0\",\"subject\":\"router-1\","
            "\"detail\":\"\"}\n");
  EXPECT_EQ(*ToJson(v1::DeletePolicyResponse(), JsonStyle::kOneLine), "{}\n");
}

TEST(Json, PolicyCarriesEveryField) {
  auto json = ToJson(WebPolicy(), JsonStyle::kOneLine);
  ASSERT_TRUE(json.ok());
  for (const char* field :
       {"\"name\":\"web\"", "\"encryption\":\"ENCRYPTION_AES_GCM_16\"",
        "\"encryption_key_bits\":128", "\"allow_legacy_algorithms\":false",
        "\"hard_seconds\":\"3600\"", "\"replay_window\":0", "\"revision\":\"3\""}) {
    EXPECT_NE(json->find(field), std::string::npos) << field << " in " << *json;
  }
}

}  // namespace
}  // namespace ikeless::ipsecctl
