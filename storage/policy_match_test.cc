// The S21 matching rules of storage/policy_match.h, one rule per test.
#include "storage/policy_match.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ikeless::storage {
namespace {

v1::Policy MakePolicy(const std::string& name, const std::string& a, const std::string& b,
                      uint32_t protocol = 0, uint32_t port = 0, int priority = 0) {
  v1::Policy p;
  p.set_name(name);
  p.mutable_a()->set_address(a);
  p.mutable_b()->set_address(b);
  p.mutable_selector()->set_protocol(protocol);
  p.mutable_selector()->set_port(port);
  p.set_priority(priority);
  return p;
}

v1::Selector Sel(uint32_t protocol = 0, uint32_t port = 0) {
  v1::Selector s;
  s.set_protocol(protocol);
  s.set_port(port);
  return s;
}

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

// The name of the best match, "" if none; checks every order of `policies`
// gives the same answer.
std::string Best(std::vector<v1::Policy> policies, const char* source, const char* peer,
                 const v1::Selector& selector = Sel()) {
  std::sort(policies.begin(), policies.end(),
            [](const v1::Policy& x, const v1::Policy& y) { return x.name() < y.name(); });
  std::string first;
  bool have_first = false;
  do {
    const v1::Policy* p = BestPolicy(policies, Ip(source), Ip(peer), selector);
    std::string name = p == nullptr ? "" : p->name();
    if (!have_first) {
      first = name;
      have_first = true;
    }
    EXPECT_EQ(name, first) << "answer depends on the order of the policies";
  } while (std::next_permutation(
      policies.begin(), policies.end(),
      [](const v1::Policy& x, const v1::Policy& y) { return x.name() < y.name(); }));
  return first;
}

TEST(PolicyMatch, PairIsUnordered) {
  v1::Policy p = MakePolicy("p", "198.18.0.1", "198.18.0.2");
  EXPECT_TRUE(PolicyMatches(p, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel()));
  EXPECT_TRUE(PolicyMatches(p, Ip("198.18.0.2"), Ip("198.18.0.1"), Sel()));
  EXPECT_FALSE(PolicyMatches(p, Ip("198.18.0.1"), Ip("198.18.0.3"), Sel()));
  EXPECT_FALSE(PolicyMatches(p, Ip("198.18.0.1"), Ip("198.18.0.1"), Sel()));
}

TEST(PolicyMatch, ExactBeatsPrefixBeatsWildcard) {
  std::vector<v1::Policy> all = {
      MakePolicy("exact", "198.18.0.1", "198.18.0.2"),
      MakePolicy("prefix", "198.18.0.0/24", "198.18.0.0/24"),
      MakePolicy("wild", "*", "*"),
  };
  EXPECT_EQ(Best(all, "198.18.0.2", "198.18.0.1"), "exact");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.3"), "prefix");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.19.0.1"), "wild");
}

TEST(PolicyMatch, SpecificityIsTheSumOfBothEndpoints) {
  // /24 + /24 = 48 beats /32 + wildcard = 31.
  std::vector<v1::Policy> all = {
      MakePolicy("host-to-any", "198.18.0.1", "*"),
      MakePolicy("net-to-net", "198.18.0.0/24", "198.18.0.0/24"),
  };
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.9"), "net-to-net");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.1.9"), "host-to-any");
}

TEST(PolicyMatch, WildcardRanksBelowZeroPrefix) {
  std::vector<v1::Policy> all = {
      MakePolicy("wild", "*", "*"),
      MakePolicy("zero", "0.0.0.0/0", "0.0.0.0/0"),
  };
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2"), "zero");
  // Only the wildcard covers IPv6.
  EXPECT_EQ(Best(all, "fd00::1", "fd00::2"), "wild");
}

TEST(PolicyMatch, MoreSpecificSelectorWins) {
  std::vector<v1::Policy> all = {
      MakePolicy("any", "198.18.0.1", "198.18.0.2"),
      MakePolicy("tcp", "198.18.0.1", "198.18.0.2", 6),
      MakePolicy("https", "198.18.0.1", "198.18.0.2", 6, 443),
  };
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2", Sel(6, 443)), "https");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2", Sel(6, 22)), "tcp");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2", Sel(17, 53)), "any");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2", Sel()), "any");
}

TEST(PolicyMatch, AddressSpecificityComesBeforeSelector) {
  std::vector<v1::Policy> all = {
      MakePolicy("exact-any", "198.18.0.1", "198.18.0.2"),
      MakePolicy("prefix-https", "198.18.0.0/24", "198.18.0.0/24", 6, 443),
  };
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2", Sel(6, 443)), "exact-any");
}

TEST(PolicyMatch, SelectorThatDoesNotCoverTheRequestDoesNotMatch) {
  v1::Policy https = MakePolicy("https", "198.18.0.1", "198.18.0.2", 6, 443);
  EXPECT_TRUE(PolicyMatches(https, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel(6, 443)));
  EXPECT_FALSE(PolicyMatches(https, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel(6, 80)));
  EXPECT_FALSE(PolicyMatches(https, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel(17, 443)));
  EXPECT_EQ(Best({https}, "198.18.0.1", "198.18.0.2", Sel(6, 80)), "");
}

TEST(PolicyMatch, AnyTrafficRequestDoesNotMatchProtocolLimitedPolicy) {
  v1::Policy tcp = MakePolicy("tcp", "198.18.0.1", "198.18.0.2", 6);
  EXPECT_FALSE(PolicyMatches(tcp, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel(0, 0)));
  EXPECT_EQ(Best({tcp}, "198.18.0.1", "198.18.0.2", Sel(0, 0)), "");
  EXPECT_TRUE(PolicyMatches(tcp, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel(6, 0)));
}

TEST(PolicyMatch, HigherPriorityBreaksTies) {
  std::vector<v1::Policy> all = {
      MakePolicy("low", "198.18.0.0/24", "*", 0, 0, 5),
      MakePolicy("high", "198.18.0.0/24", "*", 0, 0, 10),
  };
  EXPECT_EQ(Best(all, "198.18.0.1", "198.19.0.1"), "high");
}

TEST(PolicyMatch, PriorityDoesNotBeatSpecificity) {
  std::vector<v1::Policy> all = {
      MakePolicy("exact", "198.18.0.1", "198.18.0.2", 0, 0, -100),
      MakePolicy("wild", "*", "*", 0, 0, 100),
      MakePolicy("exact-https", "198.18.0.1", "198.18.0.2", 6, 443, -200),
  };
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2"), "exact");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2", Sel(6, 443)), "exact-https");
}

TEST(PolicyMatch, SmallerNameBreaksFullTies) {
  std::vector<v1::Policy> all = {
      MakePolicy("charlie", "198.18.0.1", "198.18.0.2", 6, 0, 1),
      MakePolicy("alpha", "198.18.0.2", "198.18.0.1", 6, 0, 1),
      MakePolicy("bravo", "198.18.0.1", "198.18.0.2", 6, 0, 1),
  };
  EXPECT_EQ(Best(all, "198.18.0.1", "198.18.0.2", Sel(6, 22)), "alpha");
}

TEST(PolicyMatch, Ipv6) {
  std::vector<v1::Policy> all = {
      MakePolicy("v6-exact", "fd00::1", "fd00:0:0:1::1"),
      MakePolicy("v6-net", "fd00::/48", "fd00::/48"),
      MakePolicy("v4-net", "198.18.0.0/15", "198.18.0.0/15"),
  };
  EXPECT_EQ(Best(all, "fd00:0:0:1::1", "fd00::1"), "v6-exact");
  EXPECT_EQ(Best(all, "fd00::1", "fd00::2"), "v6-net");
  EXPECT_EQ(Best(all, "fd00::1", "fd01::2"), "");
  EXPECT_EQ(Best(all, "198.18.0.1", "198.19.0.1"), "v4-net");
  // An IPv4 prefix never contains an IPv6 address, nor the reverse.
  EXPECT_EQ(Best(all, "198.18.0.1", "fd00::2"), "");
}

TEST(PolicyMatch, UnparsableEndpointsNeverMatch) {
  v1::Policy bad = MakePolicy("bad", "not-an-address", "*");
  EXPECT_FALSE(PolicyMatches(bad, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel()));
  v1::Policy typo = MakePolicy("typo", "198.18.0.1/24", "*");
  EXPECT_EQ(Best({bad, typo}, "198.18.0.1", "198.18.0.2"), "");
}

TEST(PolicyMatch, NoPoliciesNoMatch) {
  EXPECT_EQ(BestPolicy({}, Ip("198.18.0.1"), Ip("198.18.0.2"), Sel()), nullptr);
}

}  // namespace
}  // namespace ikeless::storage
