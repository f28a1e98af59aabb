// The event thread of XfrmDatapath: kernel ACQUIRE and EXPIRE messages
// become datapath events, a lost batch of them is recovered from a state
// dump, and waiting outbound SAs are written when their time comes
// (make-before-break).

#include <ctime>

#include "common/log.h"
#include "datapath/xfrm/xfrm_datapath.h"

namespace ikeless::datapath::xfrm {

void XfrmDatapath::Run() {
  while (!stop_) {
    std::vector<DatapathEvent> events;
    absl::Status s = events_.Receive(options_.poll_interval, [&](const nlmsghdr* m) {
      OnKernelMessage(m, events);
    });
    if (s.code() == absl::StatusCode::kResourceExhausted) {
      LogWarning("xfrm_events_lost").Kv("recovery", "comparing our SAs with the kernel's");
      absl::MutexLock l(&mu_);
      ResyncLocked(events);
    } else if (!s.ok()) {
      LogError("xfrm_events").Kv("error", s.message());
    }
    {
      absl::MutexLock l(&mu_);
      if (!pending_.empty()) SwitchDueLocked(options_.clock->Monotonic());
      events.insert(events.end(), undelivered_.begin(), undelivered_.end());
      undelivered_.clear();
    }
    Deliver(events);
  }
}

void XfrmDatapath::OnKernelMessage(const nlmsghdr* message, std::vector<DatapathEvent>& events) {
  if (auto a = ParseAcquire(message)) {
    std::optional<uint32_t> entry = options_.mapping.EntryOf(a->reqid);
    if (!entry) return;  // another daemon's policy
    absl::MutexLock l(&mu_);
    auto it = entries_.find(*entry);
    if (it == entries_.end() || it->second.spd.action != SpdEntry::Action::kProtect) return;
    LogDebug("xfrm_acquire").Kv("entry", *entry).Kv("destination", a->inner_destination);
    events.push_back(DatapathEvent{DatapathEvent::Kind::kAcquire, *entry, Direction::kOutbound, {}});
    return;
  }
  if (auto e = ParseExpire(message)) {
    if (!options_.mapping.Owns(e->state.reqid)) return;
    absl::MutexLock l(&mu_);
    auto it = sas_.find({e->state.destination, e->state.spi});
    if (it == sas_.end()) return;
    events.push_back(DatapathEvent{
        e->hard ? DatapathEvent::Kind::kHardExpire : DatapathEvent::Kind::kSoftExpire,
        it->second.entry, it->second.direction, SaKey{e->state.destination, e->state.spi}});
    if (e->hard) ForgetSaLocked(it);  // the kernel deleted it (xfrm_timer_handler)
  }
}

void XfrmDatapath::ResyncLocked(std::vector<DatapathEvent>& events) {
  std::map<SaId, KernelState> kernel;
  absl::Status s = requests_.Dump(XFRM_MSG_GETSA, [&](const nlmsghdr* m) {
    if (auto st = ParseState(m); st && options_.mapping.Owns(st->reqid)) {
      kernel[{st->destination, st->spi}] = *st;
    }
  });
  if (!s.ok()) {
    LogError("xfrm_resync_failed").Kv("error", s.message());
    return;
  }
  // Wall time on purpose: the kernel stamps add_time and runs the state's
  // lifetimes on its real-time seconds, so ours must be the same clock.
  const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  for (auto it = sas_.begin(); it != sas_.end();) {
    const SaKey key{it->first.first, it->first.second};
    auto k = kernel.find(it->first);
    if (k == kernel.end()) {  // hard-expired while we were not listening
      events.push_back(DatapathEvent{DatapathEvent::Kind::kHardExpire, it->second.entry,
                                     it->second.direction, key});
      it = ForgetSaLocked(it);
      continue;
    }
    const KernelState& st = k->second;
    // The agent ignores a soft expiry it has already acted on.
    if ((st.soft_add_expires_seconds != 0 && now >= st.add_time + st.soft_add_expires_seconds) ||
        st.bytes >= st.soft_byte_limit || st.packets >= st.soft_packet_limit) {
      events.push_back(DatapathEvent{DatapathEvent::Kind::kSoftExpire, it->second.entry,
                                     it->second.direction, key});
    }
    ++it;
  }
}

void XfrmDatapath::SwitchDueLocked(absl::Time now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    const uint32_t entry = it->first;
    bool due = now >= it->second.deadline || current_outbound_.count(entry) == 0;
    for (const auto& [id, sa] : sas_) {
      if (due) break;
      if (sa.entry != entry || sa.direction != Direction::kInbound || sa.order <= it->second.after) {
        continue;
      }
      auto m = GetStateMessage(id.first, id.second);
      (void)requests_.Transact(*m, "read state", [&](const nlmsghdr* r) {
        if (auto st = ParseState(r); st && st->packets > 0) due = true;
      });
    }
    if (!due) {
      ++it;
      continue;
    }
    const v1::SaParameters& sa = *it->second.sa;
    if (absl::Status s = WriteStateLocked(entry, Direction::kOutbound, sa); s.ok()) {
      current_outbound_[entry] = {CanonicalAddressText(sa.destination()), sa.spi()};
    } else {
      LogError("xfrm_outbound_switch_failed").Kv("entry", entry).Kv("error", s.message());
      // The agent believes it installed: tell it the SA is gone, so it
      // sets up a new one now rather than when the old one expires.
      undelivered_.push_back(DatapathEvent{DatapathEvent::Kind::kHardExpire, entry,
                                           Direction::kOutbound,
                                           SaKey{CanonicalAddressText(sa.destination()), sa.spi()}});
    }
    it = pending_.erase(it);
  }
}

void XfrmDatapath::Deliver(const std::vector<DatapathEvent>& events) {
  if (events.empty()) return;
  // Under sink_mu_ (as the engine) so that SetEventSink waits for a
  // delivery in flight; never under mu_: the sink may take its own locks.
  absl::MutexLock l(&sink_mu_);
  if (!sink_) return;
  for (const DatapathEvent& e : events) sink_(e);
}

}  // namespace ikeless::datapath::xfrm
