#ifndef IKELESS_CONTROLLER_AGENT_SERVICE_H_
#define IKELESS_CONTROLLER_AGENT_SERVICE_H_

// AgentService.Session: one long-lived bidirectional stream per node (gRPC
// callback API, so 10k idle streams cost no threads). Hello registers the
// node and its addresses; SaRequests go to the request processor after an
// authorisation check; pushes leave one write at a time from a bounded
// queue.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "controller/association_reconciler.h"
#include "controller/dispatcher.h"
#include "controller/event_hub.h"
#include "common/log_limiter.h"
#include "controller/intent_service.h"
#include "controller/request_budget.h"
#include "controller/request_processor.h"
#include "controller/revocation_list.h"
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
    // SaRequests per stream (request_budget.h); beyond: RESOURCE_EXHAUSTED.
    RequestBudget::Options request_budget;
  };

  AgentServiceImpl(Options options, RequestProcessor* processor, SessionRegistry* registry,
                   Dispatcher* dispatcher, EventHub* events, storage::AgentStore* agents,
                   Clock* clock, const RevocationList* revocations = nullptr);

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Session(
      grpc::CallbackServerContext* context) override;

  // Pushes SPDs to the nodes that connect (snapshot after Welcome) and
  // takes their acknowledgements. Null: no SPD push (tests of the
  // request path alone).
  void set_intent(IntentService* intent) { intent_ = intent; }

  // Reconciles each Hello's report with the association table and pushes
  // the startups waiting for the node (association_reconciler.h). Null:
  // neither (tests of the request path alone).
  void set_reconciler(AssociationReconciler* reconciler) { reconciler_ = reconciler; }

  // Ends the streams older than Options::hello_timeout that have not said
  // Hello; returns how many. The controller calls it every second.
  int CloseStreamsWithoutHello();

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
  AssociationReconciler* reconciler_ = nullptr;
  // Request budgets by node name: a node that reconnects (or opens a second
  // stream) keeps its budget.
  absl::Mutex budgets_mu_;
  std::map<std::string, RequestBudget> budgets_ ABSL_GUARDED_BY(budgets_mu_);
  // True if `node` may send one more request now.
  bool TakeRequestBudget(const std::string& node);
  // One line a second per node for refusals a flood repeats.
  LogLimiter refusal_log_{1, std::chrono::seconds(1)};
  // Streams waiting for their Hello, with their deadline (monotonic).
  absl::Mutex pending_mu_;
  std::map<const SessionReactor*,
           std::pair<std::weak_ptr<SessionReactor>, std::chrono::steady_clock::time_point>>
      pending_ ABSL_GUARDED_BY(pending_mu_);
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_AGENT_SERVICE_H_
