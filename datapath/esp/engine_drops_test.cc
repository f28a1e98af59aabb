#include "datapath/esp/engine_drops.h"

#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

TEST(EngineDrops, EveryDropCounterHasAReason) {
  EngineStats s;
  s.integrity = 1;
  s.replay = 2;
  s.in_malformed = 3;
  s.out_malformed = 4;
  s.unknown_spi = 5;
  s.held_overflow = 6;
  const DropCounts d = EngineDrops(s);
  EXPECT_EQ(d.at("integrity"), 1u);
  EXPECT_EQ(d.at("replay"), 2u);
  EXPECT_EQ(d.at("malformed"), 7u);
  EXPECT_EQ(d.at("no_sa"), 5u);
  EXPECT_EQ(d.at("held_overflow"), 6u);
  EXPECT_EQ(d.at("bad_padding"), 0u);
}

}  // namespace
}  // namespace ikeless::datapath::esp
