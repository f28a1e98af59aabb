#include "controller/request_budget.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

using std::chrono::milliseconds;

TEST(RequestBudget, BurstThenRate) {
  const auto t0 = std::chrono::steady_clock::time_point();
  RequestBudget budget({/*per_second=*/10, /*burst=*/5}, t0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(budget.Take(t0)) << i;
  EXPECT_FALSE(budget.Take(t0));
  EXPECT_FALSE(budget.Take(t0 + milliseconds(50)));  // half a token
  EXPECT_TRUE(budget.Take(t0 + milliseconds(100)));
  EXPECT_FALSE(budget.Take(t0 + milliseconds(100)));
  // Idle time refills up to the burst, not beyond.
  const auto later = t0 + milliseconds(60'000);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(budget.Take(later)) << i;
  EXPECT_FALSE(budget.Take(later));
}

TEST(RequestBudget, ZeroRateIsUnlimited) {
  const auto t0 = std::chrono::steady_clock::time_point();
  RequestBudget budget({0, 0}, t0);
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(budget.Take(t0));
}

}  // namespace
}  // namespace ikeless::controller
