#include "datapath/esp/ip_packet.h"

#include "datapath/esp/test_util.h"
#include "datapath/esp/wire.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

using testing::Bytes;
using testing::Hex;

IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

// The DNS query inside draft-mcgrew-gcm-test-01 case 2 (IPv4, UDP 2712 -> 53).
const char kDnsQuery[] =
    "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
    "0001000000000000037369700963796265726369747902646b0000010001";

TEST(IpPacketTest, ParsesIpv4Udp) {
  std::vector<uint8_t> p = Hex(kDnsQuery);
  auto info = ParseIpPacket(p);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->version, 4);
  EXPECT_EQ(info->src.ToString(), "192.168.1.2");
  EXPECT_EQ(info->dst.ToString(), "192.168.1.1");
  EXPECT_EQ(info->protocol, kProtoUdp);
  EXPECT_TRUE(info->has_ports);
  EXPECT_EQ(info->src_port, 2712);
  EXPECT_EQ(info->dst_port, 53);
  EXPECT_FALSE(info->fragment);
  EXPECT_EQ(info->header_size, 20u);
  EXPECT_EQ(info->length, 62u);
}

TEST(IpPacketTest, ChecksumsOfARealPacketVerify) {
  std::vector<uint8_t> p = Hex(kDnsQuery);
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, {p.data(), 20})), 0);  // header checksum 4dcc
  // UDP checksum 2343 over the pseudo-header and the datagram.
  uint32_t sum = ChecksumAdd(0, {p.data() + 12, 8});
  sum += kProtoUdp + (p.size() - 20);
  sum = ChecksumAdd(sum, {p.data() + 20, p.size() - 20});
  EXPECT_EQ(ChecksumFinish(sum), 0);
}

TEST(IpPacketTest, BuildsUdpThatParsesAndVerifies) {
  for (auto [src, dst] : {std::pair{"198.18.1.1", "198.18.2.1"}, std::pair{"fd00::1", "fd00::2"}}) {
    std::vector<uint8_t> p = BuildUdpPacket(Ip(src), Ip(dst), 1234, 80, Bytes("hello!"));
    auto info = ParseIpPacket(p);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->src.ToString(), src);
    EXPECT_EQ(info->dst.ToString(), dst);
    EXPECT_EQ(info->protocol, kProtoUdp);
    EXPECT_EQ(info->src_port, 1234);
    EXPECT_EQ(info->dst_port, 80);
    EXPECT_EQ(info->length, p.size());
    const size_t h = info->header_size, alen = info->version == 4 ? 4 : 16;
    if (info->version == 4) {
      EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, {p.data(), 20})), 0);
    }
    uint32_t sum = ChecksumAdd(0, {p.data() + (info->version == 4 ? 12 : 8), 2 * alen});
    sum += kProtoUdp + (p.size() - h);
    sum = ChecksumAdd(sum, {p.data() + h, p.size() - h});
    EXPECT_EQ(ChecksumFinish(sum), 0);
  }
}

TEST(IpPacketTest, Ipv4FragmentsAndIcmp) {
  std::vector<uint8_t> p = BuildUdpPacket(Ip("10.0.0.1"), Ip("10.0.0.2"), 5, 6, Bytes("x"));
  // First fragment: MF set, offset 0 -> ports still readable.
  p[6] = 0x20;
  auto first = ParseIpPacket(p);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->fragment);
  EXPECT_FALSE(first->later_fragment);
  EXPECT_TRUE(first->has_ports);
  // A later fragment carries no UDP header.
  p[6] = 0x00;
  p[7] = 0x10;
  auto later = ParseIpPacket(p);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->fragment);
  EXPECT_TRUE(later->later_fragment);
  EXPECT_FALSE(later->has_ports);
  // ICMP has no ports.
  p = BuildUdpPacket(Ip("10.0.0.1"), Ip("10.0.0.2"), 5, 6, Bytes("x"));
  p[9] = kProtoIcmp;
  auto icmp = ParseIpPacket(p);
  ASSERT_TRUE(icmp.ok());
  EXPECT_EQ(icmp->protocol, kProtoIcmp);
  EXPECT_FALSE(icmp->has_ports);
}

TEST(IpPacketTest, Ipv4OptionsAreInTheHeader) {
  std::vector<uint8_t> p = BuildUdpPacket(Ip("10.0.0.1"), Ip("10.0.0.2"), 5, 6, Bytes("abc"));
  p.insert(p.begin() + 20, {1, 1, 1, 0});  // NOP NOP NOP EOL
  p[0] = 0x46;
  StoreBe16(&p[2], static_cast<uint16_t>(p.size()));
  auto info = ParseIpPacket(p);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->header_size, 24u);
  EXPECT_EQ(info->src_port, 5);
}

TEST(IpPacketTest, Ipv6ExtensionHeaders) {
  std::vector<uint8_t> p = BuildUdpPacket(Ip("fd00::1"), Ip("fd00::2"), 7, 8, Bytes("data"));
  // Insert hop-by-hop (8 octets) and a fragment header (first fragment).
  std::vector<uint8_t> hbh = {44, 0, 1, 4, 0, 0, 0, 0};
  std::vector<uint8_t> frag = {kProtoUdp, 0, 0x00, 0x01, 0, 0, 0, 9};
  p.insert(p.begin() + 40, frag.begin(), frag.end());
  p.insert(p.begin() + 40, hbh.begin(), hbh.end());
  p[6] = 0;  // base next header: hop-by-hop
  StoreBe16(&p[4], static_cast<uint16_t>(p.size() - 40));
  auto info = ParseIpPacket(p);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->protocol, kProtoUdp);
  EXPECT_EQ(info->header_protocol, 0);
  EXPECT_EQ(info->header_size, 40u);
  EXPECT_TRUE(info->fragment);
  EXPECT_FALSE(info->later_fragment);
  EXPECT_TRUE(info->has_ports);
  EXPECT_EQ(info->dst_port, 8);
  // Later fragment: offset 8 octets.
  p[40 + 8 + 3] = 0x08;
  auto later = ParseIpPacket(p);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->later_fragment);
  EXPECT_FALSE(later->has_ports);
  EXPECT_EQ(later->protocol, kProtoUdp);
}

TEST(IpPacketTest, RejectsMalformed) {
  std::vector<uint8_t> v4 = BuildUdpPacket(Ip("10.0.0.1"), Ip("10.0.0.2"), 1, 2, Bytes("abc"));
  EXPECT_FALSE(ParseIpPacket({}).ok());
  EXPECT_FALSE(ParseIpPacket({v4.data(), 19}).ok());
  std::vector<uint8_t> bad = v4;
  bad[0] = 0x44;  // IHL 4
  EXPECT_FALSE(ParseIpPacket(bad).ok());
  bad = v4;
  StoreBe16(&bad[2], static_cast<uint16_t>(v4.size() + 1));  // longer than the buffer
  EXPECT_FALSE(ParseIpPacket(bad).ok());
  bad = v4;
  bad[0] = 0x55;
  EXPECT_FALSE(ParseIpPacket(bad).ok());
  std::vector<uint8_t> v6 = BuildUdpPacket(Ip("fd00::1"), Ip("fd00::2"), 1, 2, Bytes("abc"));
  bad = v6;
  StoreBe16(&bad[4], 0);  // jumbogram
  EXPECT_FALSE(ParseIpPacket(bad).ok());
  bad = v6;
  StoreBe16(&bad[4], 200);
  EXPECT_FALSE(ParseIpPacket(bad).ok());
  // A buffer longer than the datagram is fine (length comes from the header).
  std::vector<uint8_t> padded = v4;
  padded.push_back(0);
  auto info = ParseIpPacket(padded);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->length, v4.size());
}

TEST(IpPacketTest, AppendIpHeader) {
  std::vector<uint8_t> out;
  AppendIpHeader(RawAddress::From(Ip("198.18.0.1")), RawAddress::From(Ip("198.18.0.2")), kProtoTcp,
                 100, &out);
  ASSERT_EQ(out.size(), 20u);
  EXPECT_EQ(out[0], 0x45);
  EXPECT_EQ(LoadBe16(&out[2]), 120);
  EXPECT_EQ(out[9], kProtoTcp);
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, out)), 0);
  out.clear();
  AppendIpHeader(RawAddress::From(Ip("fd00::1")), RawAddress::From(Ip("fd00::2")), kProtoTcp, 100,
                 &out);
  ASSERT_EQ(out.size(), 40u);
  EXPECT_EQ(out[0], 0x60);
  EXPECT_EQ(LoadBe16(&out[4]), 100);
  EXPECT_EQ(out[6], kProtoTcp);
}

}  // namespace
}  // namespace ikeless::datapath::esp
