// The datapath work the agent core decided under its state lock and carries
// out without it (agent_core.h): installs (S45/S57, inbound before
// outbound, then S36), drops of held packets (S37) and the removal of
// superseded inbound SAs after their grace.
#include <algorithm>

#include "agent/agent_core.h"
#include "common/log.h"
#include "common/secret.h"

namespace ikeless::agent {

using datapath::Direction;
using datapath::SaKey;

void AgentCore::Execute(Work& work) {
  for (Op& op : work.ops) {
    switch (op.kind) {
      case Op::Kind::kInstall:
        Install(op, work);
        break;
      case Op::Kind::kDropHeld:
        datapath_->DropHeld(op.spd_entry);  // S37
        break;
      case Op::Kind::kRemoveInbound:
        RemoveInbound(op, work);
        break;
      case Op::Kind::kSwitchOutbound:
        SwitchOutbound(op, work);
        break;
    }
  }
  work.ops.clear();
}

void AgentCore::Install(Op& op, Work& work) {
  const uint32_t e = op.spd_entry;
  v1::Distribution& d = op.setup.distribution;
  // The outbound successors wait in the entry's state; the datapath gets
  // each SA without them.
  SuccessorKeys next_outbound;
  next_outbound.Reset(d.association_id(), *d.mutable_outbound());
  google::protobuf::RepeatedPtrField<v1::SaParameters> next_inbound;
  next_inbound.Swap(d.mutable_inbound()->mutable_successors());
  // Inbound first: the peer may switch to its new outbound SA (our new
  // inbound) as soon as it has installed it, and to the successors later
  // without asking anyone, so an association whose successors cannot all
  // be installed is not installed at all (the peer would send into SAs we
  // do not have). The successors before the current SA: the ESP engine
  // takes the newest inbound SA as the one whose traffic shows the peer
  // is ready for the new outbound one (make-before-break).
  std::vector<SaInfo> standby;
  absl::Status s = InstallStandbyInbound(e, next_inbound, d.association_id(), standby);
  for (v1::SaParameters& sa : next_inbound) WipeKeys(&sa);
  bool inbound_in = false;
  if (s.ok()) {
    s = datapath_->InstallSa(e, Direction::kInbound, d.inbound());
    inbound_in = s.ok();
  }
  // Then outbound, which the datapath switches over to make-before-break.
  if (s.ok()) s = datapath_->InstallSa(e, Direction::kOutbound, d.outbound());
  if (s.ok()) datapath_->ReleaseHeld(e);  // S36/S46; harmless if none held
  if (!s.ok()) {
    LogError("sa_install_failed")
        .Kv("entry", e)
        .Kv("request_id", op.setup.request_id)
        .Kv("direction", inbound_in ? "out" : "in")
        .Kv("successors_installed", static_cast<uint64_t>(standby.size()))
        .Kv("reason", s.message());
    std::vector<SaKey> installed;
    if (inbound_in) installed.push_back(SaKey{d.inbound().destination(), d.inbound().spi()});
    for (const SaInfo& sa : standby) installed.push_back(sa.key);
    for (const SaKey& key : installed) {
      absl::Status r = datapath_->RemoveSa(Direction::kInbound, key);
      if (!r.ok()) LogWarning("sa_remove_failed").Kv("entry", e).Kv("reason", r.message());
    }
    standby.clear();
    datapath_->DropHeld(e);  // S37: the setup failed after all
  }
  absl::MutexLock l(&mu_);
  EntryState& st = entries_[e];
  st.installing = false;
  // Reserved successor SPIs without an installed SA go back to the pool.
  for (uint32_t spi : op.setup.successor_spis) {
    if (std::none_of(standby.begin(), standby.end(),
                     [&](const SaInfo& sa) { return sa.key.spi == spi; })) {
      client_.ReleaseSpi(spi);
    }
  }
  if (!s.ok()) {
    client_.ReleaseSpi(op.setup.spi);
    ScheduleRekeyRetryLocked(e, st);
    return;
  }
  const absl::Time now = clock_->Monotonic();
  if (st.inbound.has_value()) {
    // The previous inbound SA still receives what the peer sent before it
    // switched; it goes after the grace. The previous outbound SA is
    // replaced by the datapath.
    st.retiring.push_back({std::move(*st.inbound), now + options_.old_sa_grace});
  }
  // So do the previous association's inbound successors (the peer may have
  // switched to one just before it installed this association).
  for (SaInfo& sa : st.standby_inbound) {
    st.retiring.push_back({std::move(sa), now + options_.old_sa_grace});
  }
  st.standby_inbound = std::move(standby);
  st.next_outbound = std::move(next_outbound);
  if (st.outbound.has_value() && !(st.outbound->key.spi == d.outbound().spi() &&
                                   st.outbound->key.destination == d.outbound().destination())) {
    st.superseded_outbound.push_back(std::move(*st.outbound));
  }
  st.inbound = InfoFor(d.inbound(), d.association_id(), now);
  st.outbound = InfoFor(d.outbound(), d.association_id(), now);
  st.soft_expired = false;
  st.rekey_retry_at = absl::InfiniteFuture();
  work.messages.push_back(SaEventFor(v1::SaEvent::INSTALLED, *st.inbound));
  work.messages.push_back(SaEventFor(v1::SaEvent::INSTALLED, *st.outbound));
  LogInfo("sa_installed")
      .Kv("entry", e)
      .Kv("association", d.association_id())
      .Kv("spi_in", st.inbound->key.spi)
      .Kv("spi_out", st.outbound->key.spi)
      .Kv("soft_seconds", st.outbound->soft_seconds)
      .Kv("successors", static_cast<uint64_t>(st.next_outbound.size()));
}

void AgentCore::RemoveInbound(const Op& op, Work& work) {
  absl::StatusOr<datapath::SaCounters> counters =
      datapath_->Counters(Direction::kInbound, op.key);
  absl::Status s = datapath_->RemoveSa(Direction::kInbound, op.key);
  absl::MutexLock l(&mu_);
  EntryState& st = entries_[op.spd_entry];
  auto it = std::find_if(st.retiring.begin(), st.retiring.end(),
                         [&](const Retiring& r) { return r.sa.key == op.key; });
  if (it == st.retiring.end()) return;  // hard-expired meanwhile; forgotten there
  if (!s.ok() && !absl::IsNotFound(s)) {
    LogWarning("sa_remove_failed").Kv("entry", op.spd_entry).Kv("reason", s.message());
    it->remove_at = clock_->Monotonic() + options_.old_sa_grace;  // try again
    return;
  }
  work.messages.push_back(
      SaEventFor(v1::SaEvent::DELETED, it->sa, counters.ok() ? &*counters : nullptr));
  LogInfo("sa_retired").Kv("entry", op.spd_entry).Kv("spi", op.key.spi);
  client_.ReleaseSpi(op.key.spi);
  st.retiring.erase(it);
}

}  // namespace ikeless::agent
