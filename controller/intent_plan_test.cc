#include "controller/intent_plan.h"

#include "controller/intent_validation.h"
#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

IntentSnapshot Fleet(bool with_policy, const std::string& b_site = "198.18.20.0/24") {
  v1::Intent intent;
  v1::Node* a = intent.add_nodes();
  a->set_name("gw-a");
  a->add_addresses("198.18.0.1");
  a->add_sites("198.18.10.0/24");
  v1::Node* b = intent.add_nodes();
  b->set_name("gw-b");
  b->add_addresses("198.18.0.2");
  b->add_sites(b_site);
  if (with_policy) {
    v1::Policy* p = intent.add_policies();
    p->set_name("mesh");
    p->mutable_a()->set_address("*");
    p->mutable_b()->set_address("*");
    p->mutable_lifetime()->set_hard_seconds(3600);
  }
  EXPECT_TRUE(NormalizeIntent(&intent).ok());
  IntentSnapshot s;
  s.nodes.assign(intent.nodes().begin(), intent.nodes().end());
  s.policies.assign(intent.policies().begin(), intent.policies().end());
  return s;
}

TEST(IntentPlan, DigestChangesWithAnyRecordButNotWithStatus) {
  IntentSnapshot s = Fleet(true);
  const std::string d = IntentDigest(s);
  EXPECT_EQ(d.size(), 16u);
  s.nodes[0].mutable_status()->set_connected(true);
  EXPECT_EQ(IntentDigest(s), d);
  s.nodes[0].set_revision(2);
  EXPECT_NE(IntentDigest(s), d);
  EXPECT_NE(IntentDigest(Fleet(false)), d);
}

TEST(IntentPlan, DiffListsFieldsAndWhatToWrite) {
  IntentDiff same = DiffIntent(Fleet(true), Fleet(true));
  EXPECT_TRUE(same.changes.empty());
  EXPECT_TRUE(same.write.empty());

  IntentSnapshot desired = Fleet(false, "198.18.21.0/24");
  desired.nodes.pop_back();
  IntentDiff diff = DiffIntent(Fleet(true), desired);
  ASSERT_EQ(diff.changes.size(), 2u);
  EXPECT_EQ(diff.changes[0].op(), v1::IntentChange::REMOVE);  // gw-b
  EXPECT_EQ(diff.changes[1].kind(), v1::IntentChange::POLICY);
  EXPECT_EQ(diff.write.delete_nodes, std::vector<std::string>{"gw-b"});
  EXPECT_EQ(diff.write.delete_policies, std::vector<std::string>{"mesh"});
  EXPECT_EQ(diff.gone_addresses, std::vector<std::string>{"198.18.0.2"});

  diff = DiffIntent(Fleet(true), Fleet(true, "198.18.21.0/24"));
  ASSERT_EQ(diff.changes.size(), 1u);
  EXPECT_EQ(diff.changes[0].op(), v1::IntentChange::CHANGE);
  ASSERT_EQ(diff.changes[0].fields_size(), 1);
  EXPECT_EQ(diff.changes[0].fields(0), "sites");
  ASSERT_EQ(diff.write.put_nodes.size(), 1u);
  EXPECT_EQ(diff.write.put_nodes[0].sites(0), "198.18.21.0/24");
}

TEST(IntentPlan, PairLosesProtectionWhenThePolicyGoes) {
  auto pairs = PairChanges(Fleet(true), Fleet(false));
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].a(), "gw-a");
  EXPECT_EQ(pairs[0].before(), "protect mesh (aes-gcm-16/128 tunnel) 2 rules");
  EXPECT_EQ(pairs[0].after(), "discard (fail closed) 1 rule");
  EXPECT_TRUE(pairs[0].loses_protection());
  EXPECT_FALSE(pairs[0].gains_protection());
  EXPECT_TRUE(PairChanges(Fleet(true), Fleet(true)).empty());
  // A site that moves keeps the rule count: still a change, and the old
  // site pair loses its protection.
  auto moved = PairChanges(Fleet(true), Fleet(true, "198.18.21.0/24"));
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_TRUE(moved[0].loses_protection());
  EXPECT_TRUE(moved[0].gains_protection());
}

TEST(IntentPlan, ImpactsFollowTheEnforcersVerdict) {
  IntentSnapshot live = Fleet(true);
  storage::AssociationRow row;
  row.id = 7;
  row.a = {"198.18.0.1", 1, 1000};
  row.b = {"198.18.0.2", 2, 2000};
  row.policy = live.policies[0];
  EXPECT_TRUE(AssociationImpacts({row}, live, {}).empty());
  auto gone = AssociationImpacts({row}, Fleet(false), {});
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].id(), 7u);
  EXPECT_EQ(gone[0].action(), v1::AssociationImpact::TEAR_DOWN);
  IntentSnapshot faster = Fleet(true);
  faster.policies[0].set_encryption(v1::ENCRYPTION_CHACHA20_POLY1305);
  faster.policies[0].set_encryption_key_bits(256);
  auto rekey = AssociationImpacts({row}, faster, {});
  ASSERT_EQ(rekey.size(), 1u);
  EXPECT_EQ(rekey[0].action(), v1::AssociationImpact::REKEY);
  EXPECT_EQ(AssociationImpacts({row}, live, {"198.18.0.2"})[0].reason(), "node removed");
}

}  // namespace
}  // namespace ikeless::controller
