// The agent core's SPD as the controller pushes it (DESIGN.md "Policy is
// the whole configuration"): SpdUpdate revisions applied atomically to the
// datapath (never a flush: entries that stay keep their SAs), the SAs of
// entries that leave removed, and the controller's Teardown and RekeyNow
// for associations whose policy went away or changed.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "agent/agent_core.h"
#include "agent/spd_match.h"
#include "common/log.h"

namespace ikeless::agent {
namespace {

using datapath::Direction;
using datapath::SpdEntry;

// Whether an entry's SAs and setups still fit it: what it protects, how and
// with whom. The name may change freely.
bool SameTraffic(const SpdEntry& a, const SpdEntry& b) {
  return a.local_prefix == b.local_prefix && a.remote_prefix == b.remote_prefix &&
         a.protocol == b.protocol && a.port == b.port && a.action == b.action &&
         a.setup_peer == b.setup_peer && a.local_address == b.local_address;
}

v1::AgentMessage Ack(uint64_t revision, std::string error) {
  v1::AgentMessage m;
  m.mutable_spd_ack()->set_revision(revision);
  // One line, as the controller shows it to operators.
  m.mutable_spd_ack()->set_error(absl::StrReplaceAll(error, {{"\n", " "}}));
  return m;
}

}  // namespace

void AgentCore::TakeSas(uint32_t spd_entry, EntryState& st,
                        const std::function<bool(const SaInfo&)>& pick,
                        std::vector<Removal>& removals) {
  if (st.outbound.has_value() && pick(*st.outbound)) {
    removals.push_back({spd_entry, Direction::kOutbound, std::move(*st.outbound)});
    st.outbound.reset();
    st.soft_expired = false;
    st.rekey_retry_at = absl::InfiniteFuture();
  }
  std::erase_if(st.superseded_outbound, [&](SaInfo& sa) {
    if (!pick(sa)) return false;
    removals.push_back({spd_entry, Direction::kOutbound, std::move(sa)});
    return true;
  });
  if (st.inbound.has_value() && pick(*st.inbound)) {
    removals.push_back({spd_entry, Direction::kInbound, std::move(*st.inbound)});
    st.inbound.reset();
  }
  std::erase_if(st.retiring, [&](Retiring& r) {
    if (!pick(r.sa)) return false;
    removals.push_back({spd_entry, Direction::kInbound, std::move(r.sa)});
    return true;
  });
  std::erase_if(st.standby_inbound, [&](SaInfo& sa) {
    if (!pick(sa)) return false;
    removals.push_back({spd_entry, Direction::kInbound, std::move(sa)});
    return true;
  });
  SaInfo successors_of;
  successors_of.association_id = st.next_outbound.association_id();
  if (!st.next_outbound.empty() && pick(successors_of)) st.next_outbound.Clear();
}

absl::Status AgentCore::ReplaceSpd(std::vector<SpdEntry> spd) {
  absl::MutexLock dp(&dp_mu_);
  Work work;
  absl::Status s = ReplaceSpdLocked(std::move(spd), work);
  Execute(work);
  Finish(work);
  return s;
}

absl::Status AgentCore::ReplaceSpdLocked(std::vector<SpdEntry> spd, Work& work) {
  if (absl::Status s = ValidateSpd(spd); !s.ok()) return s;
  spd = CanonicalSpd(std::move(spd));
  std::map<uint32_t, const SpdEntry*> old;
  for (const SpdEntry& e : spd_) old[e.id] = &e;
  std::set<uint32_t> kept;  // ids in the new SPD
  std::set<uint32_t> reset;  // in both, but their SAs no longer fit
  for (const SpdEntry& e : spd) {
    kept.insert(e.id);
    auto it = old.find(e.id);
    if (it != old.end() && !SameTraffic(*it->second, e)) reset.insert(e.id);
  }
  std::vector<uint32_t> gone;
  for (const auto& [id, e] : old) {
    if (kept.count(id) == 0) gone.push_back(id);
  }

  std::vector<Removal> removals;
  {
    absl::MutexLock l(&mu_);
    TakePendingLocked(work);
    // (i) Setups in flight for entries that leave or change fail; a packet
    // held for one is dropped (S37) once the datapath has the new SPD.
    AbsorbLocked(client_.ReplaceSpd(spd, reset), work);
    const auto all = [](const SaInfo&) { return true; };
    for (uint32_t id : gone) {
      if (auto it = entries_.find(id); it != entries_.end()) {
        TakeSas(id, it->second, all, removals);
        entries_.erase(it);
      }
    }
    for (uint32_t id : reset) {
      TakeSas(id, entries_[id], all, removals);
      entries_[id] = EntryState{};
    }
    for (const SpdEntry& e : spd) entries_[e.id];
  }
  // (ii) The datapath swaps its SPD; entries that stay keep their SAs.
  spd_ = std::move(spd);
  absl::Status s = datapath_->SetPolicies(spd_);
  if (!s.ok()) LogError("spd_datapath_failed").Kv("reason", s.message());
  // (iii) What belonged to the entries that left or changed goes.
  RemoveSas(removals, work);
  LogInfo("spd_replaced")
      .Kv("entries", static_cast<uint64_t>(spd_.size()))
      .Kv("removed", static_cast<uint64_t>(gone.size()))
      .Kv("changed", static_cast<uint64_t>(reset.size()))
      .Kv("sas_removed", static_cast<uint64_t>(removals.size()));
  return s;
}

void AgentCore::RemoveSas(const std::vector<Removal>& removals, Work& work) {
  std::vector<uint32_t> released;
  for (const Removal& r : removals) {
    absl::StatusOr<datapath::SaCounters> counters = datapath_->Counters(r.direction, r.sa.key);
    absl::Status s = datapath_->RemoveSa(r.direction, r.sa.key);
    if (!s.ok() && !absl::IsNotFound(s)) {
      // Still in the datapath: its SPI stays reserved so no new SA collides.
      LogWarning("sa_remove_failed")
          .Kv("entry", r.spd_entry)
          .Kv("spi", r.sa.key.spi)
          .Kv("reason", s.message());
    } else if (r.direction == Direction::kInbound) {
      released.push_back(r.sa.key.spi);
    }
    work.messages.push_back(
        SaEventFor(v1::SaEvent::DELETED, r.sa, counters.ok() ? &*counters : nullptr));
    LogInfo("sa_removed")
        .Kv("entry", r.spd_entry)
        .Kv("direction", datapath::DirectionName(r.direction))
        .Kv("spi", r.sa.key.spi)
        .Kv("association", r.sa.association_id);
  }
  if (released.empty()) return;
  absl::MutexLock l(&mu_);
  for (uint32_t spi : released) client_.ReleaseSpi(spi);
}

void AgentCore::ApplySpdUpdate(const v1::SpdUpdate& update, Work& work) {
  // Everything is checked before anything changes: PushedSpd on a copy,
  // the layout without committing its ids.
  PushedSpd next = pushed_;
  absl::StatusOr<PushedSpd::Change> change = next.Apply(update);
  absl::StatusOr<LaidOutSpd> laid =
      change.ok() ? layout_.Plan(next.rules()) : absl::StatusOr<LaidOutSpd>(change.status());
  absl::Status s = laid.ok() ? ValidateSpd(laid->entries) : laid.status();
  if (s.ok()) {
    layout_.Commit(*laid);  // the core takes the ids even if the datapath fails
    s = ReplaceSpdLocked(laid->entries, work);
  }
  if (!s.ok()) {
    // The controller sends a snapshot next; the agent keeps what it had
    // (or, after a datapath error, the new SPD in the core).
    LogWarning("spd_update_refused")
        .Kv("revision", update.revision())
        .Kv("snapshot", update.snapshot())
        .Kv("applied_revision", pushed_.revision())
        .Kv("reason", s.message());
    work.messages.push_back(Ack(update.revision(), std::string(s.message())));
    return;
  }
  pushed_ = std::move(next);
  LogInfo("spd_update_applied")
      .Kv("revision", pushed_.revision())
      .Kv("snapshot", change->snapshot)
      .Kv("added", static_cast<uint64_t>(change->added.size()))
      .Kv("changed", static_cast<uint64_t>(change->changed.size()))
      .Kv("removed", static_cast<uint64_t>(change->removed.size()))
      .Kv("pushed_rules", static_cast<uint64_t>(pushed_.rules().size()))
      .Kv("shadowed", static_cast<uint64_t>(laid->shadowed.size()));
  if (options_.spd_listener != nullptr) options_.spd_listener->OnSpdApplied(*laid);
  work.messages.push_back(Ack(update.revision(), ""));
}

void AgentCore::Teardown(const v1::Teardown& teardown, Work& work) {
  const std::set<uint64_t> ids(teardown.association_ids().begin(),
                               teardown.association_ids().end());
  std::vector<Removal> removals;
  {
    absl::MutexLock l(&mu_);
    TakePendingLocked(work);
    const auto listed = [&](const SaInfo& sa) { return ids.count(sa.association_id) != 0; };
    for (auto& [id, st] : entries_) TakeSas(id, st, listed, removals);
  }
  LogInfo("teardown")
      .Kv("associations", static_cast<uint64_t>(ids.size()))
      .Kv("sas", static_cast<uint64_t>(removals.size()))
      .Kv("reason", teardown.reason());
  // The next packet of such an entry finds no SA and acquires anew (S35);
  // the controller answers by the SPD it pushed.
  RemoveSas(removals, work);
}

void AgentCore::RekeyNowLocked(const v1::RekeyNow& rekey, Work& work) {
  const std::set<uint64_t> ids(rekey.association_ids().begin(), rekey.association_ids().end());
  for (auto& [id, st] : entries_) {
    if (!st.outbound.has_value() || ids.count(st.outbound->association_id) == 0) continue;
    LogInfo("rekey_requested")
        .Kv("entry", id)
        .Kv("association", st.outbound->association_id)
        .Kv("reason", rekey.reason());
    // As at soft expiry (FIG. 27): a failed rekey is retried while the SA
    // lives, a setup in flight serves as well, and the current SAs stay
    // until the new ones are in (make-before-break).
    st.soft_expired = true;
    if (st.installing || client_.InFlight(id)) continue;
    AbsorbLocked(client_.Begin(id, SetupTrigger::kRekey), work);
  }
}

}  // namespace ikeless::agent
