// The per-pair cap (max_rows_per_pair) counts live rows, not history
// (issue #12 point 2): rows a newer established row of the same traffic
// replaced (rekeys, a restarted agent's fresh setups) do not count.
#include "controller/request_processor.h"
#include "controller/request_processor_test_fixture.h"
#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

TEST_F(RequestProcessorTest, Cap_SixteenSupersededRowsAndANewRequestIsAccepted) {
  // 17 setups of the same traffic (an agent restarted 16 times, each time
  // with request ids from 1 again but fresh SPIs; or 16 rekeys).
  for (uint64_t n = 0; n <= 16; ++n) {
    clock_.Advance(absl::Seconds(1));
    const uint32_t spi = 5000 + static_cast<uint32_t>(n);
    ProcessorOutput open = Handle(Req(k2a, k2b, 100 + n, spi));
    ASSERT_EQ(open.messages.size(), 1u) << n;
    ASSERT_TRUE(open.messages[0].message.has_startup()) << n << ": "
                                                       << open.messages[0].message.DebugString();
    ProcessorOutput done = Handle(Req(k2b, k2a, 200 + n, 7000 + static_cast<uint32_t>(n)));
    ASSERT_EQ(done.messages.size(), 2u) << n;
  }
  EXPECT_EQ(store_.ListAssociations("")->size(), 17u);  // the rows stay until their lifetime ends
  // Before issue #12 this was RESOURCE_EXHAUSTED ("already holds 16").
  ProcessorOutput next = Handle(Req(k2a, k2b, 500, 9000));
  ASSERT_EQ(next.messages.size(), 1u);
  EXPECT_TRUE(next.messages[0].message.has_startup()) << next.messages[0].message.DebugString();
}

TEST_F(RequestProcessorTest, Cap_LiveRowsOfDistinctTrafficStillCount) {
  // 16 half-open rows with fresh ids: nothing supersedes them.
  for (uint64_t id = 1; id <= 16; ++id) {
    ASSERT_TRUE(Handle(Req(k2a, k2b, id, 5000 + static_cast<uint32_t>(id)))
                    .messages[0]
                    .message.has_startup());
  }
  ProcessorOutput out = Handle(Req(k2a, k2b, 17, 6000));
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::RESOURCE_EXHAUSTED);
}

TEST_F(RequestProcessorTest, Cap_SupersededRowsAreStillBoundedInTotal) {
  // An agent whose installs keep failing rekeys in a loop: each round a new
  // established row supersedes the last. They do not count against the 16,
  // but the pair's table stops growing at the total.
  RequestProcessor::Options options;
  options.max_rows_per_pair_total = 20;
  RequestProcessor processor(options, &store_, &store_, &clock_, &random_);
  auto handle = [&](const v1::SaRequest& r) {
    auto out = processor.HandleRequest(r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::move(*out) : ProcessorOutput();
  };
  for (uint64_t n = 0; n < 20; ++n) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(handle(Req(k2a, k2b, 100 + n, 5000 + static_cast<uint32_t>(n)))
                    .messages[0]
                    .message.has_startup())
        << n;
    ASSERT_EQ(handle(Req(k2b, k2a, 200 + n, 7000 + static_cast<uint32_t>(n))).messages.size(), 2u);
  }
  ProcessorOutput out = handle(Req(k2a, k2b, 500, 9000));
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::RESOURCE_EXHAUSTED);
  EXPECT_NE(out.messages[0].message.error().message().find("superseded ones included"),
            std::string::npos);
  EXPECT_EQ(Rows().size(), 20u);
}

}  // namespace
}  // namespace ikeless::controller
