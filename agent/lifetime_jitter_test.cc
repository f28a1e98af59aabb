// Rekey jitter: each end lowers its soft lifetime by its own random amount
// of up to a fraction of the hard lifetime, never below 1 s, always < hard.
#include "agent/lifetime_jitter.h"

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

TEST(LifetimeJitterTest, SoftLoweredByAtMostTenPercentOfHardAndVaries) {
  FakeRandom random(7);
  std::set<uint64_t> seen;
  for (int i = 0; i < 500; ++i) {
    v1::Lifetime l = Make(3240, 3600);
    JitterSoftLifetime(&l, 0.10, random);
    EXPECT_LE(l.soft_seconds(), 3240u);
    EXPECT_GE(l.soft_seconds(), 3240u - 360u);
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
  EXPECT_GE(l.soft_seconds(), 800u);
}

TEST(LifetimeJitterTest, NeverBelowOneSecondAndAlwaysBelowHard) {
  FakeRandom random(11);
  for (int i = 0; i < 200; ++i) {
    v1::Lifetime tiny = Make(1, 10);  // jitter up to 1 s would reach 0
    JitterSoftLifetime(&tiny, 0.10, random);
    EXPECT_EQ(tiny.soft_seconds(), 1u);
    v1::Lifetime whole = Make(5, 10);  // fraction 1: up to 10 s of jitter
    JitterSoftLifetime(&whole, 1.0, random);
    EXPECT_GE(whole.soft_seconds(), 1u);
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
