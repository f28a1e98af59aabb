#include "controller/agent_service.h"

#include <deque>
#include <memory>

#include "common/log.h"
#include "controller/caller.h"
#include "controller/grpc_status.h"
#include "controller/wiped_message.h"

namespace ikeless::controller {

// One agent's stream: bytes in, bytes out. Owned by itself (self_) until
// gRPC calls OnDone; the registry and in-flight deliveries may hold it a
// little longer, and then see a closed session. Every decision is its
// handler's (session_handler.h); the identity AgentSession reports is the
// one the handler learnt from the Hello.
class SessionReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                             public AgentSession {
 public:
  SessionReactor(AgentServiceImpl* service, grpc::CallbackServerContext* context)
      : service_(service),
        handler_(&service->sessions_, context->peer(),
                 CallerOf(context->auth_context().get(),
                          service->options_.require_client_certificates)) {}

  void Begin(std::shared_ptr<SessionReactor> self) {
    self_ = std::move(self);
    if (handler_.Open(self_)) StartRead(&in_buffer_);
  }

  // AgentSession
  bool Send(const v1::ControllerMessage& message) override {
    const grpc::ByteBuffer* to_write = nullptr;
    grpc::ByteBuffer bytes = SerializeWiped(message);  // outside the lock
    {
      absl::MutexLock l(&mu_);
      if (finish_requested_) return false;
      if (queue_.size() >= service_->options_.max_queued_messages) {
        LogWarning("agent_queue_full")
            .Kv("node", handler_.node_name())
            .Kv("queued", uint64_t{queue_.size()});
        finish_requested_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      "agent does not read its stream fast enough");
        // Finish once the write in flight is done (OnWriteDone).
        return false;
      }
      queue_.push_back(std::move(bytes));
      if (writing_) return true;
      writing_ = true;
      to_write = &queue_.front();
    }
    StartWrite(to_write);
    return true;
  }

  void Close(const absl::Status& status) override { CloseWith(ToGrpc(status)); }
  const std::string& node_name() const override { return handler_.node_name(); }
  const std::vector<std::string>& addresses() const override { return handler_.addresses(); }
  bool drops_early_esp() const override { return handler_.drops_early_esp(); }
  const Caller& caller() const override { return handler_.caller(); }

  // grpc reactions
  void OnReadDone(bool ok) override {
    if (!ok) {
      CloseWith(grpc::Status::OK);  // the agent half-closed or went away
      return;
    }
    v1::AgentMessage in;
    const bool parsed = ParseReceived(in_buffer_, &in);
    in_buffer_.Clear();
    if (!parsed) {
      CloseWith(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed AgentMessage"));
      return;
    }
    if (handler_.Handle(in)) StartRead(&in_buffer_);
  }

  void OnWriteDone(bool ok) override {
    const grpc::ByteBuffer* next = nullptr;
    bool finish = false;
    grpc::Status status;
    {
      absl::MutexLock l(&mu_);
      queue_.pop_front();  // its memory is wiped when gRPC lets go of it
      if (!ok) {
        // The stream is broken; nothing more will be written.
        finish_requested_ = true;
        queue_.clear();
      }
      if (!queue_.empty()) {
        next = &queue_.front();
      } else {
        writing_ = false;
        finish = finish_requested_ && !finished_;
        if (finish) finished_ = true;
        status = finish_status_;
      }
    }
    if (next != nullptr) StartWrite(next);
    if (finish) Finish(status);
  }

  void OnDone() override {
    handler_.OnClosed();
    self_.reset();  // may delete this
  }

 private:
  // Finish() is called exactly once: here if no write is in flight, else by
  // OnWriteDone when the queue has drained.
  void CloseWith(const grpc::Status& status) {
    {
      absl::MutexLock l(&mu_);
      if (finish_requested_) return;
      finish_requested_ = true;
      finish_status_ = status;
      if (writing_) return;
      finished_ = true;
    }
    Finish(status);
  }

  AgentServiceImpl* const service_;
  AgentSessionHandler handler_;
  std::shared_ptr<SessionReactor> self_;
  grpc::ByteBuffer in_buffer_;  // reads are sequential: only OnReadDone touches it

  absl::Mutex mu_;
  // Serialized, wiped on release; the front is being written.
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

AgentSessionHandler::Options AgentServiceImpl::HandlerOptions(const Options& options) {
  AgentSessionHandler::Options o;
  o.controller_version = options.controller_version;
  o.hello_timeout = options.hello_timeout;
  o.request_budget = options.request_budget;
  return o;
}

AgentServiceImpl::AgentServiceImpl(Options options, RequestSink* requests,
                                   SessionRegistry* registry, Dispatcher* dispatcher,
                                   EventHub* events, storage::AgentStore* agents, Clock* clock,
                                   const RevocationList* revocations)
    : options_(std::move(options)),
      sessions_(HandlerOptions(options_), [&] {
        AgentSessionHandler::Deps d;
        d.registry = registry;
        d.dispatcher = dispatcher;
        d.events = events;
        d.agents = agents;
        d.requests = requests;
        d.clock = clock;
        d.revocations = revocations;
        return d;
      }()) {}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AgentServiceImpl::Session(
    grpc::CallbackServerContext* context) {
  auto reactor = std::make_shared<SessionReactor>(this, context);
  reactor->Begin(reactor);
  return reactor.get();
}

}  // namespace ikeless::controller
