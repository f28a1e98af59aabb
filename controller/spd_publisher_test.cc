#include "controller/spd_publisher.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

v1::Node Node(const std::string& name, const std::string& address, const std::string& site) {
  v1::Node n;
  n.set_name(name);
  n.add_addresses(address);
  n.add_sites(site);
  return n;
}

v1::Policy Mesh() {
  v1::Policy p;
  p.set_name("mesh");
  p.mutable_a()->set_address("*");
  p.mutable_b()->set_address("*");
  p.set_action(v1::POLICY_ACTION_PROTECT);
  return p;
}

const SpdPublisher::Push* PushTo(const SpdPublisher::Output& out, const std::string& node) {
  for (const auto& p : out.pushes) {
    if (p.node == node) return &p;
  }
  return nullptr;
}

TEST(SpdPublisher, SnapshotOnConnectThenDeltasWithBaseRevision) {
  SpdPublisher pub;
  pub.SetIntent({Node("gw-a", "198.18.0.1", "198.18.10.0/24"),
                 Node("gw-b", "198.18.0.2", "198.18.20.0/24")},
                {Mesh()}, 10, kNow);
  SpdPublisher::Output out = pub.Connected("gw-a", kNow);
  ASSERT_EQ(out.pushes.size(), 1u);
  const v1::SpdUpdate& snap = out.pushes[0].message.spd_update();
  EXPECT_TRUE(snap.snapshot());
  EXPECT_EQ(snap.revision(), 10u);
  EXPECT_EQ(snap.upsert_size(), 2);  // node addresses + the site pair
  EXPECT_FALSE(pub.Status("gw-a")->in_sync());
  pub.Acknowledged("gw-a", [] { v1::SpdAck a; a.set_revision(10); return a; }(), kNow);
  EXPECT_TRUE(pub.Status("gw-a")->in_sync());

  // Node 3 joins: gw-a (connected) gets only the rules toward gw-c.
  out = pub.PutNode(Node("gw-c", "198.18.0.3", "198.18.30.0/24"), 11, kNow);
  const SpdPublisher::Push* p = PushTo(out, "gw-a");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->message.spd_update().snapshot());
  EXPECT_EQ(p->message.spd_update().base_revision(), 10u);
  EXPECT_EQ(p->message.spd_update().revision(), 11u);
  EXPECT_EQ(p->message.spd_update().upsert_size(), 2);
  for (const auto& r : p->message.spd_update().upsert()) EXPECT_EQ(r.peer_node(), "gw-c");
  EXPECT_EQ(PushTo(out, "gw-b"), nullptr);  // not connected: it gets a snapshot later
  EXPECT_EQ(pub.Status("gw-b")->spd_revision(), 11u);
  EXPECT_FALSE(pub.Status("gw-a")->in_sync());

  // The policy goes: every rule turns into a fail-closed DISCARD.
  out = pub.SetPolicies({}, 12, kNow);
  p = PushTo(out, "gw-a");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->message.spd_update().base_revision(), 11u);
  EXPECT_EQ(p->message.spd_update().remove_size(), 4);
  EXPECT_EQ(p->message.spd_update().upsert_size(), 2);
  for (const auto& r : p->message.spd_update().upsert()) {
    EXPECT_EQ(r.action(), v1::POLICY_ACTION_DISCARD);
  }

  // gw-c goes: gw-a loses its rules toward it.
  out = pub.RemoveNode("gw-c", 13, kNow);
  p = PushTo(out, "gw-a");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->message.spd_update().remove_size(), 1);
  EXPECT_EQ(pub.Rules("gw-a")->size(), 1u);
}

TEST(SpdPublisher, RefusedDeltaGetsOneSnapshotNotALoop) {
  SpdPublisher pub;
  pub.SetIntent({Node("gw-a", "198.18.0.1", "198.18.10.0/24"),
                 Node("gw-b", "198.18.0.2", "198.18.20.0/24")},
                {Mesh()}, 5, kNow);
  pub.Connected("gw-a", kNow);
  v1::SpdAck refused;
  refused.set_revision(5);
  refused.set_error("base revision 4 is not the applied 0");
  SpdPublisher::Output out = pub.Acknowledged("gw-a", refused, kNow);
  ASSERT_EQ(out.pushes.size(), 1u);
  EXPECT_TRUE(out.pushes[0].message.spd_update().snapshot());
  EXPECT_EQ(pub.Status("gw-a")->last_error(), "base revision 4 is not the applied 0");
  EXPECT_TRUE(pub.Acknowledged("gw-a", refused, kNow).pushes.empty());
}

TEST(SpdPublisher, UnknownNodeGetsAnEmptySnapshotAndARecordLaterGetsAFullOne) {
  SpdPublisher pub;
  pub.SetIntent({Node("gw-a", "198.18.0.1", "198.18.10.0/24")}, {Mesh()}, 1, kNow);
  SpdPublisher::Output out = pub.Connected("gw-z", kNow);
  ASSERT_EQ(out.pushes.size(), 1u);
  EXPECT_TRUE(out.pushes[0].message.spd_update().snapshot());
  EXPECT_EQ(out.pushes[0].message.spd_update().upsert_size(), 0);
  EXPECT_FALSE(pub.Status("gw-z").has_value());
  out = pub.PutNode(Node("gw-z", "198.18.0.26", "198.18.26.0/24"), 2, kNow);
  const SpdPublisher::Push* p = PushTo(out, "gw-z");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->message.spd_update().snapshot());
  EXPECT_EQ(p->message.spd_update().upsert_size(), 2);
}

}  // namespace
}  // namespace ikeless::controller
