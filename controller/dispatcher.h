#ifndef IKELESS_CONTROLLER_DISPATCHER_H_
#define IKELESS_CONTROLLER_DISPATCHER_H_

// Carries out what the request processor decided: each message to the
// stream of the node owning its address, each event to the watchers.
//
// One ordering rule (S11): a Distribution marked `after_installed_at` (the
// opener's, whose first packets are held) waits until the peer reports
// INSTALLED for that association — but only when the peer's datapath drops
// ESP that arrives before its inbound SA (kernel XFRM). The engine keeps
// such packets, so engine peers get both Distributions at once, as before.
// If the peer never reports, the held one goes after `install_wait`, an
// interval of this process and so on the clock's Monotonic() reading: an
// NTP step neither sends it early nor holds it for hours.

#include <cstdint>
#include <map>
#include <string>

#include "common/log_limiter.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "controller/event_hub.h"
#include "controller/request_processor.h"
#include "controller/session_registry.h"

namespace ikeless::controller {

class Dispatcher {
 public:
  struct Options {
    absl::Duration install_wait = absl::Seconds(1);
  };

  Dispatcher(SessionRegistry* registry, EventHub* events, Clock* clock, Options options);
  Dispatcher(SessionRegistry* registry, EventHub* events)
      : Dispatcher(registry, events, SystemClock::Get(), Options()) {}

  // A message for an address no connected node owns is dropped: a startup
  // is repeated by the timer (S23), a Distribution is fetched again by the
  // agent's own retransmission (S43 -> S5). Returns how many were sent.
  int Deliver(const ProcessorOutput& out);

  // An SaEvent INSTALLED for `association_id` from the node owning
  // `addresses`: sends a Distribution that waited for it.
  void OnInstalled(const std::vector<std::string>& addresses, uint64_t association_id);

  // Sends the waiting Distributions whose install_wait has passed, and logs
  // how many event lines the limiters held back in bursts now over.
  void ReleaseOverdue();
  size_t waiting() const;

 private:
  struct Waiting {
    Outgoing outgoing;  // wipes its keys when dropped
    absl::Time deadline;  // a Monotonic() reading
  };
  bool Send(const Outgoing& o);
  // A Distribution for the same association and node is waiting.
  bool IsWaiting(const Outgoing& o) const;

  SessionRegistry* const registry_;
  EventHub* const events_;
  Clock* const clock_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::map<uint64_t, Waiting> waiting_ ABSL_GUARDED_BY(mu_);  // by association id
  // Event log lines: 5 a second per kind and node; row events (a new id
  // per request in a flood) 50 a second per kind, enough for a policy
  // change that rekeys many rows at once.
  LogLimiter node_log_limiter_{5, std::chrono::seconds(1)};
  LogLimiter row_log_limiter_{50, std::chrono::seconds(1)};
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_DISPATCHER_H_
