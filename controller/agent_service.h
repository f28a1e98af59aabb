#ifndef IKELESS_CONTROLLER_AGENT_SERVICE_H_
#define IKELESS_CONTROLLER_AGENT_SERVICE_H_

// AgentService.Session: one long-lived bidirectional stream per node (gRPC
// callback API, so 10k idle streams cost no threads). The reactor only
// moves bytes: it parses each AgentMessage and hands it to the stream's
// AgentSessionHandler (session_handler.h), which decides (Hello admission,
// ownership, records, events) and hands admitted SaRequests to a
// RequestSink; pushes leave one write at a time from a bounded queue.

#include <cstddef>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "controller/association_reconciler.h"
#include "controller/dispatcher.h"
#include "controller/event_hub.h"
#include "controller/intent_service.h"
#include "controller/request_budget.h"
#include "controller/request_sink.h"
#include "controller/revocation_list.h"
#include "controller/session_handler.h"
#include "controller/session_registry.h"
#include "proto/agent.grpc.pb.h"
#include "storage/agent_store.h"

namespace ikeless::controller {

class SessionReactor;

// The Session method is a raw callback: messages arrive and leave as
// buffers so those carrying keys are wiped after sending (wiped_message.h).
class AgentServiceImpl final
    : public v1::AgentService::WithRawCallbackMethod_Session<v1::AgentService::Service> {
 public:
  struct Options {
    size_t max_queued_messages = 1024;  // per stream; beyond it the stream is closed
    std::string controller_version = "ikeless-controller/0.1";
    // TLS with client certificates: a Hello must match the certificate's
    // node name and addresses (controller/authorization.h).
    bool require_client_certificates = false;
    // A stream that has not said Hello by then is ended: a flood of
    // Hello-less streams would otherwise hold their connections forever.
    absl::Duration hello_timeout = absl::Seconds(10);
    // SaRequests per node (request_budget.h); beyond: RESOURCE_EXHAUSTED.
    RequestBudget::Options request_budget;
  };

  // Admitted SaRequests go to `requests` (request_sink.h).
  AgentServiceImpl(Options options, RequestSink* requests, SessionRegistry* registry,
                   Dispatcher* dispatcher, EventHub* events, storage::AgentStore* agents,
                   Clock* clock, const RevocationList* revocations = nullptr);

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Session(
      grpc::CallbackServerContext* context) override;

  // Pushes SPDs to the nodes that connect (snapshot after Welcome) and
  // takes their acknowledgements. Null: no SPD push (tests of the
  // request path alone).
  void set_intent(IntentService* intent) { sessions_.set_intent(intent); }

  // Reconciles each Hello's report with the association table and pushes
  // the startups waiting for the node (association_reconciler.h). Null:
  // neither (tests of the request path alone).
  void set_reconciler(AssociationReconciler* reconciler) {
    sessions_.set_reconciler(reconciler);
  }

  // Ends the streams older than Options::hello_timeout that have not said
  // Hello; returns how many. The controller calls it every second.
  int CloseStreamsWithoutHello() { return sessions_.CloseStreamsWithoutHello(); }

 private:
  friend class SessionReactor;
  static AgentSessionHandler::Options HandlerOptions(const Options& options);

  const Options options_;
  // What every stream's handler shares: budgets, pending Hellos, deps.
  AgentSessionHandler::Shared sessions_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_AGENT_SERVICE_H_
