#include "common/clock.h"

namespace ikeless {

absl::Time MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::UnixEpoch() + absl::DurationFromTimespec(ts);
}

SystemClock* SystemClock::Get() {
  static SystemClock* clock = new SystemClock;
  return clock;
}

}  // namespace ikeless
