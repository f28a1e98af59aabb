#include "common/random.h"

#include <set>

#include "gtest/gtest.h"

namespace ikeless {
namespace {

TEST(FakeRandom, IsDeterministicPerSeed) {
  FakeRandom a(7), b(7), c(8);
  EXPECT_EQ(a.Uint64(), b.Uint64());
  EXPECT_NE(a.Uint64(), c.Uint64());
}

TEST(RandomSource, UniformStaysInRange) {
  FakeRandom r(3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    uint64_t v = r.Uniform(256, 260);
    ASSERT_GE(v, 256u);
    ASSERT_LE(v, 260u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST(CryptoRandom, FillsOddLengths) {
  uint8_t buf[37] = {};
  CryptoRandom::Get()->Fill(buf, sizeof buf);
  int zeros = 0;
  for (uint8_t b : buf) zeros += b == 0;
  EXPECT_LT(zeros, 10);  // 37 random bytes are not mostly zero
}

}  // namespace
}  // namespace ikeless
