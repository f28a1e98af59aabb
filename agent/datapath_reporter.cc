#include "agent/datapath_reporter.h"

#include "google/protobuf/util/message_differencer.h"

namespace ikeless::agent {

DatapathReporter::Output DatapathReporter::Next(const datapath::DropCounts& drops,
                                                std::vector<v1::SaReport> sas, absl::Time now) {
  Output out;
  v1::DatapathReport report;
  for (const auto& [reason, count] : drops) {
    if (count == 0) continue;  // reasons never seen stay out of the report
    (*report.mutable_drops())[reason] = count;
    auto before = last_.drops().find(reason);
    const uint64_t had = before == last_.drops().end() ? 0 : before->second;
    if (count > had) out.new_drops.emplace_back(reason, count - had);
  }
  for (v1::SaReport& sa : sas) {
    if (static_cast<size_t>(report.sas_size()) < kMaxSas) {
      *report.add_sas() = std::move(sa);
    } else {
      report.set_sas_omitted(report.sas_omitted() + 1);
    }
  }
  const bool changed = !google::protobuf::util::MessageDifferencer::Equals(report, last_);
  if (changed || now - last_sent_ >= refresh_) {
    *out.report.emplace().mutable_report() = report;
    last_sent_ = now;
  }
  last_ = std::move(report);
  return out;
}

}  // namespace ikeless::agent
