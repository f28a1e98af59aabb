#include "agent/agent_core.h"

#include <algorithm>
#include <utility>

#include "agent/lifetime_jitter.h"
#include "agent/spd_match.h"
#include "common/log.h"

namespace ikeless::agent {
namespace {

using datapath::DatapathEvent;
using datapath::Direction;
using datapath::SaKey;

bool Alive(const std::optional<AgentCore::SaInfo>& sa, absl::Time now) {
  return sa.has_value() && now < sa->hard_deadline;
}

}  // namespace

AgentCore::Op AgentCore::SwitchOp(uint32_t spd_entry, const SaKey& replaced,
                                  bool after_hard_expiry) {
  Op op;
  op.kind = Op::Kind::kSwitchOutbound;
  op.spd_entry = spd_entry;
  op.key = replaced;
  op.after_hard_expiry = after_hard_expiry;
  return op;
}

AgentCore::SaInfo AgentCore::InfoFor(const v1::SaParameters& sa, uint64_t association_id,
                                     absl::Time now) {
  SaInfo info;
  info.key = {sa.destination(), sa.spi()};
  info.source = sa.source();
  info.association_id = association_id;
  info.soft_seconds = sa.lifetime().soft_seconds();
  info.installed = now;
  const uint64_t hard = sa.lifetime().hard_seconds();
  info.hard_deadline = hard == 0 ? absl::InfiniteFuture()
                                 : now + absl::Seconds(static_cast<int64_t>(hard));
  return info;
}

v1::AgentMessage AgentCore::SaEventFor(v1::SaEvent::Kind kind, const SaInfo& sa,
                                       const datapath::SaCounters* counters) {
  v1::AgentMessage m;
  v1::SaEvent* e = m.mutable_sa_event();
  e->set_kind(kind);
  e->set_association_id(sa.association_id);
  e->set_spi(sa.key.spi);
  e->set_source(sa.source);
  e->set_destination(sa.key.destination);
  if (counters != nullptr) {
    e->set_bytes(counters->bytes);
    e->set_packets(counters->packets);
  }
  return m;
}

AgentCore::AgentCore(Options options, std::vector<datapath::SpdEntry> spd,
                     datapath::Datapath* datapath, ControllerLink* link, Clock* clock,
                     RandomSource* random)
    : options_(std::move(options)),
      datapath_(datapath),
      link_(link),
      clock_(clock),
      random_(random),
      layout_(std::move(spd), options_.controller_address),
      client_(options_.setup, {}, clock, random) {
  absl::MutexLock dp(&dp_mu_);
  spd_ = CanonicalSpd(layout_.Plan({})->entries);  // no pushed rules: cannot fail
  absl::MutexLock l(&mu_);
  client_.ReplaceSpd(spd_, {});
  for (const datapath::SpdEntry& e : spd_) entries_[e.id];
}

AgentCore::~AgentCore() {
  absl::MutexLock dp(&dp_mu_);
  if (started_) datapath_->SetEventSink([](const DatapathEvent&) {});
}

absl::Status AgentCore::Start() {
  absl::MutexLock dp(&dp_mu_);
  if (absl::Status s = ValidateSpd(spd_); !s.ok()) return s;
  // The sink first: acquires may come as soon as the SPD is in.
  datapath_->SetEventSink([this](const DatapathEvent& e) { OnDatapathEvent(e); });
  started_ = true;
  if (absl::Status s = datapath_->SetPolicies(spd_); !s.ok()) return s;
  LogInfo("agent_core_started")
      .Kv("spd_entries", static_cast<uint64_t>(spd_.size()))
      .Kv("controller_bypass", layout_.controller_entry_id() != 0);
  return absl::OkStatus();
}

void AgentCore::SetWakeup(std::function<void()> wake) {
  absl::MutexLock l(&mu_);
  wake_ = std::move(wake);
}

AgentCore::EntryState* AgentCore::StateLocked(uint32_t spd_entry) {
  auto it = entries_.find(spd_entry);
  return it == entries_.end() ? nullptr : &it->second;
}

void AgentCore::AbsorbLocked(SetupOutput out, Work& work) {
  for (v1::SaRequest& r : out.requests) {
    v1::AgentMessage m;
    *m.mutable_request() = std::move(r);
    work.messages.push_back(std::move(m));
  }
  for (SetupResult& r : out.results) {
    EntryState* st = StateLocked(r.spd_entry);
    if (r.status.ok() && st != nullptr) {
      // S45/S57: install. Each end lowers its soft lifetime by its own
      // random amount so the two rarely rekey at once.
      JitterSoftLifetime(r.distribution.mutable_inbound()->mutable_lifetime(),
                         options_.rekey_jitter, *random_);
      JitterSoftLifetime(r.distribution.mutable_outbound()->mutable_lifetime(),
                         options_.rekey_jitter, *random_);
      st->installing = true;
      Op op;
      op.kind = Op::Kind::kInstall;
      op.spd_entry = r.spd_entry;
      op.setup = std::move(r);
      work.ops.push_back(std::move(op));
      continue;
    }
    // S49 -> S37: a packet waits for this setup; the datapath drops it.
    // S58/S60: nothing waits for a startup's or a rekey's result.
    if (r.packet_waiting) {
      Op op;
      op.kind = Op::Kind::kDropHeld;
      op.spd_entry = r.spd_entry;
      work.ops.push_back(std::move(op));
    }
    if (st != nullptr) ScheduleRekeyRetryLocked(r.spd_entry, *st);
  }
}

void AgentCore::ScheduleRekeyRetryLocked(uint32_t spd_entry, EntryState& st) {
  const absl::Time now = clock_->Monotonic();
  if (!st.soft_expired || !Alive(st.outbound, now)) return;
  st.rekey_retry_at = now + options_.rekey_retry;
  LogInfo("rekey_retry_scheduled")
      .Kv("entry", spd_entry)
      .Kv("in_seconds", static_cast<int64_t>(absl::ToInt64Seconds(options_.rekey_retry)));
}

void AgentCore::TakePendingLocked(Work& work) {
  for (Op& op : pending_) work.ops.push_back(std::move(op));
  pending_.clear();
}

void AgentCore::OnDatapathEvent(const DatapathEvent& event) {
  Work work;
  {
    absl::MutexLock l(&mu_);
    EntryState* st = StateLocked(event.spd_entry);
    switch (event.kind) {
      case DatapathEvent::Kind::kAcquire:
        // S35 -> S41. While a distribution is being installed the install
        // itself releases (S36) or drops (S37) what is held.
        if (st != nullptr && st->installing) break;
        AbsorbLocked(client_.Begin(event.spd_entry, SetupTrigger::kAcquire), work);
        break;
      case DatapathEvent::Kind::kSoftExpire:
        // Only the entry's current outbound SA starts a rekey; inbound and
        // superseded SAs expire without one.
        if (st == nullptr || event.direction != Direction::kOutbound ||
            !st->outbound.has_value() || !(st->outbound->key == event.sa)) {
          LogDebug("soft_expire_ignored").Kv("entry", event.spd_entry).Kv("spi", event.sa.spi);
          break;
        }
        if (!st->next_outbound.empty()) {
          // Successor keys: the peer has the next inbound SA installed
          // already, so switch now whether or not the controller answers
          // the rekey below, also when a rekey is already under way (a
          // RekeyNow that has not landed yet) (DECISIONS 33). A repeated
          // event switches once: the op names the SA it replaces.
          work.ops.push_back(SwitchOp(event.spd_entry, event.sa, /*after_hard_expiry=*/false));
        }
        if (st->soft_expired) break;  // already rekeying
        st->soft_expired = true;
        work.messages.push_back(SaEventFor(v1::SaEvent::EXPIRING, *st->outbound));
        LogInfo("sa_soft_expired").Kv("entry", event.spd_entry).Kv("spi", event.sa.spi);
        // FIG. 27: a new request with a new id and SPI. A setup already in
        // flight (a startup from the peer's rekey) serves as well.
        if (st->installing || client_.InFlight(event.spd_entry)) break;
        AbsorbLocked(client_.Begin(event.spd_entry, SetupTrigger::kRekey), work);
        break;
      case DatapathEvent::Kind::kHardExpire: {
        // The datapath removed the SA already; forget it.
        if (st == nullptr) break;
        std::optional<SaInfo> gone;
        if (event.direction == Direction::kOutbound) {
          if (st->outbound.has_value() && st->outbound->key == event.sa) {
            gone = std::move(st->outbound);
            st->outbound.reset();
            st->soft_expired = false;
            st->rekey_retry_at = absl::InfiniteFuture();
            if (!st->next_outbound.empty()) {
              // Its soft expiry never switched it (the event was lost, or
              // the switch failed): the next successor still can.
              work.ops.push_back(SwitchOp(event.spd_entry, event.sa, /*after_hard_expiry=*/true));
            }
          }
          // A superseded one was replaced long ago: forgotten quietly.
          std::erase_if(st->superseded_outbound,
                        [&](const SaInfo& sa) { return sa.key == event.sa; });
        } else if (st->inbound.has_value() && st->inbound->key == event.sa) {
          gone = std::move(st->inbound);
          st->inbound.reset();
        } else if (auto sb = std::find_if(st->standby_inbound.begin(), st->standby_inbound.end(),
                                          [&](const SaInfo& sa) { return sa.key == event.sa; });
                   sb != st->standby_inbound.end()) {
          // Its sender never switched to it in time (or the pair moved on).
          gone = std::move(*sb);
          st->standby_inbound.erase(sb);
        } else {
          auto it = std::find_if(st->retiring.begin(), st->retiring.end(),
                                 [&](const Retiring& r) { return r.sa.key == event.sa; });
          if (it != st->retiring.end()) {
            gone = std::move(it->sa);
            st->retiring.erase(it);
          }
        }
        if (!gone.has_value()) break;
        if (event.direction == Direction::kInbound) client_.ReleaseSpi(gone->key.spi);
        work.messages.push_back(SaEventFor(v1::SaEvent::DELETED, *gone));
        LogInfo("sa_hard_expired")
            .Kv("entry", event.spd_entry)
            .Kv("direction", event.direction == Direction::kInbound ? "in" : "out")
            .Kv("spi", event.sa.spi);
        break;
      }
    }
    // Nothing here may call the datapath: its work waits for Tick().
    for (Op& op : work.ops) pending_.push_back(std::move(op));
    work.ops.clear();
  }
  Finish(work);
}

void AgentCore::OnControllerMessage(const v1::ControllerMessage& message) {
  absl::MutexLock dp(&dp_mu_);
  Work work;
  switch (message.body_case()) {
    case v1::ControllerMessage::kSpdUpdate:
      ApplySpdUpdate(message.spd_update(), work);
      break;
    case v1::ControllerMessage::kTeardown:
      Teardown(message.teardown(), work);
      break;
    default: {
      absl::MutexLock l(&mu_);
      TakePendingLocked(work);
      switch (message.body_case()) {
        case v1::ControllerMessage::kDistribution:
          AbsorbLocked(client_.OnDistribution(message.distribution()), work);
          break;
        case v1::ControllerMessage::kError:
          AbsorbLocked(client_.OnError(message.error()), work);
          break;
        case v1::ControllerMessage::kStartup:
          AbsorbLocked(client_.OnStartup(message.startup()), work);
          break;
        case v1::ControllerMessage::kRekey:
          RekeyNowLocked(message.rekey(), work);
          break;
        default:
          break;
      }
    }
  }
  Execute(work);
  Finish(work);
}

void AgentCore::OnConnected() {
  Work work;
  {
    absl::MutexLock l(&mu_);
    AbsorbLocked(client_.ResendAll(), work);
  }
  Finish(work);
}

void AgentCore::Tick() {
  absl::MutexLock dp(&dp_mu_);
  Work work;
  {
    absl::MutexLock l(&mu_);
    TakePendingLocked(work);
    AbsorbLocked(client_.Tick(), work);
    const absl::Time now = clock_->Monotonic();
    for (auto& [id, st] : entries_) {
      // A superseded outbound SA leaves at its hard expiry, which the
      // datapath reports; one it never wrote (XFRM replaces an SA still
      // waiting for its switch delay) is never reported: forget it here.
      std::erase_if(st.superseded_outbound,
                    [&](const SaInfo& sa) { return sa.hard_deadline <= now; });
      if (st.rekey_retry_at <= now) {
        st.rekey_retry_at = absl::InfiniteFuture();
        if (Alive(st.outbound, now) && !client_.InFlight(id)) {
          LogInfo("rekey_retry").Kv("entry", id);
          AbsorbLocked(client_.Begin(id, SetupTrigger::kRekey), work);
        }
      }
      for (Retiring& r : st.retiring) {
        if (r.remove_at > now) continue;
        r.remove_at = absl::InfiniteFuture();  // until RemoveInbound() is done
        Op op;
        op.kind = Op::Kind::kRemoveInbound;
        op.spd_entry = id;
        op.key = r.sa.key;
        work.ops.push_back(std::move(op));
      }
    }
  }
  Execute(work);
  // The timer thread that called Tick() reads NextDeadline() next: waking
  // it from here would make it spin (it did: 40 % of a core under traffic).
  Finish(work, /*wake=*/false);
}

absl::Time AgentCore::NextDeadline() const {
  absl::MutexLock l(&mu_);
  if (!pending_.empty()) return clock_->Monotonic();
  absl::Time next = client_.NextDeadline();
  for (const auto& [id, st] : entries_) {
    next = std::min(next, st.rekey_retry_at);
    for (const Retiring& r : st.retiring) next = std::min(next, r.remove_at);
  }
  return next;
}

void AgentCore::Finish(Work& work, bool wake) {
  for (const v1::AgentMessage& m : work.messages) {
    if (!link_->Send(m)) {
      // Lost while disconnected: S43's resends and OnConnected() make up.
      LogDebug("controller_send_dropped");
    }
  }
  if (!wake) return;
  // Called under mu_ so that SetWakeup(nullptr) returns only when no call
  // into the old wake-up function is in flight. The wake-up function must
  // not call back into the core.
  absl::MutexLock l(&mu_);
  if (wake_) wake_();
}

std::vector<SetupInfo> AgentCore::InFlightSetups() const {
  absl::MutexLock l(&mu_);
  return client_.InFlightSetups();
}

std::optional<AgentCore::EntryStatus> AgentCore::Entry(uint32_t spd_entry) const {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(spd_entry);
  if (it == entries_.end()) return std::nullopt;
  EntryStatus s;
  s.outbound = it->second.outbound;
  s.inbound = it->second.inbound;
  for (const Retiring& r : it->second.retiring) s.retiring_inbound.push_back(r.sa);
  s.standby_inbound = it->second.standby_inbound;
  s.outbound_successors = it->second.next_outbound.size();
  s.soft_expired = it->second.soft_expired;
  s.rekey_retry_at = it->second.rekey_retry_at;
  return s;
}

bool AgentCore::SpiInUse(uint32_t spi) const {
  absl::MutexLock l(&mu_);
  return client_.SpiInUse(spi);
}

std::vector<datapath::SpdEntry> AgentCore::Spd() const {
  absl::MutexLock dp(&dp_mu_);
  return spd_;
}

uint64_t AgentCore::pushed_revision() const {
  absl::MutexLock dp(&dp_mu_);
  return pushed_.revision();
}

std::vector<std::pair<datapath::Direction, AgentCore::SaInfo>> AgentCore::InstalledSas() const {
  std::vector<std::pair<datapath::Direction, SaInfo>> sas;
  absl::MutexLock l(&mu_);
  for (const auto& [id, st] : entries_) {
    if (st.outbound) sas.emplace_back(datapath::Direction::kOutbound, *st.outbound);
    for (const SaInfo& s : st.superseded_outbound) sas.emplace_back(datapath::Direction::kOutbound, s);
    if (st.inbound) sas.emplace_back(datapath::Direction::kInbound, *st.inbound);
    for (const Retiring& r : st.retiring) sas.emplace_back(datapath::Direction::kInbound, r.sa);
    for (const SaInfo& s : st.standby_inbound) sas.emplace_back(datapath::Direction::kInbound, s);
  }
  return sas;
}

std::vector<uint64_t> AgentCore::AssociationIds() const {
  std::vector<uint64_t> ids;
  for (const auto& [direction, sa] : InstalledSas()) ids.push_back(sa.association_id);
  return ids;
}

std::vector<v1::SaReport> AgentCore::SaReports() const {
  // Which SAs, under mu_; their counters from the datapath under dp_mu_
  // alone (datapath calls never run under mu_).
  const std::vector<std::pair<datapath::Direction, SaInfo>> sas = InstalledSas();
  std::vector<v1::SaReport> out;
  absl::MutexLock dp(&dp_mu_);
  for (const auto& [direction, sa] : sas) {
    absl::StatusOr<datapath::SaCounters> c = datapath_->Counters(direction, sa.key);
    if (!c.ok()) continue;  // removed meanwhile
    v1::SaReport& r = out.emplace_back();
    r.set_association_id(sa.association_id);
    r.set_inbound(direction == datapath::Direction::kInbound);
    r.set_spi(sa.key.spi);
    r.set_packets(c->packets);
    r.set_bytes(c->bytes);
    r.set_replay_drops(c->replay_drops);
    r.set_integrity_failures(c->integrity_failures);
  }
  return out;
}

}  // namespace ikeless::agent
