// RequestProcessor::HandleBatch: several SaRequests decided in order in one
// transaction (issue #16).

#include "controller/request_processor_test_fixture.h"

namespace ikeless::controller {
namespace {

using RequestProcessorBatchTest = RequestProcessorTest;

// S22 then S9/S10 inside one batch: B's answer finds the row A's request
// opened a moment earlier in the same transaction; one commit in all.
TEST_F(RequestProcessorBatchTest, S22ThenS10InOneBatchOneCommit) {
  const int before = store_.commits();
  std::vector<v1::SaRequest> batch{Req(k2a, k2b, 1001, 5100), Req(k2b, k2a, 2001, 6100)};
  auto out = processor_.HandleBatch(batch);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(store_.commits() - before, 1);
  // S23 to B, then S11's two Distributions, in that order.
  ASSERT_EQ(out->messages.size(), 3u);
  EXPECT_TRUE(out->messages[0].message.has_startup());
  EXPECT_EQ(out->messages[0].address, k2b);
  EXPECT_EQ(out->messages[1].message.distribution().request_id(), 1001u);
  EXPECT_EQ(out->messages[2].message.distribution().request_id(), 2001u);
  ASSERT_EQ(Rows().size(), 1u);
  EXPECT_TRUE(Rows()[0].b.filled());
}

// A malformed request is answered in its place, and changes nothing.
TEST_F(RequestProcessorBatchTest, MalformedRequestKeepsItsPlaceInTheReplies) {
  std::vector<v1::SaRequest> batch{Req(k2a, k2b, 1001, 5100), Req(k2b, "not-an-address", 7, 6100),
                                   Req(k2b, k2a, 2001, 6100)};
  auto out = processor_.HandleBatch(batch);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->messages.size(), 4u);
  EXPECT_TRUE(out->messages[0].message.has_startup());
  ASSERT_TRUE(out->messages[1].message.has_error());
  EXPECT_EQ(out->messages[1].message.error().code(), v1::SetupError::INVALID_ARGUMENT);
  EXPECT_EQ(out->messages[1].message.error().request_id(), 7u);
  EXPECT_NE(out->messages[1].message.error().message().find("request.peer"), std::string::npos);
  EXPECT_TRUE(out->messages[2].message.has_distribution());
  EXPECT_TRUE(out->messages[3].message.has_distribution());
  EXPECT_EQ(Rows().size(), 1u);
}

// Only malformed requests: answered without a transaction.
TEST_F(RequestProcessorBatchTest, OnlyMalformedRequestsCommitNothing) {
  const int before = store_.commits();
  std::vector<v1::SaRequest> batch{Req(k2a, k2b, 0, 5100), Req(k2a, k2b, 5, 1)};
  auto out = processor_.HandleBatch(batch);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->messages.size(), 2u);
  EXPECT_NE(out->messages[0].message.error().message().find("request.id"), std::string::npos);
  EXPECT_NE(out->messages[1].message.error().message().find("request.spi"), std::string::npos);
  EXPECT_EQ(out->events.size(), 2u);
  EXPECT_EQ(store_.commits(), before);
}

// S2 -> S5 within one batch: the resend gets the Distribution the first
// request's S10 made, keys included.
TEST_F(RequestProcessorBatchTest, S5ResendInTheSameBatchGetsTheSameKeys) {
  Handle(Req(k2a, k2b, 1001, 5100));
  std::vector<v1::SaRequest> batch{Req(k2b, k2a, 2001, 6100), Req(k2b, k2a, 2001, 6100)};
  auto out = processor_.HandleBatch(batch);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->messages.size(), 3u);
  const auto& first = out->messages[1].message.distribution();
  const auto& resent = out->messages[2].message.distribution();
  EXPECT_EQ(first.request_id(), 2001u);
  EXPECT_EQ(resent.request_id(), 2001u);
  EXPECT_EQ(first.inbound().encryption_key(), resent.inbound().encryption_key());
  EXPECT_EQ(Rows().size(), 1u);
}

}  // namespace
}  // namespace ikeless::controller
