#include "tools/ipsecctl/cli_args.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

using Words = std::vector<std::string>;

constexpr OptionSpec kSpecs[] = {
    {"--between", nullptr, 2, "A B"},
    {"--priority", nullptr, 1, "N"},
    {"--output", "-o", 1, "table|json"},
    {"--verbose", nullptr, 0, ""},
    {"--allow-legacy", nullptr, 0, "", /*boolean=*/true},
};

TEST(SplitArgs, SeparateAndInlineValuesAreTheSame) {
  auto a = SplitArgs(Words{"--priority", "5", "web"}, kSpecs);
  auto b = SplitArgs(Words{"--priority=5", "web"}, kSpecs);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  for (const auto* r : {&*a, &*b}) {
    ASSERT_EQ(r->options.size(), 1u);
    EXPECT_EQ(r->options[0].name, "--priority");
    EXPECT_EQ(r->options[0].values, Words{"5"});
    EXPECT_EQ(r->operands, Words{"web"});
  }
}

TEST(SplitArgs, TwoValueOptionAndShortName) {
  auto r = SplitArgs(Words{"web", "--between", "198.18.0.1", "*", "-o", "json"}, kSpecs);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->options.size(), 2u);
  EXPECT_EQ(r->options[0].values, (Words{"198.18.0.1", "*"}));
  // The short name is reported under the long one.
  EXPECT_EQ(r->options[1].name, "--output");
  EXPECT_EQ(r->options[1].values, Words{"json"});
  EXPECT_EQ(r->operands, Words{"web"});

  auto inline_first = SplitArgs(Words{"--between=198.18.0.1", "fd00::1"}, kSpecs);
  ASSERT_TRUE(inline_first.ok()) << inline_first.status();
  EXPECT_EQ(inline_first->options[0].values, (Words{"198.18.0.1", "fd00::1"}));
}

TEST(SplitArgs, ValuesAreTakenVerbatimEvenIfTheyLookLikeOptions) {
  auto r = SplitArgs(Words{"--priority", "-5"}, kSpecs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->options[0].values, Words{"-5"});
  auto empty = SplitArgs(Words{"--priority="}, kSpecs);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->options[0].values, Words{""});
}

TEST(SplitArgs, MissingValueNamesTheOption) {
  auto r = SplitArgs(Words{"--between", "198.18.0.1"}, kSpecs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "--between: missing value (--between A B)");
  auto p = SplitArgs(Words{"web", "--priority"}, kSpecs);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "--priority: missing value (--priority N)");
}

TEST(SplitArgs, UnknownOptionIsAnError) {
  auto r = SplitArgs(Words{"--prio", "5"}, kSpecs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "--prio: unknown option");
  auto inline_value = SplitArgs(Words{"--prio=5"}, kSpecs);
  ASSERT_FALSE(inline_value.ok());
  EXPECT_EQ(inline_value.status().message(), "--prio: unknown option");
}

TEST(SplitArgs, FlagsAndBooleans) {
  auto r = SplitArgs(Words{"--verbose", "--allow-legacy", "--allow-legacy=false"}, kSpecs);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->options.size(), 3u);
  EXPECT_TRUE(r->options[0].values.empty());
  EXPECT_TRUE(r->options[1].values.empty());
  EXPECT_EQ(r->options[2].values, Words{"false"});
  auto bad = SplitArgs(Words{"--verbose=yes"}, kSpecs);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "--verbose: takes no value");
}

TEST(BoolValue, BareTrueOrFalse) {
  EXPECT_TRUE(*BoolValue({"--flag", {}}));
  EXPECT_TRUE(*BoolValue({"--flag", {"true"}}));
  EXPECT_FALSE(*BoolValue({"--flag", {"false"}}));
  auto bad = BoolValue({"--flag", {"yes"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "'yes' is not true or false");
}

TEST(SplitArgs, DoubleDashEndsOptionsAndLoneDashIsAnOperand) {
  auto r = SplitArgs(Words{"-", "--", "--priority", "x"}, kSpecs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->options.empty());
  EXPECT_EQ(r->operands, (Words{"-", "--priority", "x"}));
}

TEST(SplitArgs, StopAtOperandLeavesTheRestUnparsed) {
  auto r = SplitArgs(Words{"-o", "json", "policy", "add", "--unknown"}, kSpecs,
                     /*stop_at_operand=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->options.size(), 1u);
  EXPECT_EQ(r->operands, (Words{"policy", "add", "--unknown"}));
}

TEST(GlobalOptions, DefaultsComeFromTheEnvironmentOrTheBuiltIn) {
  EXPECT_EQ(DefaultGlobalOptions("").controller, "127.0.0.1:50051");
  GlobalOptions g = DefaultGlobalOptions("ctl.example:7000");
  EXPECT_EQ(g.controller, "ctl.example:7000");
  EXPECT_EQ(g.output, OutputFormat::kTable);
  EXPECT_EQ(g.timeout, absl::Seconds(10));
}

TEST(GlobalOptions, ApplyParsesEachOption) {
  GlobalOptions g = DefaultGlobalOptions("");
  ASSERT_TRUE(ApplyGlobalOption({"--controller", {"10.0.0.1:1"}}, &g).ok());
  ASSERT_TRUE(ApplyGlobalOption({"--output", {"json"}}, &g).ok());
  ASSERT_TRUE(ApplyGlobalOption({"--timeout", {"2.5"}}, &g).ok());
  EXPECT_EQ(g.controller, "10.0.0.1:1");
  EXPECT_EQ(g.output, OutputFormat::kJson);
  EXPECT_EQ(g.timeout, absl::Milliseconds(2500));
  ASSERT_TRUE(ApplyGlobalOption({"--output", {"table"}}, &g).ok());
  EXPECT_EQ(g.output, OutputFormat::kTable);
}

TEST(GlobalOptions, ErrorsNameTheOption) {
  GlobalOptions g = DefaultGlobalOptions("");
  for (const char* bad : {"0", "-1", "x", "", "inf", "nan", " 5", "+5"}) {
    absl::Status s = ApplyGlobalOption({"--timeout", {bad}}, &g);
    ASSERT_FALSE(s.ok()) << "'" << bad << "'";
    EXPECT_EQ(s.message().substr(0, 10), "--timeout:") << s;
  }
  absl::Status o = ApplyGlobalOption({"--output", {"yaml"}}, &g);
  EXPECT_EQ(o.message(), "--output: 'yaml' is not one of: table, json");
  absl::Status c = ApplyGlobalOption({"--controller", {""}}, &g);
  EXPECT_EQ(c.message(), "--controller: empty address");
  EXPECT_EQ(g.timeout, absl::Seconds(10));
}

TEST(GlobalOptions, IsGlobalOption) {
  EXPECT_TRUE(IsGlobalOption("--controller"));
  EXPECT_TRUE(IsGlobalOption("--output"));
  EXPECT_TRUE(IsGlobalOption("-o"));
  EXPECT_TRUE(IsGlobalOption("--timeout"));
  EXPECT_FALSE(IsGlobalOption("--between"));
}

}  // namespace
}  // namespace ikeless::ipsecctl
