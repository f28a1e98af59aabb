#include "agent/setup_client.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "agent/spd_match.h"
#include "common/log.h"
#include "common/secret.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;

constexpr uint32_t kMaxSpi = std::numeric_limits<uint32_t>::max();
// Random draws before giving up on finding a free SPI (with 2^32 - 256
// values and a few thousand in use this is never reached).
constexpr int kSpiDraws = 64;

// Successors are one level deep and, inbound, on the SPIs we reserved, in
// order: a controller that says otherwise gets none of them used (the
// peer would send where we do not receive).
void KeepReservedSuccessors(const std::vector<uint32_t>& reserved, v1::Distribution& d) {
  auto drop_all = [&] {
    for (v1::SaParameters* sa : {d.mutable_inbound(), d.mutable_outbound()}) {
      for (v1::SaParameters& s : *sa->mutable_successors()) WipeKeys(&s);
      sa->clear_successors();
    }
  };
  const auto& in = d.inbound().successors();
  bool ok = in.size() == d.outbound().successors_size() &&
            static_cast<size_t>(in.size()) <= reserved.size();
  for (int i = 0; ok && i < in.size(); ++i) {
    ok = in[i].spi() == reserved[i] && in[i].successors_size() == 0 &&
         d.outbound().successors(i).successors_size() == 0;
  }
  if (!ok) {
    LogWarning("successors_ignored")
        .Kv("request_id", d.request_id())
        .Kv("reason", "successor SAs do not match the SPIs reserved for them");
    drop_all();
  }
}

}  // namespace

const char* SetupTriggerName(SetupTrigger trigger) {
  switch (trigger) {
    case SetupTrigger::kAcquire:
      return "acquire";
    case SetupTrigger::kStartup:
      return "startup";
    case SetupTrigger::kRekey:
      return "rekey";
  }
  return "unknown";
}

SetupResult::~SetupResult() {
  if (distribution.has_inbound()) WipeKeys(distribution.mutable_inbound());
  if (distribution.has_outbound()) WipeKeys(distribution.mutable_outbound());
}

SetupClient::SetupClient(Options options, std::vector<SpdEntry> spd, Clock* clock,
                         RandomSource* random)
    : options_(options),
      spd_(CanonicalSpd(std::move(spd))),
      clock_(clock),
      random_(random),
      next_request_id_(options.first_request_id == 0 ? 1 : options.first_request_id) {}

const SpdEntry* SetupClient::FindEntry(uint32_t spd_entry) const {
  for (const SpdEntry& e : spd_) {
    if (e.id == spd_entry) return &e;
  }
  return nullptr;
}

v1::SaRequest SetupClient::RequestFor(uint32_t spd_entry, const Setup& setup) const {
  const SpdEntry* e = FindEntry(spd_entry);
  v1::SaRequest r;
  r.set_id(setup.request_id);
  r.set_source(e->local_address);  // S42: the request source: us
  r.set_peer(e->setup_peer);       // S42: the entry's setup_peer
  r.set_spi(setup.spi);            // S42: the SPI we will receive on
  r.mutable_selector()->set_protocol(e->protocol);
  r.mutable_selector()->set_port(e->port);
  // Which of several entries toward one peer this is (requester's view).
  r.mutable_traffic()->set_local(e->local_prefix);
  r.mutable_traffic()->set_remote(e->remote_prefix);
  for (uint32_t spi : setup.successor_spis) r.add_successor_spis(spi);
  return r;
}

uint64_t SetupClient::NewRequestId(const std::set<uint64_t>& excluded) {
  uint64_t id = next_request_id_;
  // S48: jump past the ids the controller listed, so that the later
  // requests of this process do not run into them one by one.
  if (!excluded.empty() && *excluded.rbegin() >= id &&
      *excluded.rbegin() < std::numeric_limits<uint64_t>::max()) {
    id = *excluded.rbegin() + 1;
  }
  while (id == 0 || excluded.count(id) != 0) ++id;  // 0 is invalid
  next_request_id_ = id + 1;
  return id;
}

std::optional<uint32_t> SetupClient::NewSpi(const std::set<uint32_t>& excluded) {
  for (int i = 0; i < kSpiDraws; ++i) {
    const uint32_t spi = static_cast<uint32_t>(random_->Uniform(kMinSpi, kMaxSpi));
    if (spis_in_use_.count(spi) == 0 && excluded.count(spi) == 0) {
      spis_in_use_.insert(spi);
      return spi;
    }
  }
  return std::nullopt;
}

void SetupClient::ReleaseSpi(uint32_t spi) {
  // A setup still in flight keeps its SPIs: only installed ones are released.
  for (const auto& [entry, setup] : setups_) {
    if (setup.spi == spi || absl::c_linear_search(setup.successor_spis, spi)) return;
  }
  spis_in_use_.erase(spi);
}

SetupOutput SetupClient::Begin(uint32_t spd_entry, SetupTrigger trigger) {
  SetupOutput out;
  auto it = setups_.find(spd_entry);
  if (it != setups_.end()) {
    // S35 note: one setup per entry. An acquire now waits for this one.
    if (trigger == SetupTrigger::kAcquire) it->second.packet_waiting = true;
    LogDebug("setup_already_in_flight")
        .Kv("entry", spd_entry)
        .Kv("trigger", SetupTriggerName(trigger))
        .Kv("request_id", it->second.request_id);
    return out;
  }
  SetupResult failed;
  failed.spd_entry = spd_entry;
  failed.trigger = trigger;
  failed.packet_waiting = trigger == SetupTrigger::kAcquire;
  const SpdEntry* e = FindEntry(spd_entry);
  if (e == nullptr || !NeedsSetup(*e)) {
    // S33: nothing to ask the controller about.
    failed.status = absl::FailedPreconditionError(
        absl::StrCat("spd entry ", spd_entry,
                     e == nullptr ? " does not exist" : " has no setup_peer"));
    LogWarning("setup_refused").Kv("entry", spd_entry).Kv("reason", failed.status.message());
    out.results.push_back(std::move(failed));
    return out;
  }
  // S42: an id no other request uses and an SPI of our own.
  Setup setup;
  setup.trigger = trigger;
  setup.packet_waiting = trigger == SetupTrigger::kAcquire;
  std::optional<uint32_t> spi = NewSpi({});
  if (!spi) {
    failed.status = absl::ResourceExhaustedError("no free SPI");
    LogError("setup_failed").Kv("entry", spd_entry).Kv("reason", "no free SPI");
    out.results.push_back(std::move(failed));
    return out;
  }
  setup.spi = *spi;
  // Successor SPIs: as many as can be had; fewer only shortens how long the
  // node can rekey without the controller.
  for (int i = 0; i < std::min(options_.successor_keys, 8); ++i) {
    std::optional<uint32_t> next = NewSpi({});
    if (!next) break;
    setup.successor_spis.push_back(*next);
  }
  setup.request_id = NewRequestId({});
  // S43: the first send; the resends follow every interval.
  setup.attempts = 1;
  setup.next_send = clock_->Monotonic() + options_.resend_interval;
  LogInfo("setup_started")
      .Kv("entry", spd_entry)
      .Kv("trigger", SetupTriggerName(trigger))
      .Kv("peer", e->setup_peer)
      .Kv("request_id", setup.request_id)
      .Kv("spi", setup.spi);
  out.requests.push_back(RequestFor(spd_entry, setup));
  setups_.emplace(spd_entry, setup);
  return out;
}

SetupOutput SetupClient::OnStartup(const v1::RequestStartup& startup) {
  // S52: the entry whose setup_peer is the peer that asked.
  const SpdEntry* e = MatchStartup(spd_, startup);
  if (e == nullptr) {
    // S53: neglect it; the controller gives up after its six startups.
    LogInfo("startup_ignored")
        .Kv("peer", startup.peer())
        .Kv("local", startup.local())
        .Kv("reason", "no matching spd entry");
    return {};
  }
  if (InFlight(e->id)) {
    // "does not transmit a new request message until the repeated
    // transmission stops even if a request startup message for the
    // identical entry of the SPD 24 is received".
    LogDebug("startup_ignored").Kv("entry", e->id).Kv("reason", "setup in flight");
    return {};
  }
  // S54/S55: as for an acquire, but no packet waits (S56/S58/S60).
  return Begin(e->id, SetupTrigger::kStartup);
}

std::map<uint32_t, SetupClient::Setup>::iterator SetupClient::FindByRequestId(
    uint64_t request_id) {
  for (auto it = setups_.begin(); it != setups_.end(); ++it) {
    if (it->second.request_id == request_id) return it;
  }
  return setups_.end();
}

namespace {

// The fields every result of the setup for SPD entry `entry` carries.
SetupResult ResultOf(uint32_t entry, SetupTrigger trigger, bool packet_waiting,
                     uint64_t request_id, uint32_t spi) {
  SetupResult r;
  r.spd_entry = entry;
  r.trigger = trigger;
  r.packet_waiting = packet_waiting;
  r.request_id = request_id;
  r.spi = spi;
  return r;
}

}  // namespace

SetupResult SetupClient::Fail(std::map<uint32_t, Setup>::iterator it, absl::Status status,
                              v1::SetupError::Code error) {
  SetupResult r = ResultOf(it->first, it->second.trigger, it->second.packet_waiting,
                           it->second.request_id, it->second.spi);
  r.status = std::move(status);
  r.error = error;
  spis_in_use_.erase(it->second.spi);
  for (uint32_t spi : it->second.successor_spis) spis_in_use_.erase(spi);
  setups_.erase(it);
  LogWarning("setup_failed")
      .Kv("entry", r.spd_entry)
      .Kv("trigger", SetupTriggerName(r.trigger))
      .Kv("request_id", r.request_id)
      .Kv("packet_waiting", r.packet_waiting)
      .Kv("reason", r.status.message());
  return r;
}

SetupOutput SetupClient::OnDistribution(const v1::Distribution& d) {
  SetupOutput out;
  auto it = FindByRequestId(d.request_id());
  if (it == setups_.end()) {
    // A retransmitted answer (S5) to a setup already done, or an answer to
    // an id given up after CONFLICT: nothing waits for it.
    LogDebug("distribution_ignored")
        .Kv("request_id", d.request_id())
        .Kv("reason", "no outstanding request");
    return out;
  }
  const SpdEntry* e = FindEntry(it->first);
  if (!d.has_inbound() || !d.has_outbound() || d.inbound().spi() != it->second.spi ||
      CanonicalOrSelf(d.peer()) != e->setup_peer) {
    // Not an answer to what we asked; the resends go on and S3 sorts out
    // a controller that disagrees about our SPI.
    LogWarning("distribution_ignored")
        .Kv("request_id", d.request_id())
        .Kv("entry", it->first)
        .Kv("reason", "does not match the request (peer or inbound SPI)");
    return out;
  }
  // S44 -> S45/S46 (S56 -> S57): success; the caller installs.
  SetupResult r = ResultOf(it->first, it->second.trigger, it->second.packet_waiting,
                           it->second.request_id, it->second.spi);
  r.distribution = d;
  r.successor_spis = it->second.successor_spis;
  KeepReservedSuccessors(r.successor_spis, r.distribution);
  LogInfo("setup_done")
      .Kv("entry", r.spd_entry)
      .Kv("trigger", SetupTriggerName(r.trigger))
      .Kv("request_id", r.request_id)
      .Kv("association", d.association_id())
      .Kv("attempts", it->second.attempts);
  setups_.erase(it);  // the SPI stays reserved: it is the new inbound SA's
  out.results.push_back(std::move(r));
  return out;
}

SetupOutput SetupClient::ReplaceSpd(std::vector<SpdEntry> spd, const std::set<uint32_t>& reset) {
  spd_ = CanonicalSpd(std::move(spd));
  SetupOutput out;
  for (auto it = setups_.begin(); it != setups_.end();) {
    auto next = std::next(it);
    const bool gone = FindEntry(it->first) == nullptr;
    if (gone || reset.count(it->first) != 0) {
      out.results.push_back(Fail(it,
                                 absl::AbortedError(absl::StrCat(
                                     "spd entry ", it->first,
                                     gone ? " was removed from the SPD" : " changed in the SPD")),
                                 v1::SetupError::CODE_UNSPECIFIED));
    }
    it = next;
  }
  return out;
}

SetupOutput SetupClient::Tick() {
  SetupOutput out;
  const absl::Time now = clock_->Monotonic();
  for (auto it = setups_.begin(); it != setups_.end();) {
    Setup& s = it->second;
    if (s.next_send > now) {
      ++it;
      continue;
    }
    if (s.attempts >= options_.max_attempts) {
      // S43 -> S49: the last try went unanswered for one interval.
      auto next = std::next(it);
      out.results.push_back(Fail(
          it,
          absl::DeadlineExceededError(absl::StrCat("no answer to ", s.attempts, " requests")),
          v1::SetupError::CODE_UNSPECIFIED));
      it = next;
      continue;
    }
    // S43: same id and SPI, so the controller sees a retransmission.
    ++s.attempts;
    s.next_send = now + options_.resend_interval;
    out.requests.push_back(RequestFor(it->first, s));
    ++it;
  }
  return out;
}

SetupOutput SetupClient::ResendAll() {
  SetupOutput out;
  for (const auto& [entry, setup] : setups_) out.requests.push_back(RequestFor(entry, setup));
  if (!out.requests.empty()) {
    LogInfo("setup_resend_all").Kv("requests", uint64_t{out.requests.size()});
  }
  return out;
}

absl::Time SetupClient::NextDeadline() const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [entry, setup] : setups_) next = std::min(next, setup.next_send);
  return next;
}

std::vector<SetupInfo> SetupClient::InFlightSetups() const {
  std::vector<SetupInfo> v;
  for (const auto& [entry, s] : setups_) {
    v.push_back({entry, s.trigger, s.packet_waiting, s.request_id, s.spi, s.attempts,
                 s.conflict_rounds, s.next_send});
  }
  return v;
}

}  // namespace ikeless::agent
