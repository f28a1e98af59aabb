#ifndef IKELESS_COMMON_LOG_LIMITER_H_
#define IKELESS_COMMON_LOG_LIMITER_H_

// Keeps a repetitive log line from flooding the log (issue #11, point 2:
// one node's request loop wrote 44 MB of controller log a minute). Per key
// (an event and its subject), at most `per_interval` lines pass each
// interval; the rest are counted, not lost: the next line that passes
// carries how many were held back. Thread-safe; time is monotonic and
// given by the caller, so tests drive it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace ikeless {

class LogLimiter {
 public:
  using Time = std::chrono::steady_clock::time_point;

  LogLimiter(int per_interval, std::chrono::steady_clock::duration interval)
      : per_interval_(per_interval), interval_(interval) {}

  // nullopt: drop this line (counted). Else log it, with the returned count
  // of lines of this key held back since the last one that passed.
  std::optional<uint64_t> Admit(absl::string_view key, Time now);

  // Keys whose interval has passed with lines held back, and how many
  // (each reported once): so a burst that ends is still counted in the log.
  std::vector<std::pair<std::string, uint64_t>> TakeHeldBack(Time now);

 private:
  struct Window {
    Time start;
    int passed = 0;
    uint64_t held_back = 0;
  };
  const int per_interval_;
  const std::chrono::steady_clock::duration interval_;
  absl::Mutex mu_;
  std::map<std::string, Window, std::less<>> windows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless

#endif  // IKELESS_COMMON_LOG_LIMITER_H_
