#ifndef IKELESS_AGENT_SPD_LISTENER_H_
#define IKELESS_AGENT_SPD_LISTENER_H_

// What else must follow the node's SPD when the controller pushes a new
// revision: the agent core tells a listener once the datapath has it. The
// route keeper of the ESP engine (agent/route_sync.h) is one: it routes the
// pushed rules' traffic into the engine's TUN.

#include "agent/spd_layout.h"

namespace ikeless::agent {

class SpdListener {
 public:
  virtual ~SpdListener() = default;
  // Called with the full SPD just applied to the datapath, from the thread
  // that applied it, with no lock of the core's state held. Must not call
  // back into the core.
  virtual void OnSpdApplied(const LaidOutSpd& spd) = 0;
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_SPD_LISTENER_H_
