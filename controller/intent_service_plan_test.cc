// IntentService::PlanIntent / ApplyIntent (ipsecctl plan -f / apply -f) over
// the in-memory store: a plan shows exactly what the apply then does, and
// nothing changes when the live state moved, an assertion fails or the
// intent is bad.
#include <algorithm>

#include "controller/intent_service_test_fixture.h"

namespace ikeless::controller {
namespace {

using testing_fixture::IntentServiceTest;
using testing_fixture::Node;

v1::Policy Mesh(v1::EncryptionAlgorithm encryption) {
  v1::Policy p;
  p.set_name("mesh");
  p.mutable_a()->set_address("198.18.0.0/29");
  p.mutable_b()->set_address("198.18.0.0/29");
  p.set_encryption(encryption);
  p.mutable_lifetime()->set_hard_seconds(3600);
  return p;
}

class IntentPlanServiceTest : public IntentServiceTest {
 protected:
  // gw-a, gw-b, gw-c under one mesh policy, rows a<->b and a<->c
  // established with the stored policy.
  void SetUp() override {
    for (const auto& [name, n] : {std::pair<const char*, int>{"gw-a", 1}, {"gw-b", 2}, {"gw-c", 3}}) {
      ASSERT_TRUE(intent_->CreateNode(Node(name, absl::StrCat("198.18.0.", n),
                                           absl::StrCat("198.18.", 10 * n, ".0/24")))
                      .ok());
    }
    ASSERT_TRUE(intent_->ApplyIntent(Desired(v1::ENCRYPTION_AES_GCM_16, true), "").ok());
    auto stored = store_.GetPolicy("mesh");
    ASSERT_TRUE(stored.ok()) << stored.status();
    ab_ = AddRow("198.18.0.1", "198.18.0.2", *stored);
    ac_ = AddRow("198.18.0.1", "198.18.0.3", *stored);
  }

  uint64_t AddRow(const std::string& a, const std::string& b, const v1::Policy& policy) {
    storage::AssociationRow row;
    row.a = {a, 1, 1000};
    row.b = {b, 2, 2000};
    row.policy = policy;
    uint64_t id = 0;
    EXPECT_TRUE(store_.Transact([&](storage::AssociationTxn& txn) -> absl::Status {
                        auto i = txn.Insert(row);
                        if (!i.ok()) return i.status();
                        id = *i;
                        return absl::OkStatus();
                      }).ok());
    return id;
  }

  static v1::Intent Desired(v1::EncryptionAlgorithm encryption, bool with_c) {
    v1::Intent intent;
    *intent.add_nodes() = Node("gw-a", "198.18.0.1", "198.18.10.0/24");
    *intent.add_nodes() = Node("gw-b", "198.18.0.2", "198.18.20.0/24");
    if (with_c) *intent.add_nodes() = Node("gw-c", "198.18.0.3", "198.18.30.0/24");
    *intent.add_policies() = Mesh(encryption);
    return intent;
  }

  uint64_t ab_ = 0;
  uint64_t ac_ = 0;
};

std::vector<std::pair<uint64_t, int>> Impacts(const v1::IntentPlan& plan) {
  std::vector<std::pair<uint64_t, int>> out;
  for (const auto& a : plan.associations()) out.emplace_back(a.id(), a.action());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(IntentPlanServiceTest, PlanShowsExactlyWhatApplyThenDoes) {
  auto a = Connect("gw-a", "198.18.0.1");
  const v1::Intent desired = Desired(v1::ENCRYPTION_CHACHA20_POLY1305, /*with_c=*/false);
  auto plan = intent_->PlanIntent(desired);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->applied());
  ASSERT_EQ(plan->changes_size(), 2);
  EXPECT_EQ(plan->changes(0).kind(), v1::IntentChange::NODE);
  EXPECT_EQ(plan->changes(0).op(), v1::IntentChange::REMOVE);
  EXPECT_EQ(plan->changes(0).name(), "gw-c");
  EXPECT_EQ(plan->changes(1).op(), v1::IntentChange::CHANGE);
  EXPECT_EQ(plan->changes(1).fields(0), "encryption");
  ASSERT_EQ(plan->pairs_size(), 1);  // a<->b: other cipher; pairs with gw-c are its removal
  EXPECT_NE(plan->pairs(0).after().find("chacha20-poly1305"), std::string::npos);
  EXPECT_EQ(Impacts(*plan), (std::vector<std::pair<uint64_t, int>>{
                                {ab_, v1::AssociationImpact::REKEY},
                                {ac_, v1::AssociationImpact::TEAR_DOWN}}));
  ASSERT_EQ(plan->certificates_revoked_size(), 1);
  // A plan changes nothing.
  EXPECT_TRUE(store_.GetNode("gw-c").ok());
  EXPECT_EQ(store_.GetPolicy("mesh")->encryption(), v1::ENCRYPTION_AES_GCM_16);
  EXPECT_FALSE(revocations_.IsNameRevoked("gw-c"));
  const size_t sent_before = a->sent.size();

  auto applied = intent_->ApplyIntent(desired, plan->state());
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->applied());
  EXPECT_EQ(Impacts(*applied), Impacts(*plan));
  EXPECT_EQ(applied->certificates_revoked(0), "gw-c");
  EXPECT_TRUE(revocations_.IsNameRevoked("gw-c"));
  EXPECT_EQ(store_.GetNode("gw-c").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_.GetPolicy("mesh")->encryption(), v1::ENCRYPTION_CHACHA20_POLY1305);
  EXPECT_FALSE(store_.GetAssociation(ac_)->has_value());
  // gw-a was told: the teardown, the rekey, then its SPD delta.
  bool teardown = false, rekey = false, delta = false;
  for (size_t i = sent_before; i < a->sent.size(); ++i) {
    teardown |= a->sent[i].has_teardown();
    rekey |= a->sent[i].has_rekey();
    delta |= a->sent[i].has_spd_update();
  }
  EXPECT_TRUE(teardown && rekey && delta);

  // The same file again: nothing to do.
  auto again = intent_->ApplyIntent(desired, "");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->applied());
  EXPECT_EQ(again->changes_size(), 0);
  EXPECT_EQ(again->pairs_size(), 0);
}

TEST_F(IntentPlanServiceTest, ApplyAfterSomeoneElseChangedTheIntentIsRefused) {
  const v1::Intent desired = Desired(v1::ENCRYPTION_CHACHA20_POLY1305, true);
  auto plan = intent_->PlanIntent(desired);
  ASSERT_TRUE(plan.ok()) << plan.status();
  v1::Node b = Node("gw-b", "198.18.0.2", "198.18.21.0/24");
  ASSERT_TRUE(intent_->UpdateNode(b, 0).ok());  // another operator
  auto applied = intent_->ApplyIntent(desired, plan->state());
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(applied.status().message().find("changed since the plan"), std::string::npos);
  EXPECT_EQ(store_.GetPolicy("mesh")->encryption(), v1::ENCRYPTION_AES_GCM_16);
  EXPECT_TRUE(store_.GetAssociation(ab_)->has_value());
}

TEST_F(IntentPlanServiceTest, ApplyOfAnotherFileThanThePlannedOneIsRefused) {
  auto plan = intent_->PlanIntent(Desired(v1::ENCRYPTION_CHACHA20_POLY1305, true));
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto applied = intent_->ApplyIntent(Desired(v1::ENCRYPTION_AES_GCM_16, false), plan->state());
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(applied.status().message().find("not the file that was planned"), std::string::npos)
      << applied.status();
  EXPECT_TRUE(store_.GetNode("gw-c").ok());
}

TEST_F(IntentPlanServiceTest, ConnectedAgentWithoutRecordGetsASnapshotWhenApplyAddsIt) {
  auto d = Connect("gw-d", "198.18.0.4");
  ASSERT_EQ(d->sent.size(), 1u);  // the "no record" snapshot
  v1::Intent desired = Desired(v1::ENCRYPTION_AES_GCM_16, true);
  *desired.add_nodes() = Node("gw-d", "198.18.0.4", "198.18.40.0/24");
  ASSERT_TRUE(intent_->ApplyIntent(desired, "").ok());
  ASSERT_EQ(d->sent.size(), 2u);
  const v1::SpdUpdate& u = d->sent[1].spd_update();
  EXPECT_TRUE(u.snapshot());
  EXPECT_EQ(u.upsert_size(), 6);  // toward 3 peers: node addresses + site pair each
}

TEST_F(IntentPlanServiceTest, FailingAssertionIsShownByPlanAndRefusedByApply) {
  v1::Intent desired = Desired(v1::ENCRYPTION_CHACHA20_POLY1305, true);
  v1::IntentAssertion* want = desired.add_assertions();
  want->set_a("gw-a");
  want->set_b("gw-c");
  want->set_expect(v1::IntentAssertion::EXPECT_PROTECTED);
  want->set_encryption(v1::ENCRYPTION_AES_GCM_16);
  v1::IntentAssertion* apart = desired.add_assertions();
  apart->set_a("gw-b");
  apart->set_b("gw-c");
  apart->set_expect(v1::IntentAssertion::EXPECT_UNREACHABLE);
  auto plan = intent_->PlanIntent(desired);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->assertions_size(), 2);
  EXPECT_FALSE(plan->assertions(0).ok());
  EXPECT_NE(plan->assertions(0).detail().find("uses chacha20-poly1305"), std::string::npos)
      << plan->assertions(0).detail();
  EXPECT_FALSE(plan->assertions(1).ok());  // the mesh protects them

  auto applied = intent_->ApplyIntent(desired, "");
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(applied.status().message().find("assertions[0]"), std::string::npos);
  EXPECT_EQ(store_.GetPolicy("mesh")->encryption(), v1::ENCRYPTION_AES_GCM_16);

  // Without the mesh policy gw-b and gw-c are apart (fail closed) and the
  // first assertion can no longer hold either.
  desired.clear_policies();
  plan = intent_->PlanIntent(desired);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->assertions(0).ok());
  EXPECT_TRUE(plan->assertions(1).ok()) << plan->assertions(1).detail();
  EXPECT_TRUE(plan->pairs(0).loses_protection());
}

TEST_F(IntentPlanServiceTest, BadIntentNamesTheItemAndChangesNothing) {
  v1::Intent overlap = Desired(v1::ENCRYPTION_AES_GCM_16, true);
  overlap.mutable_nodes(2)->set_sites(0, "198.18.16.0/20");  // holds gw-b's 198.18.20.0/24
  auto plan = intent_->ApplyIntent(overlap, "");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message().rfind("nodes[", 0), 0u) << plan.status();
  EXPECT_NE(plan.status().message().find("overlaps"), std::string::npos);
  EXPECT_EQ(store_.GetNode("gw-c")->sites(0), "198.18.30.0/24");

  ASSERT_TRUE(intent_->DeleteNode("gw-c", false).ok());
  v1::Intent readd = Desired(v1::ENCRYPTION_AES_GCM_16, true);
  plan = intent_->ApplyIntent(readd, "");
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("nodes[2] (gw-c)"), std::string::npos) << plan.status();
  EXPECT_EQ(store_.GetNode("gw-c").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IntentPlanServiceTest, LiveStateReadBackAsAnIntentPlansNoChanges) {
  v1::Intent exported;
  for (const v1::Node& n : intent_->ListNodes()) *exported.add_nodes() = n;
  const auto policies = store_.ListPolicies();  // kept: a loop over *ListPolicies() would dangle
  ASSERT_TRUE(policies.ok());
  for (const v1::Policy& p : *policies) *exported.add_policies() = p;
  auto plan = intent_->PlanIntent(exported);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->changes_size(), 0);
  EXPECT_EQ(plan->pairs_size(), 0);
  EXPECT_EQ(plan->associations_size(), 0);
}

}  // namespace
}  // namespace ikeless::controller
