#ifndef IKELESS_CONTROLLER_AGENT_SERVICE_H_
#define IKELESS_CONTROLLER_AGENT_SERVICE_H_

// AgentService.Session: one long-lived bidirectional stream per node (gRPC
// callback API, so 10k idle streams cost no threads). Hello registers the
// node and its addresses; SaRequests go to the request processor after an
// authorisation check; pushes leave one write at a time from a bounded
// queue.

#include <cstddef>

#include "common/clock.h"
#include "controller/dispatcher.h"
#include "controller/event_hub.h"
#include "controller/intent_service.h"
#include "controller/request_processor.h"
#include "controller/revocation_list.h"
#include "controller/session_registry.h"
#include "proto/agent.grpc.pb.h"
#include "storage/agent_store.h"

namespace ikeless::controller {

class AgentServiceImpl final : public v1::AgentService::CallbackService {
 public:
  struct Options {
    size_t max_queued_messages = 1024;  // per stream; beyond it the stream is closed
    std::string controller_version = "ikeless-controller/0.1";
    // TLS with client certificates: a Hello must match the certificate's
    // node name and addresses (controller/authorization.h).
    bool require_client_certificates = false;
  };

  AgentServiceImpl(Options options, RequestProcessor* processor, SessionRegistry* registry,
                   Dispatcher* dispatcher, EventHub* events, storage::AgentStore* agents,
                   Clock* clock, const RevocationList* revocations = nullptr);

  grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>* Session(
      grpc::CallbackServerContext* context) override;

  // Pushes SPDs to the nodes that connect (snapshot after Welcome) and
  // takes their acknowledgements. Null: no SPD push (tests of the
  // request path alone).
  void set_intent(IntentService* intent) { intent_ = intent; }

 private:
  friend class SessionReactor;
  Options options_;
  RequestProcessor* processor_;
  SessionRegistry* registry_;
  Dispatcher* dispatcher_;
  EventHub* events_;
  storage::AgentStore* agents_;
  Clock* clock_;
  const RevocationList* revocations_;
  IntentService* intent_ = nullptr;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_AGENT_SERVICE_H_
