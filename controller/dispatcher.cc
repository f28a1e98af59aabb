#include "controller/dispatcher.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/log.h"

namespace ikeless::controller {
namespace {

const char* Kind(const v1::ControllerMessage& m) {
  switch (m.body_case()) {
    case v1::ControllerMessage::kStartup: return "startup";
    case v1::ControllerMessage::kDistribution: return "distribution";
    case v1::ControllerMessage::kError: return "error";
    case v1::ControllerMessage::kWelcome: return "welcome";
    default: return "empty";
  }
}

}  // namespace

Dispatcher::Dispatcher(SessionRegistry* registry, EventHub* events, Clock* clock, Options options)
    : registry_(registry), events_(events), clock_(clock), options_(options) {}

bool Dispatcher::Send(const Outgoing& o) {
  std::shared_ptr<AgentSession> s = registry_->FindByAddress(o.address);
  if (s != nullptr && s->Send(o.message)) return true;
  LogDebug("undeliverable").Kv("address", o.address).Kv("kind", Kind(o.message));
  return false;
}

int Dispatcher::Deliver(const ProcessorOutput& out) {
  int sent = 0;
  for (const Outgoing& o : out.messages) {
    if (o.message.has_distribution() && o.after_installed_at.empty() && IsWaiting(o)) {
      continue;  // a resend (S5) of one that waits: it goes when the peer installs
    }
    if (!o.after_installed_at.empty() && o.message.has_distribution()) {
      std::shared_ptr<AgentSession> peer = registry_->FindByAddress(o.after_installed_at);
      if (peer != nullptr && peer->drops_early_esp()) {
        absl::MutexLock l(&mu_);
        waiting_[o.message.distribution().association_id()] =
            Waiting{o, clock_->Monotonic() + options_.install_wait};
        continue;
      }
    }
    sent += Send(o) ? 1 : 0;
  }
  for (const v1::Event& e : out.events) {
    // Every event still reaches `ipsecctl watch`; the log gets at most a few
    // lines a second per kind and subject, with the count of those held
    // back (one node's request loop wrote 44 MB a minute before).
    const std::string kind = absl::AsciiStrToLower(v1::Event::Kind_Name(e.kind()));
    // Row events name a row id: a flood makes a new one per request, so
    // those are limited per kind, the others per kind and subject (node).
    const bool row = !e.subject().empty() &&
                     e.subject().find_first_not_of("0123456789") == std::string::npos;
    auto held = row ? row_log_limiter_.Admit(kind, std::chrono::steady_clock::now())
                    : node_log_limiter_.Admit(absl::StrCat(kind, " ", e.subject()),
                                              std::chrono::steady_clock::now());
    if (!held.has_value()) continue;
    LogLine line = LogInfo(kind);
    line.Kv("subject", e.subject()).Kv("detail", e.detail());
    if (*held > 0) line.Kv("suppressed", *held);
  }
  events_->Publish(out.events);
  return sent;
}

void Dispatcher::OnInstalled(const std::vector<std::string>& addresses, uint64_t association_id) {
  std::optional<Waiting> ready;
  {
    absl::MutexLock l(&mu_);
    auto it = waiting_.find(association_id);
    // Only the peer it waits for may release it.
    if (it == waiting_.end() || std::find(addresses.begin(), addresses.end(),
                                          it->second.outgoing.after_installed_at) == addresses.end()) {
      return;
    }
    ready = std::move(it->second);
    waiting_.erase(it);
  }
  Send(ready->outgoing);
}

void Dispatcher::ReleaseOverdue() {
  // Lines the limiters held back, counted once their burst is over.
  const auto steady = std::chrono::steady_clock::now();
  for (LogLimiter* limiter : {&node_log_limiter_, &row_log_limiter_}) {
    for (const auto& [key, count] : limiter->TakeHeldBack(steady)) {
      LogInfo("log_lines_suppressed").Kv("event", key).Kv("count", count);
    }
  }
  std::vector<Waiting> due;
  {
    absl::MutexLock l(&mu_);
    const absl::Time now = clock_->Monotonic();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      due.push_back(std::move(it->second));
      it = waiting_.erase(it);
    }
  }
  for (const Waiting& w : due) {
    LogWarning("distribution_sent_without_peer_install")
        .Kv("association", w.outgoing.message.distribution().association_id())
        .Kv("peer", w.outgoing.after_installed_at);
    Send(w.outgoing);
  }
}

bool Dispatcher::IsWaiting(const Outgoing& o) const {
  absl::MutexLock l(&mu_);
  auto it = waiting_.find(o.message.distribution().association_id());
  return it != waiting_.end() && it->second.outgoing.address == o.address;
}

size_t Dispatcher::waiting() const {
  absl::MutexLock l(&mu_);
  return waiting_.size();
}

}  // namespace ikeless::controller
