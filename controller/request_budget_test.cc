#include "controller/request_budget.h"

#include "common/clock.h"
#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

TEST(RequestBudget, BurstThenRate) {
  FakeClock clock;
  RequestBudget budget({/*per_second=*/10, /*burst=*/5}, clock.Monotonic());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(budget.Take(clock.Monotonic())) << i;
  EXPECT_FALSE(budget.Take(clock.Monotonic()));
  clock.Advance(absl::Milliseconds(50));
  EXPECT_FALSE(budget.Take(clock.Monotonic()));  // half a token
  clock.Advance(absl::Milliseconds(50));
  EXPECT_TRUE(budget.Take(clock.Monotonic()));
  EXPECT_FALSE(budget.Take(clock.Monotonic()));
  // Idle time refills up to the burst, not beyond.
  clock.Advance(absl::Minutes(1));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(budget.Take(clock.Monotonic())) << i;
  EXPECT_FALSE(budget.Take(clock.Monotonic()));
}

TEST(RequestBudget, ZeroRateIsUnlimited) {
  FakeClock clock;
  RequestBudget budget({0, 0}, clock.Monotonic());
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(budget.Take(clock.Monotonic()));
}

// Issue #12 point 4: an NTP step, forward or back, neither refills an
// empty bucket nor stops the refill; real time still does.
TEST(RequestBudget, NtpStepNeitherRefillsNorStalls) {
  for (absl::Duration step : {absl::Hours(2), -absl::Hours(2)}) {
    FakeClock clock;
    RequestBudget budget({/*per_second=*/10, /*burst=*/5}, clock.Monotonic());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(budget.Take(clock.Monotonic()));
    clock.StepWall(step);
    EXPECT_FALSE(budget.Take(clock.Monotonic())) << "an NTP step of " << step << " refilled it";
    clock.Advance(absl::Milliseconds(100));
    EXPECT_TRUE(budget.Take(clock.Monotonic())) << "after a step of " << step;
    EXPECT_FALSE(budget.Take(clock.Monotonic()));
  }
}

}  // namespace
}  // namespace ikeless::controller
