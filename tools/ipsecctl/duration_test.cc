#include "tools/ipsecctl/duration.h"

#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

TEST(ParseDurationSeconds, AcceptsTheDocumentedForms) {
  EXPECT_EQ(*ParseDurationSeconds("3600"), 3600u);
  EXPECT_EQ(*ParseDurationSeconds("3600s"), 3600u);
  EXPECT_EQ(*ParseDurationSeconds("90m"), 5400u);
  EXPECT_EQ(*ParseDurationSeconds("1h"), 3600u);
  EXPECT_EQ(*ParseDurationSeconds("2d"), 172800u);
  EXPECT_EQ(*ParseDurationSeconds("1h30m"), 5400u);
  EXPECT_EQ(*ParseDurationSeconds("1d2h3m4s"), 86400u + 7200u + 180u + 4u);
}

TEST(ParseDurationSeconds, ZeroParsesAsZero) {
  // The caller decides whether zero is allowed (--lifetime: no;
  // --soft-lifetime: yes, it means "the controller's default").
  EXPECT_EQ(*ParseDurationSeconds("0"), 0u);
  EXPECT_EQ(*ParseDurationSeconds("0s"), 0u);
}

TEST(ParseDurationSeconds, RejectsGarbage) {
  for (const char* bad : {"", "h", "1x", "1.5h", "-1", "+1", "1h30", "1 h", " 1h", "1h ", "1H",
                          "ms", "1hh", "99999999999999999999", "999999999999999999d"}) {
    auto r = ParseDurationSeconds(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "'";
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("is not a duration"), std::string::npos);
    }
  }
}

TEST(FormatDurationSeconds, PicksTheLargestExactUnits) {
  EXPECT_EQ(FormatDurationSeconds(0), "0s");
  EXPECT_EQ(FormatDurationSeconds(59), "59s");
  EXPECT_EQ(FormatDurationSeconds(3600), "1h");
  EXPECT_EQ(FormatDurationSeconds(3240), "54m");
  EXPECT_EQ(FormatDurationSeconds(5400), "1h30m");
  EXPECT_EQ(FormatDurationSeconds(86400), "1d");
  EXPECT_EQ(FormatDurationSeconds(90061), "1d1h1m1s");
}

TEST(FormatDurationSeconds, ReadsBack) {
  for (uint64_t s : {1ull, 61ull, 3599ull, 3600ull, 86399ull, 1000000ull}) {
    auto back = ParseDurationSeconds(FormatDurationSeconds(s));
    ASSERT_TRUE(back.ok()) << s;
    EXPECT_EQ(*back, s);
  }
}

}  // namespace
}  // namespace ikeless::ipsecctl
