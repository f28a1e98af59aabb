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
  auto p = PoliciesFor(Gateway(), /*position=*/3, /*tunnel=*/true, m);
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
  auto p = PoliciesFor(e, 1, /*tunnel=*/false, SpdMapping{});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_FALSE(p[0].tunnel);
  EXPECT_TRUE(p[0].tunnel_source.empty());
}

TEST(XfrmSpd, BypassHasNoTemplateAndDiscardBlocks) {
  SpdEntry e = Gateway();
  e.action = SpdEntry::Action::kBypass;
  for (const PolicySpec& s : PoliciesFor(e, 1, true, SpdMapping{})) {
    EXPECT_FALSE(s.has_template) << "a template would make the kernel ACQUIRE per flow";
    EXPECT_FALSE(s.block);
  }
  e.action = SpdEntry::Action::kDiscard;
  auto d = PoliciesFor(e, 1, true, SpdMapping{});
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
  auto a = PoliciesFor(Gateway(), 1, true, SpdMapping{});
  auto b = PoliciesFor(Gateway(), 1, false, SpdMapping{});
  EXPECT_TRUE(SameSlot(a[0], b[0]));  // mode is not part of the slot
  EXPECT_FALSE(SameSlot(a[0], a[1]));
  SpdEntry other = Gateway();
  other.port = 80;
  EXPECT_FALSE(SameSlot(a[0], PoliciesFor(other, 1, true, SpdMapping{})[0]));
}

// First match wins by list position, whatever the (allocated) entry id;
// the reqid stays the id's.
TEST(XfrmSpd, PriorityIsThePositionReqidIsTheId) {
  SpdMapping m;
  SpdEntry e = Gateway();
  e.id = 4000;
  for (const PolicySpec& p : PoliciesFor(e, 2, true, m)) {
    EXPECT_EQ(p.priority, m.priority_base + 2);
    EXPECT_EQ(p.reqid, m.reqid_base + 4000);
  }
  e.action = SpdEntry::Action::kBypass;
  for (const PolicySpec& p : PoliciesFor(e, 65535, true, m)) {
    EXPECT_TRUE(m.OwnsPolicy(KernelPolicy{1, p.dir, p.priority, true, {}}))
        << "a BYPASS at any position is in our band";
  }
}

TEST(XfrmSpd, DiffSendsOnlyWhatChangedAndRemovesWhatIsGone) {
  SpdMapping m;
  SpdEntry a = Gateway();
  SpdEntry b = Gateway();
  b.id = 4;
  b.remote_prefix = "198.18.21.0/24";
  std::map<PolicySlot, PolicySpec> installed;
  for (const SpdEntry* e : {&a, &b}) {
    for (const PolicySpec& p : PoliciesFor(*e, e == &a ? 1 : 2, true, m)) installed[SlotOf(p)] = p;
  }
  // The same SPD again: nothing to do.
  std::vector<PolicySpec> same = PoliciesFor(a, 1, true, m);
  for (const PolicySpec& p : PoliciesFor(b, 2, true, m)) same.push_back(p);
  PolicyChanges none = DiffPolicies(installed, same);
  EXPECT_TRUE(none.put.empty());
  EXPECT_TRUE(none.remove.empty());

  // b goes, c comes first, a moves to position 2.
  SpdEntry c = Gateway();
  c.id = 5;
  c.remote_prefix = "198.18.22.0/24";
  std::vector<PolicySpec> wanted = PoliciesFor(c, 1, true, m);
  for (const PolicySpec& p : PoliciesFor(a, 2, true, m)) wanted.push_back(p);
  PolicyChanges changes = DiffPolicies(installed, wanted);
  EXPECT_EQ(changes.put.size(), 6u) << "c's three, and a's three with a new priority";
  ASSERT_EQ(changes.remove.size(), 3u);
  for (const PolicySpec& p : changes.remove) EXPECT_EQ(p.reqid, m.reqid_base + 4);

  // Only a's mode changes: its policies are sent, nothing removed but fwd.
  std::vector<PolicySpec> transport = PoliciesFor(a, 1, false, m);
  std::map<PolicySlot, PolicySpec> only_a;
  for (const PolicySpec& p : PoliciesFor(a, 1, true, m)) only_a[SlotOf(p)] = p;
  PolicyChanges mode = DiffPolicies(only_a, transport);
  EXPECT_EQ(mode.put.size(), transport.size());
  EXPECT_EQ(mode.remove.size(), 3u - transport.size());
}

}  // namespace
}  // namespace ikeless::datapath::xfrm
