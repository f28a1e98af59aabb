// Rekey jitter: each end lowers its soft lifetime by its own random amount
// of up to a fraction of the soft lifetime, never below (1 - fraction) of
// it, never below 1 s, always < hard.
#include "agent/lifetime_jitter.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

v1::Lifetime Make(uint64_t soft, uint64_t hard) {
  v1::Lifetime l;
  l.set_soft_seconds(soft);
  l.set_hard_seconds(hard);
  return l;
}

TEST(LifetimeJitterTest, EffectiveSoftIsNinetyPercentWhenUnset) {
  EXPECT_EQ(EffectiveSoftSeconds(Make(0, 3600)), 3240u);
  EXPECT_EQ(EffectiveSoftSeconds(Make(0, 15)), 13u);
  EXPECT_EQ(EffectiveSoftSeconds(Make(100, 3600)), 100u);
  EXPECT_EQ(EffectiveSoftSeconds(Make(0, 0)), 0u);
}

TEST(LifetimeJitterTest, SoftLoweredByAtMostTenPercentOfSoftAndVaries) {
  FakeRandom random(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 500; ++i) {
    v1::Lifetime l = Make(3240, 3600);
    JitterSoftLifetime(&l, 0.10, random);
    EXPECT_LE(l.soft_seconds(), 3240u);
    EXPECT_GE(l.soft_seconds(), 3240u - 324u);
    EXPECT_EQ(l.hard_seconds(), 3600u);  // the hard lifetime is the controller's
    seen.insert(l.soft_seconds());
  }
  // Two ends must not land on the same second often: the values spread.
  EXPECT_GT(seen.size(), 100u);
}

TEST(LifetimeJitterTest, UnsetSoftIsJitteredFromNinetyPercent) {
  FakeRandom random(3);
  v1::Lifetime l = Make(0, 1000);
  JitterSoftLifetime(&l, 0.10, random);
  EXPECT_LE(l.soft_seconds(), 900u);
  EXPECT_GE(l.soft_seconds(), 810u);
}

// Issue #12 point 1: a soft lifetime far below the hard one. The old jitter
// took up to 10 % of the *hard* lifetime (8,640 s of 24 h, 360 s of 1 h)
// and clamped at 1 s: 58 % of 24h/1h SAs and 93 % of 1h/25s SAs rekeyed
// after 1 s, filling the pair's 16 rows within seconds. Now no draw lands
// before 90 % of the soft lifetime, and the draws still spread over the
// whole [90 %, 100 %] range.
struct StormCase {
  uint64_t hard;
  uint64_t soft;
  size_t min_distinct;  // values a spread distribution reaches
};

class RekeyStormTest : public ::testing::TestWithParam<StormCase> {};

TEST_P(RekeyStormTest, NoSaRekeysBeforeNinetyPercentOfItsSoftLifetime) {
  const StormCase c = GetParam();
  FakeRandom random(12);
  std::map<uint64_t, int> histogram;
  for (int i = 0; i < 10'000; ++i) {
    v1::Lifetime l = Make(c.soft, c.hard);
    JitterSoftLifetime(&l, 0.10, random);
    ASSERT_GE(l.soft_seconds() * 10, c.soft * 9) << "draw " << i << ": " << l.soft_seconds();
    ASSERT_LE(l.soft_seconds(), c.soft);
    ++histogram[l.soft_seconds()];
  }
  // Spread: both ends of the range are reached, many values are, and no
  // single second takes more than a few times its fair share.
  EXPECT_EQ(histogram.begin()->first, c.soft - c.soft / 10);
  EXPECT_EQ(histogram.rbegin()->first, c.soft);
  EXPECT_GE(histogram.size(), c.min_distinct);
  const int fair = 10'000 / static_cast<int>(c.soft / 10 + 1);
  for (const auto& [seconds, count] : histogram) {
    EXPECT_LT(count, 2 * fair) << seconds << " s drawn " << count << " times";
  }
}

INSTANTIATE_TEST_SUITE_P(Issue12, RekeyStormTest,
                         ::testing::Values(StormCase{86400, 3600, 300},  // 24h / 1h
                                           StormCase{3600, 25, 3}));     // 1h / 25s

TEST(LifetimeJitterTest, FractionIsCappedAtHalfTheSoftLifetime) {
  FakeRandom random(5);
  for (int i = 0; i < 1000; ++i) {
    v1::Lifetime l = Make(100, 1000);
    JitterSoftLifetime(&l, 5.0, random);  // a misconfigured option
    EXPECT_GE(l.soft_seconds(), 50u);
    EXPECT_LE(l.soft_seconds(), 100u);
  }
}

TEST(LifetimeJitterTest, NeverBelowOneSecondAndAlwaysBelowHard) {
  FakeRandom random(11);
  for (int i = 0; i < 200; ++i) {
    v1::Lifetime tiny = Make(1, 10);  // 10 % of 1 s is no whole second
    JitterSoftLifetime(&tiny, 0.10, random);
    EXPECT_EQ(tiny.soft_seconds(), 1u);
    v1::Lifetime whole = Make(5, 10);  // fraction 1, capped at 0.5: up to 2 s
    JitterSoftLifetime(&whole, 1.0, random);
    EXPECT_GE(whole.soft_seconds(), 3u);
    EXPECT_LE(whole.soft_seconds(), 5u);
    v1::Lifetime late = Make(50, 10);  // soft >= hard from a bad policy
    JitterSoftLifetime(&late, 0.0, random);
    EXPECT_EQ(late.soft_seconds(), 9u);
  }
}

TEST(LifetimeJitterTest, ZeroFractionOnlyNormalises) {
  FakeRandom random(1);
  v1::Lifetime l = Make(3240, 3600);
  JitterSoftLifetime(&l, 0.0, random);
  EXPECT_EQ(l.soft_seconds(), 3240u);
}

TEST(LifetimeJitterTest, LifetimesWithoutRoomAreLeftAlone) {
  FakeRandom random(1);
  v1::Lifetime none = Make(0, 0);  // byte/packet limits only
  none.set_hard_bytes(1 << 30);
  JitterSoftLifetime(&none, 0.10, random);
  EXPECT_EQ(none.soft_seconds(), 0u);
  v1::Lifetime one = Make(0, 1);
  JitterSoftLifetime(&one, 0.10, random);
  EXPECT_EQ(one.soft_seconds(), 0u);
  EXPECT_EQ(one.hard_seconds(), 1u);
}

}  // namespace
}  // namespace ikeless::agent
