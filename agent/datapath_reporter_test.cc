#include "agent/datapath_reporter.h"

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

v1::SaReport Sa(uint64_t packets) {
  v1::SaReport sa;
  sa.set_association_id(7);
  sa.set_inbound(true);
  sa.set_spi(0x1234);
  sa.set_packets(packets);
  return sa;
}

TEST(DatapathReporter, ReportsChangesAndNewDropsPerReason) {
  DatapathReporter reporter(absl::Seconds(60));
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  auto out = reporter.Next({{"integrity", 0}, {"replay", 2}}, {Sa(10)}, t0);
  ASSERT_TRUE(out.report.has_value());
  const v1::DatapathReport& r = out.report->report();
  EXPECT_EQ(r.drops().size(), 1u);  // a reason never seen is left out
  EXPECT_EQ(r.drops().at("replay"), 2u);
  ASSERT_EQ(r.sas_size(), 1);
  EXPECT_EQ(out.new_drops, (std::vector<std::pair<std::string, uint64_t>>{{"replay", 2}}));

  // Nothing changed: nothing to send or log.
  out = reporter.Next({{"integrity", 0}, {"replay", 2}}, {Sa(10)}, t0 + absl::Seconds(10));
  EXPECT_FALSE(out.report.has_value());
  EXPECT_TRUE(out.new_drops.empty());

  // Traffic only: a report, no drop line.
  out = reporter.Next({{"replay", 2}}, {Sa(11)}, t0 + absl::Seconds(20));
  EXPECT_TRUE(out.report.has_value());
  EXPECT_TRUE(out.new_drops.empty());

  // Three more integrity failures: one line for that reason with the delta.
  out = reporter.Next({{"integrity", 3}, {"replay", 2}}, {Sa(11)}, t0 + absl::Seconds(30));
  EXPECT_EQ(out.new_drops, (std::vector<std::pair<std::string, uint64_t>>{{"integrity", 3}}));

  // Unchanged, but a minute since the last report: sent again.
  out = reporter.Next({{"integrity", 3}, {"replay", 2}}, {Sa(11)}, t0 + absl::Seconds(95));
  EXPECT_TRUE(out.report.has_value());
}

TEST(DatapathReporter, ManySasAreCappedAndCounted) {
  DatapathReporter reporter;
  std::vector<v1::SaReport> sas(DatapathReporter::kMaxSas + 5, Sa(1));
  auto out = reporter.Next({}, sas, absl::FromUnixSeconds(1));
  ASSERT_TRUE(out.report.has_value());
  EXPECT_EQ(static_cast<size_t>(out.report->report().sas_size()), DatapathReporter::kMaxSas);
  EXPECT_EQ(out.report->report().sas_omitted(), 5u);
  // Undelivered: sent again although nothing changed.
  reporter.Undelivered();
  EXPECT_TRUE(reporter.Next({}, sas, absl::FromUnixSeconds(2)).report.has_value());
}

}  // namespace
}  // namespace ikeless::agent
