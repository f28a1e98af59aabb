#include "agent/successor_keys.h"

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

v1::SaParameters WithSuccessors(int n) {
  v1::SaParameters sa;
  sa.set_spi(1000);
  for (int i = 1; i <= n; ++i) {
    v1::SaParameters* s = sa.add_successors();
    s->set_spi(1000 + i);
    s->set_encryption_key(std::string(16, static_cast<char>('a' + i)));
  }
  return sa;
}

TEST(SuccessorKeysTest, TakesThemOutOfTheOutboundSaInOrder) {
  v1::SaParameters sa = WithSuccessors(3);
  SuccessorKeys keys;
  keys.Reset(7, sa);
  EXPECT_EQ(sa.successors_size(), 0);  // the SA to install holds no successor keys
  EXPECT_EQ(keys.association_id(), 7u);
  ASSERT_EQ(keys.size(), 3u);
  v1::SaParameters next;
  for (uint32_t spi : {1001u, 1002u, 1003u}) {
    ASSERT_TRUE(keys.TakeNext(&next));
    EXPECT_EQ(next.spi(), spi);
    EXPECT_EQ(next.encryption_key().size(), 16u);
  }
  EXPECT_FALSE(keys.TakeNext(&next));
  EXPECT_EQ(next.spi(), 1003u);  // unchanged when there is none
}

TEST(SuccessorKeysTest, ResetReplacesTheList) {
  v1::SaParameters first = WithSuccessors(3);
  v1::SaParameters second = WithSuccessors(1);
  SuccessorKeys keys;
  keys.Reset(1, first);
  keys.Reset(2, second);
  EXPECT_EQ(keys.association_id(), 2u);
  EXPECT_EQ(keys.size(), 1u);
  keys.Clear();
  EXPECT_TRUE(keys.empty());
}

TEST(SuccessorKeysTest, StandbyInboundCoversEverySwitchBeforeIt) {
  v1::Lifetime l;
  l.set_hard_seconds(3600);
  l.set_soft_seconds(3000);
  // Generation 2 is switched to at most 2 soft lifetimes after install and
  // used for at most one hard lifetime, plus the slack of two switches.
  v1::Lifetime two = StandbyInboundLifetime(l, 2);
  EXPECT_EQ(two.hard_seconds(), 3600u + 2 * 3000 + 10 + 2 * 2);
  EXPECT_EQ(two.hard_seconds() - two.soft_seconds(), 600u);
  // soft 0 means 90 % of hard (policy.proto).
  l.set_soft_seconds(0);
  EXPECT_EQ(StandbyInboundLifetime(l, 1).hard_seconds(), 3600u + 3240 + 12);
  // No time limit stays without one.
  l.set_hard_seconds(0);
  EXPECT_EQ(StandbyInboundLifetime(l, 1).hard_seconds(), 0u);
}

}  // namespace
}  // namespace ikeless::agent
