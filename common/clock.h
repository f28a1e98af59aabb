#ifndef IKELESS_COMMON_CLOCK_H_
#define IKELESS_COMMON_CLOCK_H_

// Time source injected into every piece of logic that decides, so that
// retransmission and lifetimes are tested without sleeping.
//
// Two readings: Now() is wall time, for what is compared with other
// machines or stored (timestamps, rows that outlive the process);
// Monotonic() only moves forward at one second per second and is what
// every in-process deadline runs on (retransmissions, rekeys, SA
// lifetimes, grace periods), so that an NTP step moves none of them.

#include <time.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ikeless {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time.
  virtual absl::Time Now() = 0;
  // Monotonic time as an absl::Time from an arbitrary origin (the boot for
  // SystemClock): compare and subtract only readings of the same clock.
  virtual absl::Time Monotonic() = 0;
};

// CLOCK_MONOTONIC as an absl::Time from the boot. For code without an
// injected clock that runs when descriptors may be exhausted (the accept4
// wrapper in controller/accept_guard.cc): UBSan checks a virtual call's
// object by writing it to a pipe, which fails at EMFILE and was reported
// as a bad call (tools/sanitize, connection_flood_test).
absl::Time MonotonicNow();

// The wall clock and CLOCK_MONOTONIC.
class SystemClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  absl::Time Monotonic() override { return MonotonicNow(); }
  static SystemClock* Get();
};

// A clock that moves only when told to; for tests. Both readings start at
// `start`; Advance() moves both, StepWall() only the wall time (what an NTP
// step does).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : now_(start), monotonic_(start) {}
  absl::Time Now() override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  absl::Time Monotonic() override {
    absl::MutexLock l(&mu_);
    return monotonic_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
    monotonic_ += d;
  }
  void StepWall(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Time monotonic_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless

#endif  // IKELESS_COMMON_CLOCK_H_
