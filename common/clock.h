#ifndef IKELESS_COMMON_CLOCK_H_
#define IKELESS_COMMON_CLOCK_H_

// Time source injected into every piece of logic that decides, so that
// retransmission and lifetimes are tested without sleeping.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ikeless {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  static SystemClock* Get();
};

// A clock that moves only when told to; for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000))
      : now_(start) {}
  absl::Time Now() override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless

#endif  // IKELESS_COMMON_CLOCK_H_
