#ifndef IKELESS_DATAPATH_TESTING_EVENT_RECORDER_H_
#define IKELESS_DATAPATH_TESTING_EVENT_RECORDER_H_

// Collects a datapath's events (the sink runs on the datapath's thread) and
// lets a test wait for one.

#include <functional>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "datapath/datapath.h"

namespace ikeless::datapath::testing {

class EventRecorder {
 public:
  std::function<void(const DatapathEvent&)> Sink() {
    return [this](const DatapathEvent& e) {
      absl::MutexLock l(&mu_);
      events_.push_back(e);
    };
  }

  // The first event of `kind` (for `entry`, if > 0) not yet taken, waiting up
  // to `timeout` for it.
  std::optional<DatapathEvent> Take(DatapathEvent::Kind kind, uint32_t entry, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      {
        absl::MutexLock l(&mu_);
        for (auto it = events_.begin(); it != events_.end(); ++it) {
          if (it->kind == kind && (entry == 0 || it->spd_entry == entry)) {
            DatapathEvent found = *it;
            events_.erase(it);
            return found;
          }
        }
      }
      if (absl::Now() >= deadline) return std::nullopt;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  size_t size() {
    absl::MutexLock l(&mu_);
    return events_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<DatapathEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::datapath::testing

#endif  // IKELESS_DATAPATH_TESTING_EVENT_RECORDER_H_
