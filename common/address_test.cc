#include "common/address.h"

#include "gtest/gtest.h"

namespace ikeless {
namespace {

TEST(IpAddress, ParsesBothFamiliesCanonically) {
  auto v4 = IpAddress::Parse("198.18.0.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "198.18.0.1");
  auto v6 = IpAddress::Parse("fd00:0:0::0001");
  ASSERT_TRUE(v6.ok());
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->ToString(), "fd00::1");
}

TEST(IpAddress, RejectsMalformed) {
  for (const char* bad : {"", "198.18.0", "198.18.0.256", "fd00::1::2", "host",
                          "198.18.0.1 ", "[fd00::1]", "198.18.0.1/32"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).ok()) << bad;
  }
}

TEST(AddressMatch, PrefixContainsAndSpecificity) {
  auto p = AddressMatch::Parse("198.18.0.0/15");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->specificity(), 15);
  EXPECT_TRUE(p->Contains(*IpAddress::Parse("198.19.255.255")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("198.20.0.1")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("fd00::1")));
  auto host = AddressMatch::Parse("fd00::1");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->specificity(), 128);
  EXPECT_EQ(host->ToString(), "fd00::1");
  auto odd = AddressMatch::Parse("fd00:ab::/33");
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_TRUE(odd->Contains(*IpAddress::Parse("fd00:ab:7fff::1")));
  EXPECT_FALSE(odd->Contains(*IpAddress::Parse("fd00:ab:8000::1")));
}

TEST(AddressMatch, WildcardIsLeastSpecific) {
  auto w = AddressMatch::Parse("*");
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->is_wildcard());
  EXPECT_LT(w->specificity(), AddressMatch::Parse("0.0.0.0/0")->specificity());
  EXPECT_TRUE(w->Contains(*IpAddress::Parse("fd00::9")));
  EXPECT_EQ(w->ToString(), "*");
}

TEST(AddressMatch, RejectsBadPrefixes) {
  for (const char* bad : {"198.18.0.0/33", "198.18.0.0/-1", "198.18.0.0/", "fd00::/129",
                          "198.18.0.1/24", "198.18.0.0/+8", "198.18.0.0/8x"}) {
    auto r = AddressMatch::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(CanonicalAddress, NamesTheField) {
  auto r = CanonicalAddress("nope", "request.peer");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("request.peer"), std::string::npos);
}

}  // namespace
}  // namespace ikeless

namespace ikeless {
namespace {

TEST(AddressMatch, CidrSpellingAndOverlap) {
  auto m = [](const char* t) { return *AddressMatch::Parse(t); };
  EXPECT_EQ(m("198.18.0.1").ToCidr(), "198.18.0.1/32");
  EXPECT_EQ(m("fd00:0::1").ToCidr(), "fd00::1/128");
  EXPECT_EQ(m("198.18.10.0/24").ToCidr(), "198.18.10.0/24");
  EXPECT_TRUE(m("198.18.0.0/16").Overlaps(m("198.18.10.0/24")));
  EXPECT_TRUE(m("198.18.10.0/24").Overlaps(m("198.18.0.0/16")));
  EXPECT_FALSE(m("198.18.10.0/24").Overlaps(m("198.18.20.0/24")));
  EXPECT_FALSE(m("198.18.10.0/24").Overlaps(m("fd00::/8")));
  EXPECT_TRUE(m("fd00:10::/64").Overlaps(m("fd00:10::1")));
}

}  // namespace
}  // namespace ikeless
