// IntentService with the in-memory store and fake sessions: what a node
// gets pushed and told when the intent changes.
#include "controller/intent_service.h"

#include <cstdlib>

#include "controller/intent_service_test_fixture.h"

namespace ikeless::controller {
namespace {

using testing_fixture::IntentServiceTest;
using testing_fixture::Node;

TEST_F(IntentServiceTest, SnapshotOnConnectDeltaOnChangeTeardownBeforeDelta) {
  ASSERT_TRUE(intent_->CreateNode(Node("gw-a", "198.18.0.1", "198.18.10.0/24")).ok());
  ASSERT_TRUE(intent_->CreateNode(Node("gw-b", "198.18.0.2", "198.18.20.0/24")).ok());
  auto a = Connect("gw-a", "198.18.0.1");
  ASSERT_EQ(a->sent.size(), 1u);
  ASSERT_TRUE(a->sent[0].spd_update().snapshot());
  EXPECT_EQ(a->sent[0].spd_update().upsert_size(), 1);  // fail closed: DISCARD site pair

  AddMesh();
  ASSERT_EQ(a->sent.size(), 2u);
  const v1::SpdUpdate& delta = a->sent[1].spd_update();
  EXPECT_FALSE(delta.snapshot());
  EXPECT_EQ(delta.base_revision(), a->sent[0].spd_update().revision());
  EXPECT_EQ(delta.remove_size(), 1);  // the DISCARD goes
  EXPECT_EQ(delta.upsert_size(), 2);  // node addresses + the site pair, PROTECT

  v1::SpdAck ack;
  ack.set_revision(delta.revision());
  intent_->OnAck("gw-a", ack);
  auto got = intent_->GetNode("gw-a");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->status().in_sync());

  // A live association of the pair; the policy goes: Teardown, then the delta.
  storage::AssociationRow row;
  row.a = {"198.18.0.1", 1, 1000};
  row.b = {"198.18.0.2", 2, 2000};
  row.policy = *store_.GetPolicy("mesh");
  ASSERT_TRUE(store_.Transact([&](storage::AssociationTxn& t) { return t.Insert(row).status(); }).ok());
  ASSERT_TRUE(store_.DeletePolicy("mesh").ok());
  ASSERT_TRUE(intent_->PoliciesChanged().ok());
  ASSERT_EQ(a->sent.size(), 4u);
  EXPECT_TRUE(a->sent[2].has_teardown());
  EXPECT_TRUE(a->sent[3].has_spd_update());
  EXPECT_TRUE(store_.ListAssociations("")->empty());
}

TEST_F(IntentServiceTest, FleetRulesAndRemovalRevokes) {
  ASSERT_TRUE(intent_->CreateNode(Node("gw-a", "198.18.0.1", "198.18.10.0/24")).ok());
  auto clash = intent_->CreateNode(Node("gw-b", "198.18.0.2", "198.18.10.128/25"));
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(intent_->CreateNode(Node("gw-a", "198.18.0.9", "198.18.90.0/24")).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto removed = intent_->DeleteNode("gw-a", /*keep_certificates=*/false);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(removed->certificates_revoked());
  EXPECT_TRUE(revocations_.IsNameRevoked("gw-a"));
  // Re-adding the name would let its old certificates in again.
  auto again = intent_->CreateNode(Node("gw-a", "198.18.0.1", "198.18.10.0/24"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("revoked"), std::string::npos);
}

TEST_F(IntentServiceTest, DatapathReportsComeThroughAtTheAgentsPace) {
  ASSERT_TRUE(intent_->CreateNode(Node("gw-a", "198.18.0.1", "198.18.10.0/24")).ok());
  auto a = Connect("gw-a", "198.18.0.1");
  auto report = [](uint64_t malformed) {
    v1::DatapathReport r;
    (*r.mutable_drops())["malformed"] = malformed;
    return r;
  };
  auto shown = [&] { return intent_->GetNode("gw-a")->status().drops().at("malformed"); };
  intent_->OnReport("gw-a", report(1));
  EXPECT_EQ(shown(), 1u);
  // The agent's one-second timer came a little early: still taken.
  clock_.Advance(absl::Milliseconds(980));
  intent_->OnReport("gw-a", report(2));
  EXPECT_EQ(shown(), 2u);
  // A flood is not: at most two a second.
  clock_.Advance(absl::Milliseconds(100));
  intent_->OnReport("gw-a", report(3));
  EXPECT_EQ(shown(), 2u);
}

}  // namespace
}  // namespace ikeless::controller
