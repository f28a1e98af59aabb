#include "tools/ipsecctl/selector.h"

#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

struct Case {
  const char* spec;
  uint32_t protocol;
  uint32_t port;
};

TEST(ParseSelector, AcceptsEveryDocumentedForm) {
  for (const Case& c : {Case{"any", 0, 0}, Case{"tcp", 6, 0}, Case{"udp", 17, 0},
                        Case{"icmp", 1, 0}, Case{"icmpv6", 58, 0}, Case{"tcp/22", 6, 22},
                        Case{"udp/53", 17, 53}, Case{"tcp/65535", 6, 65535},
                        Case{"proto/47", 47, 0}, Case{"50", 50, 0}, Case{"proto/0", 0, 0}}) {
    auto s = ParseSelector(c.spec);
    ASSERT_TRUE(s.ok()) << c.spec << ": " << s.status();
    EXPECT_EQ(s->protocol(), c.protocol) << c.spec;
    EXPECT_EQ(s->port(), c.port) << c.spec;
  }
}

TEST(ParseSelector, RejectsMalformedSpecs) {
  for (const char* bad :
       {"", "all", "TCP ", "tcp/", "tcp/0", "tcp/65536", "tcp/x", "tcp/22/1", "icmp/8", "proto",
        "proto/", "proto/256", "proto/x", "256", "-1", "47/80", "proto/6/22", "sctp"}) {
    auto s = ParseSelector(bad);
    EXPECT_FALSE(s.ok()) << "'" << bad << "'";
    if (!s.ok()) {
      // The message shows what is accepted.
      EXPECT_NE(s.status().message().find("tcp/PORT"), std::string::npos) << s.status();
    }
  }
}

TEST(FormatSelector, IsTheInverseOfParse) {
  for (const char* spec : {"any", "tcp", "udp/53", "icmp", "icmpv6", "proto/47", "tcp/22"}) {
    auto s = ParseSelector(spec);
    ASSERT_TRUE(s.ok()) << spec;
    EXPECT_EQ(FormatSelector(*s), spec);
  }
  // Other spellings of the same selector print canonically.
  EXPECT_EQ(FormatSelector(*ParseSelector("6")), "tcp");
  EXPECT_EQ(FormatSelector(*ParseSelector("proto/17")), "udp");
}

TEST(FormatSelector, ShowsAPortItCannotSpell) {
  v1::Selector s;
  s.set_protocol(132);
  s.set_port(80);
  EXPECT_EQ(FormatSelector(s), "proto/132 port 80");
}

}  // namespace
}  // namespace ikeless::ipsecctl
