#ifndef IKELESS_CONTROLLER_REQUEST_BUDGET_H_
#define IKELESS_CONTROLLER_REQUEST_BUDGET_H_

// How many SaRequests one agent stream may send (issue #11, point 2): a
// token bucket refilled at `per_second` up to `burst`. Requests beyond it
// are answered RESOURCE_EXHAUSTED without reaching the table. A gateway
// with 1,000 peers rekeying at once sends ~1,000 requests over its soft
// lifetime's jitter, far below the default; a loop naming fresh peers is
// what it stops.
//
// Times are Clock::Monotonic() readings: the refill measures an interval,
// which an NTP step of the wall clock must not lengthen (a full bucket at
// once) or shorten (issue #12 point 4).

#include "absl/time/time.h"

namespace ikeless::controller {

class RequestBudget {
 public:
  struct Options {
    double per_second = 200;  // 0 = unlimited
    double burst = 400;
  };

  // `now`: the caller's Clock::Monotonic().
  RequestBudget(Options options, absl::Time now)
      : options_(options), tokens_(options.burst), last_(now) {}

  // True (and one token spent) if a request may go on now (Monotonic()).
  bool Take(absl::Time now);

 private:
  const Options options_;
  double tokens_;
  absl::Time last_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REQUEST_BUDGET_H_
