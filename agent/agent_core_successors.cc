// Successor keys in the agent core (agent/successor_keys.h, DECISIONS 33):
// the inbound successors an association brings are installed ahead, and at
// the soft lifetime of the current outbound SA the core switches to the
// next outbound successor on its own, make-before-break, so the pair keeps
// moving to fresh keys while the controller cannot be reached.
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/agent_core.h"
#include "agent/lifetime_jitter.h"
#include "common/log.h"
#include "common/secret.h"

namespace ikeless::agent {

using datapath::Direction;

absl::Status AgentCore::InstallStandbyInbound(
    uint32_t spd_entry, const google::protobuf::RepeatedPtrField<v1::SaParameters>& successors,
    uint64_t association_id, std::vector<SaInfo>& installed) {
  const absl::Time now = clock_->Monotonic();
  int generation = 0;
  for (const v1::SaParameters& next : successors) {
    ++generation;
    v1::SaParameters sa = next;
    *sa.mutable_lifetime() = StandbyInboundLifetime(next.lifetime(), generation);
    absl::Status s = datapath_->InstallSa(spd_entry, Direction::kInbound, sa);
    WipeKeys(&sa);
    if (!s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("successor ", generation, " inbound: ", s.message()));
    }
    installed.push_back(InfoFor(sa, association_id, now));
  }
  return absl::OkStatus();
}

void AgentCore::SwitchOutbound(const Op& op, Work& work) {
  const uint32_t e = op.spd_entry;
  v1::SaParameters next;
  uint64_t association_id = 0;
  {
    absl::MutexLock l(&mu_);
    EntryState* st = StateLocked(e);
    if (st == nullptr) return;
    // Only from the SA whose soft lifetime ended (or, after its hard
    // expiry, from none): an install since then brought a fresh
    // association and successors of its own.
    const bool current = op.after_hard_expiry
                             ? !st->outbound.has_value()
                             : st->outbound.has_value() && st->outbound->key == op.key;
    if (!current || !st->next_outbound.TakeNext(&next)) return;
    association_id = st->next_outbound.association_id();
    JitterSoftLifetime(next.mutable_lifetime(), options_.rekey_jitter, *random_);
  }
  absl::Status s = datapath_->InstallSa(e, Direction::kOutbound, next);
  absl::MutexLock l(&mu_);
  EntryState& st = entries_[e];
  if (!s.ok()) {
    // The current SA goes on until its hard lifetime; the rekey (or its
    // retry) may still replace it.
    LogError("sa_install_failed")
        .Kv("entry", e)
        .Kv("direction", "out")
        .Kv("successor_spi", next.spi())
        .Kv("reason", s.message());
    WipeKeys(&next);
    return;
  }
  const absl::Time now = clock_->Monotonic();
  if (st.outbound.has_value()) st.superseded_outbound.push_back(std::move(*st.outbound));
  st.outbound = InfoFor(next, association_id, now);
  WipeKeys(&next);
  // soft_expired and a scheduled rekey retry stay: the rekey the soft
  // expiry (or a RekeyNow) asked for is still owed, and keeps being
  // retried while the controller is away.
  work.messages.push_back(SaEventFor(v1::SaEvent::INSTALLED, *st.outbound));
  LogInfo("sa_switched_to_successor")
      .Kv("entry", e)
      .Kv("association", association_id)
      .Kv("old_spi", op.key.spi)
      .Kv("spi_out", st.outbound->key.spi)
      .Kv("soft_seconds", st.outbound->soft_seconds)
      .Kv("successors_left", static_cast<uint64_t>(st.next_outbound.size()));
}

}  // namespace ikeless::agent
