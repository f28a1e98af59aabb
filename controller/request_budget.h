#ifndef IKELESS_CONTROLLER_REQUEST_BUDGET_H_
#define IKELESS_CONTROLLER_REQUEST_BUDGET_H_

// How many SaRequests one agent stream may send (issue #11, point 2): a
// token bucket refilled at `per_second` up to `burst`, on a monotonic clock
// the caller gives. Requests beyond it are answered RESOURCE_EXHAUSTED
// without reaching the table. A gateway with 1,000 peers rekeying at once
// sends ~1,000 requests over its soft lifetime's jitter, far below the
// default; a loop naming fresh peers is what it stops.

#include <chrono>

namespace ikeless::controller {

class RequestBudget {
 public:
  struct Options {
    double per_second = 200;  // 0 = unlimited
    double burst = 400;
  };
  using Time = std::chrono::steady_clock::time_point;

  RequestBudget(Options options, Time now) : options_(options), tokens_(options.burst), last_(now) {}

  // True (and one token spent) if a request may go on now.
  bool Take(Time now);

 private:
  const Options options_;
  double tokens_;
  Time last_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REQUEST_BUDGET_H_
