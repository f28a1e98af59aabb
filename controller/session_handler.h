#ifndef IKELESS_CONTROLLER_SESSION_HANDLER_H_
#define IKELESS_CONTROLLER_SESSION_HANDLER_H_

// What the controller decides about one agent stream, without the
// transport: Hello admission (validation, the certificate's say, the
// registry), the agent record and events, the Welcome and what follows it,
// routing of SaEvents, SpdAcks and DatapathReports, and the admission of
// SaRequests (budget, source, ownership) into a RequestSink. The gRPC
// reactor (agent_service.cc) only moves bytes: it parses each AgentMessage,
// hands it here, and writes what the handler sends through the stream's
// AgentSession; tests drive it with a fake session (session_handler_test).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/log_limiter.h"
#include "controller/agent_session.h"
#include "controller/association_reconciler.h"
#include "controller/authorization.h"
#include "controller/dispatcher.h"
#include "controller/event_hub.h"
#include "controller/intent_service.h"
#include "controller/request_budget.h"
#include "controller/request_sink.h"
#include "controller/revocation_list.h"
#include "controller/session_registry.h"
#include "proto/agent.pb.h"
#include "storage/agent_store.h"

namespace ikeless::controller {

// One agent stream's session logic; one instance per stream, used from the
// stream's read path only (Open, Handle, OnClosed are never concurrent).
// The identity it learns from the Hello is read by other threads only
// after the registry has published the stream.
class AgentSessionHandler {
 public:
  struct Options {
    std::string controller_version = "ikeless-controller/0.1";
    // A stream that has not said Hello by then is ended.
    absl::Duration hello_timeout = absl::Seconds(10);
    // SaRequests per node (request_budget.h); beyond: RESOURCE_EXHAUSTED.
    RequestBudget::Options request_budget;
  };

  // What the handlers of one service use; none owned. intent and
  // reconciler may be null (tests of the request path alone).
  struct Deps {
    SessionRegistry* registry = nullptr;
    Dispatcher* dispatcher = nullptr;
    EventHub* events = nullptr;
    storage::AgentStore* agents = nullptr;
    RequestSink* requests = nullptr;
    Clock* clock = nullptr;
    const RevocationList* revocations = nullptr;  // may be null
    IntentService* intent = nullptr;
    AssociationReconciler* reconciler = nullptr;
  };

  // State shared by every stream of one service: request budgets by node
  // (a node that reconnects keeps its budget), the refusal log limiter, and
  // the streams still waiting for their Hello. Thread-safe.
  class Shared {
   public:
    Shared(Options options, Deps deps) : options_(std::move(options)), deps_(deps) {}

    // Set before the first stream opens.
    void set_intent(IntentService* intent) { deps_.intent = intent; }
    void set_reconciler(AssociationReconciler* reconciler) { deps_.reconciler = reconciler; }

    // Ends the streams older than Options::hello_timeout (on the clock's
    // Monotonic()) that have not said Hello; returns how many.
    int CloseStreamsWithoutHello();

    const Options& options() const { return options_; }

   private:
    friend class AgentSessionHandler;
    struct Pending {
      std::weak_ptr<AgentSession> session;
      absl::Time deadline;  // a Monotonic() reading
    };
    // True if `node` may send one more request now.
    bool TakeRequestBudget(const std::string& node);
    void AddPending(const AgentSessionHandler* handler, std::weak_ptr<AgentSession> session);
    void RemovePending(const AgentSessionHandler* handler);

    const Options options_;
    Deps deps_;
    absl::Mutex budgets_mu_;
    std::map<std::string, RequestBudget> budgets_ ABSL_GUARDED_BY(budgets_mu_);
    // One line a second per node for refusals a flood repeats.
    LogLimiter refusal_log_{1, std::chrono::seconds(1)};
    absl::Mutex pending_mu_;
    std::map<const AgentSessionHandler*, Pending> pending_ ABSL_GUARDED_BY(pending_mu_);
  };

  // `peer`: for log lines. `caller`: who the TLS client certificate says
  // this is, or why it could not be read.
  AgentSessionHandler(Shared* shared, std::string peer, absl::StatusOr<Caller> caller);
  AgentSessionHandler(const AgentSessionHandler&) = delete;
  AgentSessionHandler& operator=(const AgentSessionHandler&) = delete;

  // Attaches the stream (held weakly: the stream owns its handler). Refuses
  // a caller without a certificate that stands (the stream is closed) and
  // returns false; else the stream waits for its Hello and true.
  bool Open(std::shared_ptr<AgentSession> session);

  // One message from the agent. Returns false when the stream is being
  // closed (read no more).
  bool Handle(const v1::AgentMessage& message);

  // The stream is gone: no longer pending, and if it was the node's
  // registered stream, unregistered with its record, event and log line.
  void OnClosed();

  // From the Hello; empty before it.
  const std::string& node_name() const { return node_name_; }
  const std::vector<std::string>& addresses() const { return addresses_; }
  bool drops_early_esp() const { return drops_early_esp_; }
  // Anonymous if the certificate could not be read.
  const Caller& caller() const;
  bool hello_done() const { return hello_done_; }

 private:
  // Closes the stream with `status`; returns false (for Handle).
  bool CloseWith(const absl::Status& status);
  bool HandleHello(const v1::Hello& hello);
  void Reconcile(const v1::Hello& hello, absl::Time registered);
  void HandleRequest(const v1::SaRequest& request);

  Shared* const shared_;
  const std::string peer_;
  const absl::StatusOr<Caller> caller_;
  std::weak_ptr<AgentSession> session_;
  const AgentSession* session_raw_ = nullptr;  // for Unregister after the last shared_ptr
  // Set once by the Hello, on the read path, before Register publishes the
  // stream.
  bool hello_done_ = false;
  std::string node_name_;
  std::vector<std::string> addresses_;
  bool drops_early_esp_ = false;
  storage::AgentRecord record_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_SESSION_HANDLER_H_
