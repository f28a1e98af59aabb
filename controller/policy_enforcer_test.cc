#include "controller/policy_enforcer.h"

#include "common/clock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::controller {
namespace {

class FixedClock : public Clock {
 public:
  absl::Time Now() override { return absl::FromUnixSeconds(1'800'000'000); }
  absl::Time Monotonic() override { return Now(); }
};

v1::Policy Mesh(v1::EncryptionAlgorithm enc = v1::ENCRYPTION_AES_GCM_16) {
  v1::Policy p;
  p.set_name("mesh");
  p.mutable_a()->set_address("*");
  p.mutable_b()->set_address("*");
  p.set_action(v1::POLICY_ACTION_PROTECT);
  p.set_encryption(enc);
  p.mutable_lifetime()->set_hard_seconds(3600);
  return p;
}

uint64_t AddRow(storage::MemoryStore& store, const std::string& a, const std::string& b,
                bool established, const v1::Policy& policy) {
  storage::AssociationRow row;
  row.a = {a, 1, 1000};
  row.b = {b, established ? 2u : 0u, established ? 2000u : 0u};
  row.policy = policy;
  uint64_t id = 0;
  EXPECT_TRUE(store.Transact([&](storage::AssociationTxn& txn) -> absl::Status {
                     auto i = txn.Insert(row);
                     if (!i.ok()) return i.status();
                     id = *i;
                     return absl::OkStatus();
                   }).ok());
  return id;
}

const v1::ControllerMessage* To(const Enforcement& e, const std::string& address) {
  for (const auto& o : e.out.messages) {
    if (o.address == address) return &o.message;
  }
  return nullptr;
}

TEST(PolicyEnforcer, PolicyGoneTearsDownBothSidesAndDeletesTheRows) {
  storage::MemoryStore store;
  FixedClock clock;
  uint64_t id = AddRow(store, "198.18.0.1", "198.18.0.2", true, Mesh());
  uint64_t half = AddRow(store, "198.18.0.1", "198.18.0.3", false, Mesh());
  auto e = EnforcePolicies(store, {}, {}, clock);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->torn_down, 2u);
  const v1::ControllerMessage* m = To(*e, "198.18.0.2");
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(m->has_teardown());
  EXPECT_EQ(m->teardown().association_ids(0), id);
  m = To(*e, "198.18.0.1");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->teardown().association_ids_size(), 2);  // one message for both rows
  EXPECT_FALSE(store.GetAssociation(id)->has_value());
  EXPECT_FALSE(store.GetAssociation(half)->has_value());
  EXPECT_EQ(e->out.events[0].kind(), v1::Event::ASSOCIATION_TORN_DOWN);
}

TEST(PolicyEnforcer, ChangedParametersRekeyEstablishedRowsAndUpdateHalfOpenOnes) {
  storage::MemoryStore store;
  FixedClock clock;
  uint64_t id = AddRow(store, "198.18.0.1", "198.18.0.2", true, Mesh());
  uint64_t half = AddRow(store, "198.18.0.1", "198.18.0.3", false, Mesh());
  v1::Policy changed = Mesh(v1::ENCRYPTION_CHACHA20_POLY1305);
  auto e = EnforcePolicies(store, {changed}, {}, clock);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->torn_down, 0u);
  EXPECT_EQ(e->rekeyed, 1u);
  for (const char* side : {"198.18.0.1", "198.18.0.2"}) {
    const v1::ControllerMessage* m = To(*e, side);
    ASSERT_NE(m, nullptr) << side;
    ASSERT_TRUE(m->has_rekey());
    EXPECT_EQ(m->rekey().association_ids(0), id);
  }
  EXPECT_TRUE(store.GetAssociation(id)->has_value());  // make-before-break: the old row stays
  EXPECT_EQ((*store.GetAssociation(half))->policy.encryption(), v1::ENCRYPTION_CHACHA20_POLY1305);
  // Nothing changed: nothing to do.
  auto again = EnforcePolicies(store, {Mesh()}, {}, clock);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->out.messages.empty());
}

TEST(PolicyEnforcer, BypassWinsAndRemovedNodesGo) {
  storage::MemoryStore store;
  FixedClock clock;
  AddRow(store, "198.18.0.1", "198.18.0.2", true, Mesh());
  AddRow(store, "198.18.0.1", "198.18.0.3", true, Mesh());
  v1::Policy bypass = Mesh();
  bypass.set_name("clear");
  bypass.mutable_b()->set_address("198.18.0.2");
  bypass.set_action(v1::POLICY_ACTION_BYPASS);
  auto e = EnforcePolicies(store, {Mesh(), bypass}, {"198.18.0.3"}, clock);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->torn_down, 2u);
  EXPECT_TRUE(store.ListAssociations("")->empty());
}

}  // namespace
}  // namespace ikeless::controller
