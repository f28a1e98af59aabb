#ifndef IKELESS_AGENT_CONTROLLER_LINK_H_
#define IKELESS_AGENT_CONTROLLER_LINK_H_

// The agent's way to the controller: the Session stream, as the agent core
// sees it. The gRPC stream client (agent/stream_client.h) implements it;
// tests use a fake that records what was sent.

#include "proto/agent.pb.h"

namespace ikeless::agent {

class ControllerLink {
 public:
  virtual ~ControllerLink() = default;
  // Queues `message` on the current stream. Returns false while
  // disconnected (the message is lost; the setup client's retransmission
  // and the resend on reconnect make up for it). Never blocks on the
  // network and never calls back into the agent core.
  virtual bool Send(const v1::AgentMessage& message) = 0;
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_CONTROLLER_LINK_H_
