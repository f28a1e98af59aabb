#ifndef IKELESS_CONTROLLER_DISPATCHER_H_
#define IKELESS_CONTROLLER_DISPATCHER_H_

// Carries out what the request processor decided: each message to the
// stream of the node owning its address, each event to the watchers.

#include "controller/event_hub.h"
#include "controller/request_processor.h"
#include "controller/session_registry.h"

namespace ikeless::controller {

class Dispatcher {
 public:
  Dispatcher(SessionRegistry* registry, EventHub* events) : registry_(registry), events_(events) {}

  // A message for an address no connected node owns is dropped: a startup
  // is repeated by the timer (S23), a Distribution is fetched again by the
  // agent's own retransmission (S43 -> S5). Returns how many were sent.
  int Deliver(const ProcessorOutput& out);

 private:
  SessionRegistry* registry_;
  EventHub* events_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_DISPATCHER_H_
