#include "common/log_limiter.h"

#include "gtest/gtest.h"

namespace ikeless {
namespace {

using std::chrono::milliseconds;

TEST(LogLimiter, PassesSomeEachIntervalAndCountsTheRest) {
  LogLimiter limiter(2, milliseconds(1000));
  const auto t0 = std::chrono::steady_clock::time_point();
  EXPECT_EQ(limiter.Admit("rejected 198.18.0.1", t0), 0u);
  EXPECT_EQ(limiter.Admit("rejected 198.18.0.1", t0), 0u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Admit("rejected 198.18.0.1", t0).has_value());
  // Another key has its own budget.
  EXPECT_EQ(limiter.Admit("rejected 198.18.0.2", t0), 0u);
  // Next interval: the first line that passes says how many were held back.
  EXPECT_EQ(limiter.Admit("rejected 198.18.0.1", t0 + milliseconds(1000)), 5u);
  EXPECT_EQ(limiter.Admit("rejected 198.18.0.1", t0 + milliseconds(1001)), 0u);
  EXPECT_FALSE(limiter.Admit("rejected 198.18.0.1", t0 + milliseconds(1002)).has_value());
}

TEST(LogLimiter, HeldBackLinesAreReportedWhenTheBurstEnds) {
  LogLimiter limiter(1, milliseconds(1000));
  const auto t0 = std::chrono::steady_clock::time_point();
  EXPECT_TRUE(limiter.Admit("k", t0).has_value());
  EXPECT_FALSE(limiter.Admit("k", t0).has_value());
  EXPECT_FALSE(limiter.Admit("k", t0).has_value());
  EXPECT_TRUE(limiter.TakeHeldBack(t0 + milliseconds(500)).empty());  // interval not over
  auto held = limiter.TakeHeldBack(t0 + milliseconds(1000));
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0], (std::pair<std::string, uint64_t>{"k", 2}));
  EXPECT_TRUE(limiter.TakeHeldBack(t0 + milliseconds(2000)).empty());  // reported once
  EXPECT_EQ(limiter.Admit("k", t0 + milliseconds(2000)), 0u);
}

}  // namespace
}  // namespace ikeless
