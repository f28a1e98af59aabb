#ifndef IKELESS_AGENT_DATAPATH_REPORTER_H_
#define IKELESS_AGENT_DATAPATH_REPORTER_H_

// What the agent tells about its datapath (issue #11, point 3: the engine
// counted every drop, but nothing outside the tests read the counters):
// every report interval, a DatapathReport to the controller when something
// changed (and at least every `refresh`, so a controller that restarted
// learns it), and for the log the drops that are new since the last
// interval, per reason: one line per reason per interval at most. Pure:
// the caller reads the counters and does the sending and logging.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "datapath/datapath.h"
#include "proto/agent.pb.h"

namespace ikeless::agent {

class DatapathReporter {
 public:
  // SAs in one report at most (DatapathReport.sas_omitted counts the rest).
  static constexpr size_t kMaxSas = 1000;

  explicit DatapathReporter(absl::Duration refresh = absl::Seconds(60)) : refresh_(refresh) {}

  struct Output {
    std::optional<v1::AgentMessage> report;
    std::vector<std::pair<std::string, uint64_t>> new_drops;  // reason, how many more
  };
  Output Next(const datapath::DropCounts& drops, std::vector<v1::SaReport> sas, absl::Time now);

  // The report just made was not delivered (the stream is down): the next
  // call sends one whatever changed.
  void Undelivered() { last_sent_ = absl::InfinitePast(); }

 private:
  const absl::Duration refresh_;
  v1::DatapathReport last_;
  absl::Time last_sent_ = absl::InfinitePast();
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_DATAPATH_REPORTER_H_
