// The v1 messages survive the wire: serialize, parse, compare. Catches
// field-number clashes and oneof mistakes in the .proto files.
#include <string>

#include "gtest/gtest.h"
#include "google/protobuf/util/message_differencer.h"
#include "proto/admin.pb.h"
#include "proto/agent.pb.h"

namespace ikeless::v1 {
namespace {

using google::protobuf::util::MessageDifferencer;

template <typename T>
T RoundTrip(const T& in) {
  std::string wire;
  EXPECT_TRUE(in.SerializeToString(&wire));
  T out;
  EXPECT_TRUE(out.ParseFromString(wire));
  return out;
}

TEST(ProtoRoundTrip, SaRequestFromTheWorkedExample) {
  // FIG. 6: 2a asks with id 1001 and SPI 5100.
  AgentMessage m;
  SaRequest* r = m.mutable_request();
  r->set_id(1001);
  r->set_source("198.18.1.1");
  r->set_peer("198.18.2.1");
  r->set_spi(5100);
  r->mutable_selector()->set_protocol(6);
  r->mutable_selector()->set_port(22);
  AgentMessage back = RoundTrip(m);
  ASSERT_EQ(back.body_case(), AgentMessage::kRequest);
  EXPECT_EQ(back.request().id(), 1001u);
  EXPECT_EQ(back.request().spi(), 5100u);
  EXPECT_EQ(back.request().selector().port(), 22u);
  EXPECT_TRUE(MessageDifferencer::Equals(m, back));
}

TEST(ProtoRoundTrip, DistributionCarriesBothDirections) {
  ControllerMessage m;
  Distribution* d = m.mutable_distribution();
  d->set_request_id(1001);
  d->set_source("198.18.1.1");
  d->set_peer("198.18.2.1");
  d->mutable_policy()->set_name("a-b");
  d->mutable_policy()->set_encryption(ENCRYPTION_AES_GCM_16);
  d->mutable_outbound()->set_spi(6100);
  d->mutable_outbound()->set_encryption_key(std::string(16, '\x01'));
  d->mutable_outbound()->set_salt(std::string(4, '\x02'));
  d->mutable_inbound()->set_spi(5100);
  ControllerMessage back = RoundTrip(m);
  ASSERT_EQ(back.body_case(), ControllerMessage::kDistribution);
  EXPECT_EQ(back.distribution().outbound().spi(), 6100u);
  EXPECT_EQ(back.distribution().inbound().spi(), 5100u);
  EXPECT_EQ(back.distribution().outbound().encryption_key().size(), 16u);
  EXPECT_TRUE(MessageDifferencer::Equals(m, back));
}

TEST(ProtoRoundTrip, ConflictListsEntries) {
  // FIG. 10: entries (1001, 5100) and (1002, 5110).
  ControllerMessage m;
  SetupError* e = m.mutable_error();
  e->set_code(SetupError::CONFLICT);
  e->set_request_id(1001);
  auto* e1 = e->add_entries();
  e1->set_id(1001);
  e1->set_spi(5100);
  auto* e2 = e->add_entries();
  e2->set_id(1002);
  e2->set_spi(5110);
  ControllerMessage back = RoundTrip(m);
  ASSERT_EQ(back.error().entries_size(), 2);
  EXPECT_EQ(back.error().entries(1).spi(), 5110u);
  EXPECT_EQ(back.error().code(), SetupError::CONFLICT);
}

TEST(ProtoRoundTrip, OneofKeepsOnlyTheLastBody) {
  AgentMessage m;
  m.mutable_hello()->set_node_name("gw-a");
  m.mutable_request()->set_id(7);
  AgentMessage back = RoundTrip(m);
  EXPECT_EQ(back.body_case(), AgentMessage::kRequest);
  EXPECT_FALSE(back.has_hello());
}

TEST(ProtoRoundTrip, AssociationHasNoKeyFields) {
  // The operator API must not be able to carry key material.
  const auto* d = Association::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    EXPECT_NE(d->field(i)->type(), google::protobuf::FieldDescriptor::TYPE_BYTES)
        << d->field(i)->name();
  }
  Association a;
  a.set_id(3);
  a.set_state(Association::ESTABLISHED);
  a.mutable_a()->set_request_id(1001);
  a.mutable_b()->set_spi(6100);
  EXPECT_TRUE(MessageDifferencer::Equals(a, RoundTrip(a)));
}

}  // namespace
}  // namespace ikeless::v1
