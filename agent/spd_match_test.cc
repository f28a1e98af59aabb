// SPD checks and S52's lookup of the entry a RequestStartup names.
#include "agent/spd_match.h"

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;

constexpr char k2a[] = "198.18.1.1";
constexpr char k2b[] = "198.18.2.1";
constexpr char k2c[] = "198.18.3.1";

SpdEntry Entry(uint32_t id, std::string peer, uint32_t protocol = 0, uint32_t port = 0) {
  SpdEntry e;
  e.id = id;
  e.name = "e" + std::to_string(id);
  e.setup_peer = std::move(peer);
  e.local_address = k2a;
  e.protocol = protocol;
  e.port = port;
  return e;
}

v1::RequestStartup Startup(std::string peer, std::string local = k2a, uint32_t protocol = 0,
                           uint32_t port = 0) {
  v1::RequestStartup s;
  s.set_peer(std::move(peer));
  s.set_local(std::move(local));
  s.mutable_selector()->set_protocol(protocol);
  s.mutable_selector()->set_port(port);
  return s;
}

TEST(SpdMatchTest, ValidateRejectsUnusableSpds) {
  EXPECT_TRUE(ValidateSpd({Entry(1, k2b), Entry(2, k2c, 6, 443)}).ok());
  EXPECT_FALSE(ValidateSpd({Entry(0, k2b)}).ok());
  EXPECT_FALSE(ValidateSpd({Entry(1, k2b), Entry(1, k2c)}).ok());
  SpdEntry no_local = Entry(1, k2b);
  no_local.local_address.clear();
  EXPECT_EQ(ValidateSpd({no_local}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ValidateSpd({Entry(1, "not-an-address")}).ok());
  EXPECT_FALSE(ValidateSpd({Entry(1, "fd00::2")}).ok());  // family differs
  EXPECT_FALSE(ValidateSpd({Entry(1, k2a)}).ok());        // ourselves
  // S33: conventional entries need neither.
  SpdEntry conventional = Entry(1, "");
  conventional.local_address.clear();
  EXPECT_TRUE(ValidateSpd({conventional}).ok());
  SpdEntry bypass = Entry(2, "junk");
  bypass.action = SpdEntry::Action::kBypass;
  EXPECT_TRUE(ValidateSpd({bypass}).ok());
}

TEST(SpdMatchTest, S52_FindsEntryByPeerLocalAndSelector) {
  SpdEntry bypass = Entry(1, k2b);
  bypass.action = SpdEntry::Action::kBypass;
  const std::vector<SpdEntry> spd =
      CanonicalSpd({bypass, Entry(2, k2b), Entry(3, k2c, 6, 443), Entry(4, k2c, 17, 53)});
  const SpdEntry* e = MatchStartup(spd, Startup(k2b));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->id, 2u);  // the bypass entry does not ask the controller
  EXPECT_EQ(MatchStartup(spd, Startup(k2c, k2a, 17, 53))->id, 4u);
  EXPECT_EQ(MatchStartup(spd, Startup(k2c, "", 6, 443))->id, 3u);  // no local: peer decides
}

TEST(SpdMatchTest, S53_NoEntryForOtherPeerLocalOrSelector) {
  const std::vector<SpdEntry> spd = CanonicalSpd({Entry(1, k2b), Entry(2, k2c, 6, 443)});
  EXPECT_EQ(MatchStartup(spd, Startup("198.18.9.9")), nullptr);
  EXPECT_EQ(MatchStartup(spd, Startup(k2b, "198.18.1.2")), nullptr);
  EXPECT_EQ(MatchStartup(spd, Startup(k2c, k2a, 6, 80)), nullptr);
  EXPECT_EQ(MatchStartup(spd, Startup(k2c, k2a)), nullptr);
  EXPECT_EQ(MatchStartup({}, Startup(k2b)), nullptr);
}

TEST(SpdMatchTest, AddressesCompareCanonically) {
  SpdEntry v6 = Entry(1, "fd00::0002");
  v6.local_address = "FD00:0::1";
  const std::vector<SpdEntry> spd = CanonicalSpd({v6});
  EXPECT_EQ(spd[0].setup_peer, "fd00::2");
  EXPECT_EQ(spd[0].local_address, "fd00::1");
  EXPECT_NE(MatchStartup(spd, Startup("fd00:0:0::2", "fd00::1")), nullptr);
  EXPECT_EQ(CanonicalOrSelf("not an address"), "not an address");
}

v1::RequestStartup WithTraffic(std::string local, std::string remote) {
  v1::RequestStartup s = Startup(k2b);
  s.mutable_traffic()->set_local(std::move(local));
  s.mutable_traffic()->set_remote(std::move(remote));
  return s;
}

// Two PROTECT entries toward one peer (an IPv4 and an IPv6 site pair
// behind the same gateways): the startup's traffic picks the entry.
TEST(SpdMatchTest, S52_TrafficPicksAmongEntriesTowardOnePeer) {
  SpdEntry v4 = Entry(1, k2b);
  v4.local_prefix = "198.18.10.0/24";
  v4.remote_prefix = "198.18.20.0/24";
  SpdEntry v6 = Entry(2, k2b);
  v6.local_prefix = "FD00:10:0::/64";  // canonicalised by CanonicalSpd
  v6.remote_prefix = "fd00:20::/64";
  const std::vector<SpdEntry> spd = CanonicalSpd({v4, v6});
  EXPECT_EQ(spd[1].local_prefix, "fd00:10::/64");
  EXPECT_EQ(MatchStartup(spd, WithTraffic("fd00:10::/64", "fd00:20::/64"))->id, 2u);
  EXPECT_EQ(MatchStartup(spd, WithTraffic("fd00:10:0::/64", "fd00:20::0/64"))->id, 2u)
      << "compared in canonical form";
  EXPECT_EQ(MatchStartup(spd, WithTraffic("198.18.10.0/24", "198.18.20.0/24"))->id, 1u);
  EXPECT_EQ(MatchStartup(spd, WithTraffic("", "fd00:20::/64"))->id, 2u) << "one side stated";
  EXPECT_EQ(MatchStartup(spd, WithTraffic("198.18.10.0/24", "198.18.21.0/24")), nullptr);
  EXPECT_EQ(MatchStartup(spd, WithTraffic("198.18.20.0/24", "198.18.10.0/24")), nullptr)
      << "the recipient's view: local is behind us";
  EXPECT_EQ(MatchStartup(spd, Startup(k2b))->id, 1u) << "no traffic: the first entry, as before";
  EXPECT_EQ(CanonicalCidrOrSelf("198.18.0.1"), "198.18.0.1/32");
  EXPECT_EQ(CanonicalCidrOrSelf("fd00::1/128"), "fd00::1/128");
  EXPECT_EQ(CanonicalCidrOrSelf("junk"), "junk");
}

}  // namespace
}  // namespace ikeless::agent
