#include "controller/enrollment_tokens.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

TEST(EnrollmentTokens, OneTimeAndExpiring) {
  FakeClock clock;
  FakeRandom random(5);
  EnrollmentTokens tokens(&clock, &random);
  auto made = tokens.Create({"gw-a", {"fd00:0::1"}}, absl::Hours(1));
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_GE(made->first.size(), 43u);
  EXPECT_EQ(made->second, clock.Now() + absl::Hours(1));
  auto grant = tokens.Redeem(made->first);
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->node_name, "gw-a");
  EXPECT_EQ(grant->addresses, std::vector<std::string>{"fd00::1"});
  // Used: refused, with the same message as an unknown token.
  auto again = tokens.Redeem(made->first);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(tokens.Redeem("made-up").status().message(), again.status().message());
  // Expired.
  auto late = tokens.Create({"gw-b", {"198.18.0.2"}}, absl::Minutes(5));
  ASSERT_TRUE(late.ok());
  clock.Advance(absl::Minutes(5));
  EXPECT_EQ(tokens.Redeem(late->first).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(EnrollmentTokens, BadGrantsNameTheField) {
  FakeClock clock;
  FakeRandom random;
  EnrollmentTokens tokens(&clock, &random);
  EXPECT_NE(tokens.Create({"bad name", {"198.18.0.1"}}, absl::Hours(1)).status().message().find("node_name"),
            std::string::npos);
  EXPECT_NE(tokens.Create({"gw", {}}, absl::Hours(1)).status().message().find("addresses"),
            std::string::npos);
  EXPECT_NE(tokens.Create({"gw", {"nope"}}, absl::Hours(1)).status().message().find("addresses[0]"),
            std::string::npos);
  EXPECT_NE(tokens.Create({"gw", {"198.18.0.1"}}, absl::Hours(24 * 8)).status().message().find("ttl"),
            std::string::npos);
}

}  // namespace
}  // namespace ikeless::controller
