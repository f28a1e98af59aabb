#include "datapath/esp/spd.h"

#include "datapath/esp/test_util.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

using testing::Bytes;

SpdEntry Entry(uint32_t id, const char* local, const char* remote,
               SpdEntry::Action action = SpdEntry::Action::kProtect, uint32_t protocol = 0,
               uint32_t port = 0) {
  SpdEntry e;
  e.id = id;
  e.name = "e" + std::to_string(id);
  e.local_prefix = local;
  e.remote_prefix = remote;
  e.action = action;
  e.protocol = protocol;
  e.port = port;
  return e;
}

PacketInfo Udp(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  auto p = ParseIpPacket(BuildUdpPacket(*IpAddress::Parse(src), *IpAddress::Parse(dst), sport,
                                        dport, Bytes("x")));
  EXPECT_TRUE(p.ok());
  return *p;
}

uint32_t Outbound(const Spd& spd, const PacketInfo& p) {
  const SpdEntry* e = spd.MatchOutbound(p);
  return e == nullptr ? 0 : e->id;
}

TEST(SpdTest, FirstMatchInListOrder) {
  auto spd = Spd::Compile({
      Entry(1, "198.18.1.0/24", "198.18.2.5", SpdEntry::Action::kBypass),
      Entry(2, "198.18.1.0/24", "198.18.2.0/24"),
      Entry(3, "198.18.0.0/16", "198.18.0.0/16", SpdEntry::Action::kDiscard),
  });
  ASSERT_TRUE(spd.ok()) << spd.status();
  EXPECT_EQ(Outbound(*spd, Udp("198.18.1.7", "198.18.2.5", 1, 2)), 1u);
  EXPECT_EQ(Outbound(*spd, Udp("198.18.1.7", "198.18.2.6", 1, 2)), 2u);
  EXPECT_EQ(Outbound(*spd, Udp("198.18.3.7", "198.18.2.6", 1, 2)), 3u);
  EXPECT_EQ(Outbound(*spd, Udp("10.0.0.1", "198.18.2.6", 1, 2)), 0u);
  EXPECT_EQ(Outbound(*spd, Udp("fd00::1", "fd00::2", 1, 2)), 0u);
}

TEST(SpdTest, ProtocolAndPortOnEitherSide) {
  auto spd = Spd::Compile({
      Entry(1, "*", "*", SpdEntry::Action::kProtect, kProtoTcp, 443),
      Entry(2, "*", "*", SpdEntry::Action::kProtect, kProtoUdp, 0),
      Entry(3, "*", "*", SpdEntry::Action::kBypass, 0, 53),
  });
  ASSERT_TRUE(spd.ok()) << spd.status();
  auto tcp = [](uint16_t s, uint16_t d) {
    auto p = Udp("10.0.0.1", "10.0.0.2", s, d);
    p.protocol = kProtoTcp;
    return p;
  };
  EXPECT_EQ(Outbound(*spd, tcp(50000, 443)), 1u);  // client side
  EXPECT_EQ(Outbound(*spd, tcp(443, 50000)), 1u);  // server side
  EXPECT_EQ(Outbound(*spd, tcp(50000, 53)), 3u);
  EXPECT_EQ(Outbound(*spd, tcp(50000, 80)), 0u);
  EXPECT_EQ(Outbound(*spd, Udp("10.0.0.1", "10.0.0.2", 9, 443)), 2u);
}

TEST(SpdTest, PacketsWithoutPortsMatchOnlyPortAnyEntries) {
  auto spd = Spd::Compile({
      Entry(1, "*", "*", SpdEntry::Action::kProtect, kProtoUdp, 4789),
      Entry(2, "*", "*", SpdEntry::Action::kProtect, kProtoUdp, 0),
  });
  ASSERT_TRUE(spd.ok());
  PacketInfo later = Udp("10.0.0.1", "10.0.0.2", 1, 4789);
  EXPECT_EQ(Outbound(*spd, later), 1u);
  later.later_fragment = later.fragment = true;
  later.has_ports = false;
  EXPECT_EQ(Outbound(*spd, later), 2u);
  PacketInfo icmp = Udp("10.0.0.1", "10.0.0.2", 1, 4789);
  icmp.protocol = kProtoIcmp;
  icmp.has_ports = false;
  EXPECT_EQ(Outbound(*spd, icmp), 0u);
}

TEST(SpdTest, Ipv6AndWildcards) {
  auto spd = Spd::Compile({
      Entry(1, "fd00:1::/48", "fd00:2::/48"),
      Entry(2, "", "any", SpdEntry::Action::kBypass),
  });
  ASSERT_TRUE(spd.ok()) << spd.status();
  EXPECT_EQ(Outbound(*spd, Udp("fd00:1::9", "fd00:2:0:1::9", 1, 2)), 1u);
  EXPECT_EQ(Outbound(*spd, Udp("fd00:1::9", "fd00:3::9", 1, 2)), 2u);
  EXPECT_EQ(Outbound(*spd, Udp("10.1.1.1", "10.2.2.2", 1, 2)), 2u);
}

TEST(SpdTest, PrefixBoundaries) {
  auto spd = Spd::Compile({Entry(1, "198.18.0.0/15", "10.0.0.0/9")});
  ASSERT_TRUE(spd.ok());
  EXPECT_EQ(Outbound(*spd, Udp("198.19.255.255", "10.127.0.1", 1, 2)), 1u);
  EXPECT_EQ(Outbound(*spd, Udp("198.20.0.0", "10.127.0.1", 1, 2)), 0u);
  EXPECT_EQ(Outbound(*spd, Udp("198.18.0.1", "10.128.0.1", 1, 2)), 0u);
}

TEST(SpdTest, InboundIsTheMirror) {
  auto spd = Spd::Compile({Entry(7, "198.18.1.0/24", "198.18.2.0/24", SpdEntry::Action::kProtect,
                                 kProtoUdp, 5000)});
  ASSERT_TRUE(spd.ok());
  EXPECT_TRUE(spd->AllowsInbound(7, Udp("198.18.2.9", "198.18.1.9", 5000, 40000)));
  EXPECT_FALSE(spd->AllowsInbound(7, Udp("198.18.1.9", "198.18.2.9", 5000, 40000)));
  EXPECT_FALSE(spd->AllowsInbound(7, Udp("198.18.3.9", "198.18.1.9", 5000, 40000)));
  EXPECT_FALSE(spd->AllowsInbound(7, Udp("198.18.2.9", "198.18.1.9", 5001, 40000)));
  EXPECT_FALSE(spd->AllowsInbound(8, Udp("198.18.2.9", "198.18.1.9", 5000, 40000)));
  ASSERT_NE(spd->Find(7), nullptr);
  EXPECT_EQ(spd->Find(7)->name, "e7");
  EXPECT_EQ(spd->Find(8), nullptr);
}

TEST(SpdTest, RejectsBadEntriesNamingThem) {
  struct Bad {
    SpdEntry entry;
    const char* want;
  };
  SpdEntry bad_peer = Entry(4, "*", "*");
  bad_peer.setup_peer = "not-an-address";
  const Bad cases[] = {
      {Entry(0, "*", "*"), "id must be > 0"},
      {Entry(3, "198.18.1.1/24", "*"), "e3): local_prefix"},
      {Entry(3, "*", "300.1.1.1"), "remote_prefix"},
      {Entry(3, "198.18.0.0/16", "fd00::/8"), "different families"},
      {Entry(3, "*", "*", SpdEntry::Action::kProtect, 300), "protocol 300"},
      {Entry(3, "*", "*", SpdEntry::Action::kProtect, kProtoUdp, 70000), "port 70000"},
      {Entry(3, "*", "*", SpdEntry::Action::kProtect, kProtoIcmp, 8), "port needs"},
      {bad_peer, "setup_peer"},
  };
  for (const Bad& b : cases) {
    auto spd = Spd::Compile({b.entry});
    ASSERT_FALSE(spd.ok()) << b.want;
    EXPECT_NE(spd.status().message().find(b.want), absl::string_view::npos)
        << spd.status().message();
  }
  auto dup = Spd::Compile({Entry(1, "*", "*"), Entry(1, "*", "*")});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate id"), absl::string_view::npos);
}

}  // namespace
}  // namespace ikeless::datapath::esp
