#include "controller/session_handler.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/address.h"
#include "common/log.h"
#include "controller/pki/names.h"
#include "controller/request_processor.h"

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

bool AgentSessionHandler::Shared::TakeRequestBudget(const std::string& node) {
  const absl::Time now = deps_.clock->Monotonic();  // an interval: NTP steps must not refill
  absl::MutexLock l(&budgets_mu_);
  auto it = budgets_.find(node);
  if (it == budgets_.end()) {
    // Bounded by the nodes that said Hello (certificates name them).
    it = budgets_.emplace(node, RequestBudget(options_.request_budget, now)).first;
  }
  return it->second.Take(now);
}

void AgentSessionHandler::Shared::AddPending(const AgentSessionHandler* handler,
                                             std::weak_ptr<AgentSession> session) {
  const absl::Time deadline = deps_.clock->Monotonic() + options_.hello_timeout;
  absl::MutexLock l(&pending_mu_);
  pending_[handler] = Pending{std::move(session), deadline};
}

void AgentSessionHandler::Shared::RemovePending(const AgentSessionHandler* handler) {
  absl::MutexLock l(&pending_mu_);
  pending_.erase(handler);
}

int AgentSessionHandler::Shared::CloseStreamsWithoutHello() {
  const absl::Time now = deps_.clock->Monotonic();
  std::vector<std::shared_ptr<AgentSession>> late;
  {
    absl::MutexLock l(&pending_mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      if (auto s = it->second.session.lock()) late.push_back(std::move(s));
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

AgentSessionHandler::AgentSessionHandler(Shared* shared, std::string peer,
                                         absl::StatusOr<Caller> caller)
    : shared_(shared), peer_(std::move(peer)), caller_(std::move(caller)) {}

const Caller& AgentSessionHandler::caller() const {
  static const Caller* none = new Caller;
  return caller_.ok() ? *caller_ : *none;
}

bool AgentSessionHandler::CloseWith(const absl::Status& status) {
  if (auto session = session_.lock()) session->Close(status);
  return false;
}

bool AgentSessionHandler::Open(std::shared_ptr<AgentSession> session) {
  session_ = session;
  session_raw_ = session.get();
  if (!caller_.ok()) {
    LogWarning("session_refused").Kv("peer", peer_).Kv("reason", caller_.status().message());
    return CloseWith(caller_.status());
  }
  if (absl::Status s = CheckStanding(*caller_, shared_->deps_.revocations, absl::Now());
      !s.ok()) {
    LogWarning("session_refused").Kv("peer", peer_).Kv("reason", s.message());
    return CloseWith(s);
  }
  shared_->AddPending(this, session_);
  return true;
}

bool AgentSessionHandler::Handle(const v1::AgentMessage& m) {
  const Deps& deps = shared_->deps_;
  if (!hello_done_ && m.body_case() != v1::AgentMessage::kHello &&
      m.body_case() != v1::AgentMessage::BODY_NOT_SET) {
    // Every message but Hello says something about a node: which, only the
    // Hello tells. Named by its type ("send Hello before any SaRequest").
    const auto* field = v1::AgentMessage::descriptor()->FindFieldByNumber(m.body_case());
    return CloseWith(absl::FailedPreconditionError(
        absl::StrCat("send Hello before any ", field->message_type()->name())));
  }
  switch (m.body_case()) {
    case v1::AgentMessage::kHello:
      return HandleHello(m.hello());
    case v1::AgentMessage::kRequest:
      HandleRequest(m.request());
      return true;
    case v1::AgentMessage::kSaEvent:
      LogDebug("sa_event")
          .Kv("node", node_name_)
          .Kv("kind", v1::SaEvent::Kind_Name(m.sa_event().kind()))
          .Kv("spi", m.sa_event().spi())
          .Kv("association", m.sa_event().association_id());
      if (m.sa_event().kind() == v1::SaEvent::INSTALLED) {
        deps.dispatcher->OnInstalled(addresses_, m.sa_event().association_id());
      }
      return true;
    case v1::AgentMessage::kSpdAck:
      if (deps.intent != nullptr) deps.intent->OnAck(node_name_, m.spd_ack());
      return true;
    case v1::AgentMessage::kReport:
      if (deps.intent != nullptr) deps.intent->OnReport(node_name_, m.report());
      return true;
    default:
      return true;  // an empty or newer message: ignore
  }
}

bool AgentSessionHandler::HandleHello(const v1::Hello& hello) {
  const Deps& deps = shared_->deps_;
  if (hello_done_) {
    return CloseWith(absl::FailedPreconditionError("Hello may be sent only once per stream"));
  }
  absl::Status s = pki::ValidateIdentityName(hello.node_name(), "hello.node_name");
  auto addresses = HelloAddresses(hello);
  if (s.ok() && !addresses.ok()) s = addresses.status();
  // The certificate, not the message, says who this is; and it must still
  // stand (revoked or expired since the stream opened: checked again here,
  // and every second by the controller for registered sessions).
  if (s.ok()) s = ValidateHelloReport(hello);
  if (s.ok()) s = AuthorizeHello(caller(), hello.node_name(), *addresses);
  if (s.ok()) s = CheckStanding(caller(), deps.revocations, absl::Now());
  if (!s.ok()) {
    if (s.code() == absl::StatusCode::kPermissionDenied) {
      LogWarning("hello_refused").Kv("peer", peer_).Kv("reason", s.message());
    }
    return CloseWith(s);
  }
  std::shared_ptr<AgentSession> session = session_.lock();
  if (session == nullptr) return false;
  // Immutable from here on; other threads see them through the registry.
  node_name_ = hello.node_name();
  addresses_ = *addresses;
  drops_early_esp_ = hello.capabilities().drops_early_esp();
  // Rows opened from here on send their startup to this stream (S23).
  const absl::Time registered = deps.clock->Now();
  auto replaced = deps.registry->Register(session);
  if (!replaced.ok()) {
    LogWarning("hello_refused").Kv("node", node_name_).Kv("reason", replaced.status().message());
    return CloseWith(replaced.status());
  }
  hello_done_ = true;
  shared_->RemovePending(this);
  if (*replaced != nullptr) {
    (*replaced)->Close(absl::AbortedError("replaced by a newer stream of the same node"));
  }
  record_.node_name = node_name_;
  record_.addresses = addresses_;
  record_.agent_version = hello.agent_version();
  record_.datapath = hello.capabilities().datapath();
  record_.last_seen = deps.clock->Now();
  if (absl::Status u = deps.agents->UpsertAgent(record_); !u.ok()) {
    LogWarning("agent_record_failed").Kv("node", node_name_).Kv("error", u.message());
  }
  LogInfo("agent_connected")
      .Kv("node", node_name_)
      .Kv("addresses", absl::StrJoin(addresses_, ","))
      .Kv("peer", peer_)
      .Kv("replaced", *replaced != nullptr);
  v1::Event e;
  e.set_kind(v1::Event::AGENT_CONNECTED);
  e.set_time_unix_micros(absl::ToUnixMicros(deps.clock->Now()));
  e.set_subject(node_name_);
  e.set_detail(absl::StrJoin(addresses_, ","));
  deps.events->Publish(e);

  v1::ControllerMessage welcome;
  welcome.mutable_welcome()->set_controller_version(shared_->options_.controller_version);
  welcome.mutable_welcome()->set_node_name(node_name_);
  for (const auto& a : addresses_) welcome.mutable_welcome()->add_addresses(a);
  session->Send(welcome);
  // Then the node's SPD, as a snapshot (DESIGN.md: "a snapshot after
  // Welcome, then deltas").
  if (deps.intent != nullptr) deps.intent->OnConnected(node_name_);
  // Then what the table and the agent disagree on, and the startups that
  // waited for this node: after the SPD, which the agent needs to answer
  // a RequestStartup (S52).
  if (deps.reconciler != nullptr) Reconcile(hello, registered);
  return true;
}

// Issue #12: rows no SA of this node uses are retired, SAs the table no
// longer knows are removed, pending startups go now. Counts only in the
// log line, never keys.
void AgentSessionHandler::Reconcile(const v1::Hello& hello, absl::Time registered) {
  const Deps& deps = shared_->deps_;
  auto r = deps.reconciler->OnHello(addresses_, hello, registered);
  if (!r.ok()) {
    // The rows stay; the hard lifetime still ends them.
    LogError("reconcile_failed").Kv("node", node_name_).Kv("error", r.status().message());
    return;
  }
  deps.dispatcher->Deliver(r->out);
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

void AgentSessionHandler::HandleRequest(const v1::SaRequest& request) {
  std::shared_ptr<AgentSession> session = session_.lock();
  if (session == nullptr) return;
  const Options& options = shared_->options_;
  // Replies are routed by the request's source address, so a source that
  // does not parse is answered here, on this stream, and one spelled
  // differently ("FD00:0::13:1") goes on in canonical form: otherwise the
  // SetupError would be addressed to no registered node and be lost.
  v1::SaRequest r = request;
  // The budget first: every request costs, malformed ones too.
  if (!shared_->TakeRequestBudget(node_name_)) {
    if (auto held = shared_->refusal_log_.Admit(absl::StrCat("rate ", node_name_),
                                                std::chrono::steady_clock::now())) {
      LogWarning("request_rate_limited")
          .Kv("node", node_name_)
          .Kv("per_second", static_cast<int64_t>(options.request_budget.per_second))
          .Kv("suppressed", *held);
    }
    session->Send(ErrorFor(r, v1::SetupError::RESOURCE_EXHAUSTED,
                           absl::StrCat("more than ", options.request_budget.per_second,
                                        " requests a second from node '", node_name_,
                                        "'; retry later")));
    return;
  }
  auto source = IpAddress::Parse(r.source());
  if (!source.ok()) {
    session->Send(ErrorFor(r, v1::SetupError::INVALID_ARGUMENT,
                           absl::StrCat("request.source: ", source.status().message())));
    return;
  }
  r.set_source(source->ToString());
  // A node may only ask for pairs that include its own address.
  if (std::find(addresses_.begin(), addresses_.end(), r.source()) == addresses_.end()) {
    LogWarning("request_denied").Kv("node", node_name_).Kv("source", r.source());
    session->Send(ErrorFor(r, v1::SetupError::PERMISSION_DENIED,
                           absl::StrCat("request.source: ", r.source(),
                                        " is not an address of node '", node_name_, "'")));
    return;
  }
  shared_->deps_.requests->Submit(std::move(r), std::move(session));
}

void AgentSessionHandler::OnClosed() {
  shared_->RemovePending(this);
  const Deps& deps = shared_->deps_;
  if (hello_done_ && deps.registry->Unregister(session_raw_)) {
    LogInfo("agent_disconnected").Kv("node", node_name_).Kv("peer", peer_);
    if (deps.intent != nullptr) deps.intent->OnDisconnected(node_name_);
    v1::Event e;
    e.set_kind(v1::Event::AGENT_DISCONNECTED);
    e.set_time_unix_micros(absl::ToUnixMicros(deps.clock->Now()));
    e.set_subject(node_name_);
    deps.events->Publish(e);
    storage::AgentRecord record = record_;
    record.last_seen = deps.clock->Now();
    (void)deps.agents->UpsertAgent(record);
  }
}

}  // namespace ikeless::controller
