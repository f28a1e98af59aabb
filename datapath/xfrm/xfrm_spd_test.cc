#include "datapath/xfrm/xfrm_spd.h"

#include "gtest/gtest.h"

namespace ikeless::datapath::xfrm {
namespace {

SpdEntry Gateway() {
  SpdEntry e;
  e.id = 3;
  e.local_prefix = "198.18.10.0/24";
  e.remote_prefix = "198.18.20.0/24";
  e.protocol = 6;
  e.port = 443;
  e.setup_peer = "198.18.0.2";
  e.local_address = "198.18.0.1";
  return e;
}

TEST(XfrmSpd, ProtectTunnelIsOutInFwdWithRequiredTemplates) {
  SpdMapping m;
  auto p = PoliciesFor(Gateway(), /*tunnel=*/true, m);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].dir, XFRM_POLICY_OUT);
  EXPECT_EQ(p[0].source_prefix, "198.18.10.0/24");
  EXPECT_EQ(p[0].destination_port, 443);
  EXPECT_EQ(p[0].source_port, 0);
  EXPECT_EQ(p[0].tunnel_source, "198.18.0.1");
  EXPECT_EQ(p[0].tunnel_destination, "198.18.0.2");
  EXPECT_EQ(p[1].dir, XFRM_POLICY_IN);
  EXPECT_EQ(p[1].source_prefix, "198.18.20.0/24");
  EXPECT_EQ(p[1].source_port, 443);  // the remote service's port, seen from inbound
  EXPECT_EQ(p[1].tunnel_source, "198.18.0.2");
  EXPECT_EQ(p[2].dir, XFRM_POLICY_FWD);
  for (const PolicySpec& s : p) {
    EXPECT_EQ(s.reqid, m.reqid_base + 3);
    EXPECT_EQ(s.priority, m.priority_base + 3);
    EXPECT_TRUE(s.has_template);
    EXPECT_FALSE(s.block);
    EXPECT_TRUE(s.tunnel);
  }
}

TEST(XfrmSpd, TransportHasNoForwardPolicy) {
  SpdEntry e = Gateway();
  e.local_prefix = "198.18.0.1/32";
  e.remote_prefix = "198.18.0.2/32";
  EXPECT_TRUE(LooksLikeTransport(e));
  EXPECT_FALSE(LooksLikeTransport(Gateway()));
  auto p = PoliciesFor(e, /*tunnel=*/false, SpdMapping{});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_FALSE(p[0].tunnel);
  EXPECT_TRUE(p[0].tunnel_source.empty());
}

TEST(XfrmSpd, BypassHasNoTemplateAndDiscardBlocks) {
  SpdEntry e = Gateway();
  e.action = SpdEntry::Action::kBypass;
  for (const PolicySpec& s : PoliciesFor(e, true, SpdMapping{})) {
    EXPECT_FALSE(s.has_template) << "a template would make the kernel ACQUIRE per flow";
    EXPECT_FALSE(s.block);
  }
  e.action = SpdEntry::Action::kDiscard;
  auto d = PoliciesFor(e, true, SpdMapping{});
  EXPECT_EQ(d.size(), 3u);
  for (const PolicySpec& s : d) EXPECT_TRUE(s.block);
}

TEST(XfrmSpd, OwnershipIsTheReqidRange) {
  SpdMapping m;
  m.reqid_base = 0x1000;
  EXPECT_TRUE(m.Owns(0x1000));
  EXPECT_TRUE(m.Owns(0x1000 + kReqidSpan - 1));
  EXPECT_FALSE(m.Owns(0x1000 + kReqidSpan));
  EXPECT_FALSE(m.Owns(0xfff));
  EXPECT_FALSE(m.Owns(0));
  EXPECT_EQ(m.EntryOf(0x1007), 7u);
  EXPECT_FALSE(m.EntryOf(0x1000).has_value());  // the probe's, no entry
  EXPECT_FALSE(m.EntryOf(7).has_value());

  m.priority_base = 1000;
  EXPECT_TRUE(m.OwnsPolicy(KernelPolicy{1, XFRM_POLICY_OUT, 1003, true, {0x1003}}));
  EXPECT_FALSE(m.OwnsPolicy(KernelPolicy{1, XFRM_POLICY_OUT, 1003, true, {5}})) << "foreign reqid";
  EXPECT_TRUE(m.OwnsPolicy(KernelPolicy{1, XFRM_POLICY_OUT, 1003, true, {}})) << "our BYPASS";
  EXPECT_FALSE(m.OwnsPolicy(KernelPolicy{1, XFRM_POLICY_OUT, 1000, true, {}})) << "below our band";
  EXPECT_FALSE(m.OwnsPolicy(KernelPolicy{1, XFRM_POLICY_OUT, 1003, false, {}})) << "a foreign block";
  EXPECT_FALSE(m.OwnsPolicy(KernelPolicy{1, XFRM_POLICY_OUT, 200000, true, {}}));
}

TEST(XfrmSpd, SameSlotIsSelectorAndDirection) {
  auto a = PoliciesFor(Gateway(), true, SpdMapping{});
  auto b = PoliciesFor(Gateway(), false, SpdMapping{});
  EXPECT_TRUE(SameSlot(a[0], b[0]));  // mode is not part of the slot
  EXPECT_FALSE(SameSlot(a[0], a[1]));
  SpdEntry other = Gateway();
  other.port = 80;
  EXPECT_FALSE(SameSlot(a[0], PoliciesFor(other, true, SpdMapping{})[0]));
}

}  // namespace
}  // namespace ikeless::datapath::xfrm
