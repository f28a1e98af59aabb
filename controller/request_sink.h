#ifndef IKELESS_CONTROLLER_REQUEST_SINK_H_
#define IKELESS_CONTROLLER_REQUEST_SINK_H_

// Where a session hands an SaRequest it has admitted (the requester said
// Hello and owns request.source): the request shards (request_shards.h),
// or in tests a fake that records them. Submit never blocks on storage or
// the network; replies reach the requester through the dispatcher, or
// through `from` when storage fails.

#include <memory>

#include "controller/agent_session.h"
#include "proto/agent.pb.h"

namespace ikeless::controller {

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  virtual void Submit(v1::SaRequest request, std::shared_ptr<AgentSession> from) = 0;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REQUEST_SINK_H_
