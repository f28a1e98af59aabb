#include "tools/ipsecctl/numbers.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

TEST(ParseUnsigned, AcceptsDigitsUpToTheLimit) {
  EXPECT_EQ(*ParseUnsigned("0", 10), 0u);
  EXPECT_EQ(*ParseUnsigned("10", 10), 10u);
  EXPECT_EQ(*ParseUnsigned("007", 10), 7u);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(*ParseUnsigned("18446744073709551615", kMax), kMax);
}

TEST(ParseUnsigned, RejectsWhatSimpleAtoiWouldLetThrough) {
  for (const char* bad : {"", "+5", " 5", "5 ", "-1", "5x", "0x10", "1e3", "1.0"}) {
    auto r = ParseUnsigned(bad, 1000);
    EXPECT_FALSE(r.ok()) << "'" << bad << "'";
  }
}

TEST(ParseUnsigned, RejectsValuesAboveTheLimitAndOverflow) {
  auto r = ParseUnsigned("11", 10);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at most 10"), std::string::npos) << r.status();
  EXPECT_FALSE(ParseUnsigned("18446744073709551616", std::numeric_limits<uint64_t>::max()).ok());
  EXPECT_FALSE(ParseUnsigned("99999999999999999999999", 5).ok());
}

TEST(ParseSigned, HandlesSignAndRange) {
  EXPECT_EQ(*ParseSigned("-5", -10, 10), -5);
  EXPECT_EQ(*ParseSigned("10", -10, 10), 10);
  EXPECT_EQ(*ParseSigned("-2147483648", INT32_MIN, INT32_MAX), INT32_MIN);
  EXPECT_EQ(*ParseSigned("-9223372036854775808", INT64_MIN, INT64_MAX), INT64_MIN);
  EXPECT_FALSE(ParseSigned("-2147483649", INT32_MIN, INT32_MAX).ok());
  EXPECT_FALSE(ParseSigned("2147483648", INT32_MIN, INT32_MAX).ok());
  for (const char* bad : {"", "-", "+1", "--1", "- 1", "1-"}) {
    EXPECT_FALSE(ParseSigned(bad, -10, 10).ok()) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace ikeless::ipsecctl
