#include "controller/agent_service.h"

#include <algorithm>
#include <deque>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/address.h"
#include "common/log.h"
#include "controller/caller.h"
#include "controller/grpc_status.h"
#include "controller/pki/names.h"
#include "controller/wiped_message.h"
#include "common/secret.h"

namespace ikeless::controller {
namespace {

constexpr size_t kMaxAddresses = 64;

// Canonical, de-duplicated addresses of a Hello, or INVALID_ARGUMENT.
absl::StatusOr<std::vector<std::string>> HelloAddresses(const v1::Hello& hello) {
  if (hello.addresses().empty()) {
    return absl::InvalidArgumentError("hello.addresses: name at least one address");
  }
  if (static_cast<size_t>(hello.addresses_size()) > kMaxAddresses) {
    return absl::InvalidArgumentError("hello.addresses: at most 64 addresses");
  }
  std::vector<std::string> out;
  for (int i = 0; i < hello.addresses_size(); ++i) {
    auto a = CanonicalAddress(hello.addresses(i), absl::StrCat("hello.addresses[", i, "]"));
    if (!a.ok()) return a.status();
    if (std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  return out;
}

}  // namespace

// One agent's stream. Owned by itself (self_) until gRPC calls OnDone; the
// registry and in-flight deliveries may hold it a little longer, and then
// see a closed session.
class SessionReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                             public AgentSession {
 public:
  SessionReactor(AgentServiceImpl* service, grpc::CallbackServerContext* context)
      : service_(service),
        peer_(context->peer()),
        caller_(CallerOf(context->auth_context().get(),
                         service->options_.require_client_certificates)) {}

  void Begin(std::shared_ptr<SessionReactor> self) {
    self_ = std::move(self);
    if (!caller_.ok()) {
      LogWarning("session_refused").Kv("peer", peer_).Kv("reason", caller_.status().message());
      CloseWith(ToGrpc(caller_.status()));
      return;
    }
    if (absl::Status s = CheckStanding(*caller_, service_->revocations_, absl::Now()); !s.ok()) {
      LogWarning("session_refused").Kv("peer", peer_).Kv("reason", s.message());
      CloseWith(ToGrpc(s));
      return;
    }
    {
      absl::MutexLock l(&service_->pending_mu_);
      service_->pending_[this] = {
          self_, std::chrono::steady_clock::now() +
                     absl::ToChronoNanoseconds(service_->options_.hello_timeout)};
    }
    StartRead(&in_buffer_);
  }

  // AgentSession
  bool Send(const v1::ControllerMessage& message) override {
    const grpc::ByteBuffer* to_write = nullptr;
    grpc::ByteBuffer bytes = SerializeWiped(message);  // outside the lock
    {
      absl::MutexLock l(&mu_);
      if (finish_requested_) return false;
      if (queue_.size() >= service_->options_.max_queued_messages) {
        LogWarning("agent_queue_full").Kv("node", node_name_).Kv("queued", uint64_t{queue_.size()});
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
  const std::string& node_name() const override { return node_name_; }
  const std::vector<std::string>& addresses() const override { return addresses_; }
  bool drops_early_esp() const override { return drops_early_esp_; }
  const Caller& caller() const override {
    static const Caller* none = new Caller;
    return caller_.ok() ? *caller_ : *none;
  }

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
    if (Handle(in)) StartRead(&in_buffer_);
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
    NoLongerPending();
    if (hello_done_ && service_->registry_->Unregister(this)) {
      LogInfo("agent_disconnected").Kv("node", node_name_).Kv("peer", peer_);
      if (service_->intent_ != nullptr) service_->intent_->OnDisconnected(node_name_);
      v1::Event e;
      e.set_kind(v1::Event::AGENT_DISCONNECTED);
      e.set_time_unix_micros(absl::ToUnixMicros(service_->clock_->Now()));
      e.set_subject(node_name_);
      service_->events_->Publish(e);
      storage::AgentRecord record = record_;
      record.last_seen = service_->clock_->Now();
      (void)service_->agents_->UpsertAgent(record);
    }
    self_.reset();  // may delete this
  }

 private:
  void NoLongerPending() {
    absl::MutexLock l(&service_->pending_mu_);
    service_->pending_.erase(this);
  }

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

  // Returns false when the stream is being closed.
  bool Handle(const v1::AgentMessage& m) {
    switch (m.body_case()) {
      case v1::AgentMessage::kHello:
        return HandleHello(m.hello());
      case v1::AgentMessage::kRequest:
        if (!hello_done_) {
          CloseWith(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 "send Hello before any SaRequest"));
          return false;
        }
        HandleRequest(m.request());
        return true;
      case v1::AgentMessage::kSaEvent:
        if (!hello_done_) {
          CloseWith(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 "send Hello before any SaEvent"));
          return false;
        }
        LogDebug("sa_event")
            .Kv("node", node_name_)
            .Kv("kind", v1::SaEvent::Kind_Name(m.sa_event().kind()))
            .Kv("spi", m.sa_event().spi())
            .Kv("association", m.sa_event().association_id());
        if (m.sa_event().kind() == v1::SaEvent::INSTALLED) {
          service_->dispatcher_->OnInstalled(addresses_, m.sa_event().association_id());
        }
        return true;
      case v1::AgentMessage::kSpdAck:
        if (!hello_done_) {
          CloseWith(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 "send Hello before any SpdAck"));
          return false;
        }
        if (service_->intent_ != nullptr) service_->intent_->OnAck(node_name_, m.spd_ack());
        return true;
      case v1::AgentMessage::kReport:
        if (!hello_done_) {
          CloseWith(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 "send Hello before any DatapathReport"));
          return false;
        }
        if (service_->intent_ != nullptr) service_->intent_->OnReport(node_name_, m.report());
        return true;
      default:
        return true;  // an empty or newer message: ignore
    }
  }

  bool HandleHello(const v1::Hello& hello) {
    if (hello_done_) {
      CloseWith(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                             "Hello may be sent only once per stream"));
      return false;
    }
    absl::Status s = pki::ValidateIdentityName(hello.node_name(), "hello.node_name");
    auto addresses = HelloAddresses(hello);
    if (s.ok() && !addresses.ok()) s = addresses.status();
    // The certificate, not the message, says who this is; and it must still
    // stand (revoked or expired since the stream opened: checked again here,
    // and every second by the controller for registered sessions).
    if (s.ok()) s = ValidateHelloReport(hello);
    if (s.ok()) s = AuthorizeHello(*caller_, hello.node_name(), *addresses);
    if (s.ok()) s = CheckStanding(*caller_, service_->revocations_, absl::Now());
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kPermissionDenied) {
        LogWarning("hello_refused").Kv("peer", peer_).Kv("reason", s.message());
      }
      CloseWith(ToGrpc(s));
      return false;
    }
    // Immutable from here on; other threads see them through the registry.
    node_name_ = hello.node_name();
    addresses_ = *addresses;
    drops_early_esp_ = hello.capabilities().drops_early_esp();
    // Rows opened from here on send their startup to this stream (S23).
    const absl::Time registered = service_->clock_->Now();
    auto replaced = service_->registry_->Register(self_);
    if (!replaced.ok()) {
      LogWarning("hello_refused").Kv("node", node_name_).Kv("reason", replaced.status().message());
      CloseWith(ToGrpc(replaced.status()));
      return false;
    }
    hello_done_ = true;
    NoLongerPending();
    if (*replaced != nullptr) {
      (*replaced)->Close(absl::AbortedError("replaced by a newer stream of the same node"));
    }
    record_.node_name = node_name_;
    record_.addresses = addresses_;
    record_.agent_version = hello.agent_version();
    record_.datapath = hello.capabilities().datapath();
    record_.last_seen = service_->clock_->Now();
    if (absl::Status u = service_->agents_->UpsertAgent(record_); !u.ok()) {
      LogWarning("agent_record_failed").Kv("node", node_name_).Kv("error", u.message());
    }
    LogInfo("agent_connected")
        .Kv("node", node_name_)
        .Kv("addresses", absl::StrJoin(addresses_, ","))
        .Kv("peer", peer_)
        .Kv("replaced", *replaced != nullptr);
    v1::Event e;
    e.set_kind(v1::Event::AGENT_CONNECTED);
    e.set_time_unix_micros(absl::ToUnixMicros(service_->clock_->Now()));
    e.set_subject(node_name_);
    e.set_detail(absl::StrJoin(addresses_, ","));
    service_->events_->Publish(e);

    v1::ControllerMessage welcome;
    welcome.mutable_welcome()->set_controller_version(service_->options_.controller_version);
    welcome.mutable_welcome()->set_node_name(node_name_);
    for (const auto& a : addresses_) welcome.mutable_welcome()->add_addresses(a);
    Send(welcome);
    // Then the node's SPD, as a snapshot (DESIGN.md: "a snapshot after
    // Welcome, then deltas").
    if (service_->intent_ != nullptr) service_->intent_->OnConnected(node_name_);
    // Then what the table and the agent disagree on, and the startups that
    // waited for this node: after the SPD, which the agent needs to answer
    // a RequestStartup (S52).
    if (service_->reconciler_ != nullptr) Reconcile(hello, registered);
    return true;
  }

  // Issue #12: rows no SA of this node uses are retired, SAs the table no
  // longer knows are removed, pending startups go now. Counts only in the
  // log line, never keys.
  void Reconcile(const v1::Hello& hello, absl::Time registered) {
    auto r = service_->reconciler_->OnHello(addresses_, hello, registered);
    if (!r.ok()) {
      // The rows stay; the hard lifetime still ends them.
      LogError("reconcile_failed").Kv("node", node_name_).Kv("error", r.status().message());
      return;
    }
    service_->dispatcher_->Deliver(r->out);
    LogInfo("agent_reconciled")
        .Kv("node", node_name_)
        .Kv("reported", hello.reconcile())
        .Kv("installed", static_cast<uint64_t>(hello.installed_associations_size()))
        .Kv("in_flight", static_cast<uint64_t>(hello.in_flight_size()))
        .Kv("retired", r->retired)
        .Kv("abandoned", r->abandoned)
        .Kv("unknown_sas", r->unknown_sas)
        .Kv("startups", r->startups);
  }

  void HandleRequest(const v1::SaRequest& request) {
    // Replies are routed by the request's source address, so a source that
    // does not parse is answered here, on this stream, and one spelled
    // differently ("FD00:0::13:1") goes on in canonical form: otherwise the
    // SetupError would be addressed to no registered node and be lost.
    v1::SaRequest r = request;
    // The budget first: every request costs, malformed ones too.
    if (!service_->TakeRequestBudget(node_name_)) {
      if (auto held = service_->refusal_log_.Admit(absl::StrCat("rate ", node_name_),
                                                   std::chrono::steady_clock::now())) {
        LogWarning("request_rate_limited")
            .Kv("node", node_name_)
            .Kv("per_second", static_cast<int64_t>(service_->options_.request_budget.per_second))
            .Kv("suppressed", *held);
      }
      Send(ErrorFor(r, v1::SetupError::RESOURCE_EXHAUSTED,
                    absl::StrCat("more than ", service_->options_.request_budget.per_second,
                                 " requests a second from node '", node_name_, "'; retry later")));
      return;
    }
    auto source = IpAddress::Parse(r.source());
    if (!source.ok()) {
      Send(ErrorFor(r, v1::SetupError::INVALID_ARGUMENT,
                    absl::StrCat("request.source: ", source.status().message())));
      return;
    }
    r.set_source(source->ToString());
    // A node may only ask for pairs that include its own address.
    if (std::find(addresses_.begin(), addresses_.end(), source->ToString()) == addresses_.end()) {
      LogWarning("request_denied").Kv("node", node_name_).Kv("source", r.source());
      Send(ErrorFor(r, v1::SetupError::PERMISSION_DENIED,
                    absl::StrCat("request.source: ", source->ToString(),
                                 " is not an address of node '", node_name_, "'")));
      return;
    }
    auto out = service_->processor_->HandleRequest(r);
    if (!out.ok()) {
      LogError("request_failed").Kv("node", node_name_).Kv("error", out.status().message());
      Send(ErrorFor(r, v1::SetupError::UNAVAILABLE, "controller storage unavailable; retry"));
      return;
    }
    service_->dispatcher_->Deliver(*out);
  }

  AgentServiceImpl* const service_;
  const std::string peer_;
  const absl::StatusOr<Caller> caller_;
  std::shared_ptr<SessionReactor> self_;
  grpc::ByteBuffer in_buffer_;  // reads are sequential: only OnReadDone touches it
  // Set once by the Hello, on the read path, before Register publishes us.
  bool hello_done_ = false;
  std::string node_name_;
  std::vector<std::string> addresses_;
  bool drops_early_esp_ = false;
  storage::AgentRecord record_;

  absl::Mutex mu_;
  // Serialized, wiped on release; the front is being written.
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status finish_status_ ABSL_GUARDED_BY(mu_);
};

AgentServiceImpl::AgentServiceImpl(Options options, RequestProcessor* processor,
                                   SessionRegistry* registry, Dispatcher* dispatcher,
                                   EventHub* events, storage::AgentStore* agents, Clock* clock,
                                   const RevocationList* revocations)
    : options_(std::move(options)),
      processor_(processor),
      registry_(registry),
      dispatcher_(dispatcher),
      events_(events),
      agents_(agents),
      clock_(clock),
      revocations_(revocations) {}

bool AgentServiceImpl::TakeRequestBudget(const std::string& node) {
  const absl::Time now = clock_->Monotonic();  // an interval: NTP steps must not refill
  absl::MutexLock l(&budgets_mu_);
  auto it = budgets_.find(node);
  if (it == budgets_.end()) {
    // Bounded by the nodes that said Hello (certificates name them).
    it = budgets_.emplace(node, RequestBudget(options_.request_budget, now)).first;
  }
  return it->second.Take(now);
}

int AgentServiceImpl::CloseStreamsWithoutHello() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<SessionReactor>> late;
  {
    absl::MutexLock l(&pending_mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.second > now) {
        ++it;
        continue;
      }
      if (auto s = it->second.first.lock()) late.push_back(std::move(s));
      it = pending_.erase(it);
    }
  }
  for (const auto& s : late) {
    s->Close(absl::DeadlineExceededError(
        absl::StrCat("no Hello within ", absl::FormatDuration(options_.hello_timeout))));
  }
  if (!late.empty()) {
    LogWarning("streams_without_hello_closed").Kv("count", static_cast<uint64_t>(late.size()));
  }
  return static_cast<int>(late.size());
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AgentServiceImpl::Session(
    grpc::CallbackServerContext* context) {
  auto reactor = std::make_shared<SessionReactor>(this, context);
  reactor->Begin(reactor);
  return reactor.get();
}

}  // namespace ikeless::controller
