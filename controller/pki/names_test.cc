#include "controller/pki/names.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

using ::testing::HasSubstr;

TEST(ValidateIdentityNameTest, AcceptsLettersDigitsDotUnderscoreDash) {
  EXPECT_TRUE(ValidateIdentityName("node-1.example_A", "name").ok());
  EXPECT_TRUE(ValidateIdentityName(std::string(64, 'a'), "name").ok());
}

TEST(ValidateIdentityNameTest, RejectsEmptyLongAndOtherCharactersNamingTheField) {
  auto empty = ValidateIdentityName("", "name");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "name: must not be empty");

  auto long_name = ValidateIdentityName(std::string(65, 'a'), "name");
  EXPECT_EQ(long_name.message(), "name: must be at most 64 characters (got 65)");

  for (const char* bad : {"a b", "a/b", "ä", "a\nb", "x:y", "a@b"}) {
    auto s = ValidateIdentityName(bad, "request.name");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("request.name: ")) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("may use only letters, digits")) << bad;
  }
}

TEST(ValidateIdentityNameTest, EscapesControlCharactersInTheMessage) {
  auto s = ValidateIdentityName("a\nb", "name");
  EXPECT_EQ(s.message().find('\n'), absl::string_view::npos);
  EXPECT_THAT(std::string(s.message()), HasSubstr("'a\\nb'"));
}

TEST(ValidateDnsNameTest, AcceptsHostNames) {
  for (const char* ok :
       {"localhost", "ikeless-controller", "ctl.example.org", "a1.b-2.c", "123.example"}) {
    EXPECT_TRUE(ValidateDnsName(ok, "dns").ok()) << ok;
  }
}

TEST(ValidateDnsNameTest, RejectsMalformedNamesNamingTheField) {
  struct Case {
    std::string name;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {"", "must not be empty"},
           {"a..b", "empty label"},
           {"a.", "empty label"},
           {".a", "empty label"},
           {"-a.b", "starts or ends with '-'"},
           {"a-.b", "starts or ends with '-'"},
           {"*.example.org", "may use only letters"},
           {"a_b.org", "may use only letters"},
           {std::string(64, 'a') + ".org", "longer than 63"},
           {std::string(254, 'a'), "at most 253"},
           {"127.0.0.1", "is an IP address"},
           {"::1", "is an IP address"},
       }) {
    auto s = ValidateDnsName(c.name, "dns_names[2]");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(s.message()), HasSubstr("dns_names[2]: ")) << c.name;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.reason)) << c.name;
  }
}

TEST(QuoteForErrorTest, TruncatesLongText) {
  EXPECT_EQ(QuoteForError("abc"), "'abc'");
  EXPECT_EQ(QuoteForError(std::string(100, 'x')), "'" + std::string(64, 'x') + "'...");
}

}  // namespace
}  // namespace ikeless::pki
