#ifndef IKELESS_CONTROLLER_AGENT_SESSION_H_
#define IKELESS_CONTROLLER_AGENT_SESSION_H_

// One connected agent's stream, as the rest of the controller sees it: a
// place to push messages to. The gRPC reactor (agent_service.cc) implements
// it; tests use a fake that records what was sent.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controller/authorization.h"
#include "proto/agent.pb.h"

namespace ikeless::controller {

class AgentSession {
 public:
  virtual ~AgentSession() = default;

  // Queues `message` for the agent. Returns false if the stream is closed or
  // its queue is full (the stream is then closed: the agent reconnects and
  // resends what is outstanding). Never blocks on the network.
  virtual bool Send(const v1::ControllerMessage& message) = 0;

  // Ends the stream with `status` once queued messages are written.
  virtual void Close(const absl::Status& status) = 0;

  virtual const std::string& node_name() const = 0;
  // Canonical addresses from the node's Hello.
  virtual const std::vector<std::string>& addresses() const = 0;
  // Who the TLS client certificate says this is (anonymous on a plain-text
  // controller); re-checked every second for expiry and revocation.
  virtual const Caller& caller() const = 0;
  // From the Hello's capabilities: the node's datapath drops ESP that
  // arrives before its inbound SA (kernel XFRM).
  virtual bool drops_early_esp() const { return false; }
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_AGENT_SESSION_H_
