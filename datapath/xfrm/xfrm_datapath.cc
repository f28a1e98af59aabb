#include "datapath/xfrm/xfrm_datapath.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/secret.h"
#include "datapath/xfrm/xfrm_stat.h"

namespace ikeless::datapath::xfrm {
void XfrmDatapath::PendingOutbound::Wipe::operator()(v1::SaParameters* sa) const {
  WipeKeys(sa);
  delete sa;
}

v1::Capabilities XfrmDatapath::capabilities() const {
  v1::Capabilities c;
  c.set_datapath("xfrm");
  // The engine's set (xfrm_algorithms.h), so mixed fleets agree.
  for (auto e : {v1::ENCRYPTION_AES_GCM_16, v1::ENCRYPTION_CHACHA20_POLY1305, v1::ENCRYPTION_AES_CBC,
                 v1::ENCRYPTION_NULL}) {
    c.add_encryption(e);
  }
  for (auto i : {v1::INTEGRITY_NONE, v1::INTEGRITY_HMAC_SHA2_256_128, v1::INTEGRITY_HMAC_SHA2_384_192,
                 v1::INTEGRITY_HMAC_SHA2_512_256, v1::INTEGRITY_HMAC_SHA1_96}) {
    c.add_integrity(i);
  }
  c.set_transport_mode(true);
  c.set_tunnel_mode(true);
  c.set_udp_encapsulation(options_.udp_port != 0);
  // The kernel drops ESP for an SPI it does not know yet; the controller
  // then lets us install before the peer releases its first packets.
  c.set_drops_early_esp(true);
  return c;
}

absl::Status XfrmDatapath::SetPolicies(const std::vector<SpdEntry>& entries) {
  absl::MutexLock l(&mu_);
  if (entries.size() >= kReqidSpan) {
    return absl::InvalidArgumentError(
        absl::StrCat("spd: ", entries.size(), " entries; at most ", kReqidSpan - 1, " fit"));
  }
  std::map<uint32_t, Entry> next;
  std::map<PolicySlot, uint32_t> traffic;  // the out policy's slot -> entry id
  std::vector<PolicySpec> wanted;
  uint32_t position = 0;
  for (SpdEntry e : entries) {
    ++position;
    // The kernel's spelling: two spellings of one prefix are one slot.
    e.local_prefix = CanonicalPrefixText(e.local_prefix);
    e.remote_prefix = CanonicalPrefixText(e.remote_prefix);
    if (e.id == 0 || e.id >= kReqidSpan) {
      return absl::InvalidArgumentError(absl::StrCat("spd entry id ", e.id, ": must be 1..65535"));
    }
    if (e.protocol > 255 || e.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("spd entry ", e.id, " (", e.name, "): protocol must be 0..255, port 0..65535"));
    }
    Entry n{e, !LooksLikeTransport(e), position, {}};
    if (auto old = entries_.find(e.id); old != entries_.end() &&
        old->second.spd.local_prefix == e.local_prefix &&
        old->second.spd.remote_prefix == e.remote_prefix && old->second.spd.setup_peer == e.setup_peer) {
      n.tunnel = old->second.tunnel;  // keep what the controller's SA decided
    }
    n.policies = PoliciesFor(e, position, n.tunnel, options_.mapping);
    for (const PolicySpec& p : n.policies) {  // validate all before touching the kernel
      auto m = UpdatePolicyMessage(p);
      if (!m.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("spd entry ", e.id, " (", e.name, "): ",
                                                       m.status().message()));
      }
    }
    // The kernel keys policies by selector and direction: a second entry
    // with the same traffic would replace the first, not follow it.
    if (auto [it, fresh] = traffic.emplace(SlotOf(n.policies[0]), e.id); !fresh) {
      return absl::InvalidArgumentError(absl::StrCat("spd entry ", e.id, " (", e.name,
                                                     "): same traffic as entry ", it->second));
    }
    wanted.insert(wanted.end(), n.policies.begin(), n.policies.end());
    if (!next.emplace(e.id, std::move(n)).second) {
      return absl::InvalidArgumentError(absl::StrCat("spd entry id ", e.id, ": duplicate"));
    }
  }
  PolicyChanges changes = DiffPolicies(installed_, wanted);
  absl::Status first;
  for (const PolicySpec& p : changes.put) {
    if (absl::Status s = PutPolicyLocked(p); !s.ok() && first.ok()) first = s;
  }
  // Fail closed: while a new policy is missing, none of the old goes.
  if (first.ok()) {
    for (const PolicySpec& p : changes.remove) (void)RemovePolicyLocked(p);
  }
  for (const auto& [id, old] : entries_) {
    if (next.count(id) == 0) pending_.erase(id);  // its SAs stay until RemoveSa
  }
  entries_ = std::move(next);
  LogInfo("xfrm_spd_installed")
      .Kv("entries", static_cast<int64_t>(entries_.size()))
      .Kv("policies_sent", static_cast<int64_t>(changes.put.size()))
      .Kv("policies_removed", static_cast<int64_t>(first.ok() ? changes.remove.size() : 0));
  return first;
}

absl::Status XfrmDatapath::PutPolicyLocked(const PolicySpec& p) {
  if (auto it = installed_.find(SlotOf(p)); it != installed_.end() && SamePolicy(it->second, p)) {
    return absl::OkStatus();
  }
  auto m = UpdatePolicyMessage(p);
  if (!m.ok()) return m.status();
  if (absl::Status s = requests_.Transact(*m, "install policy"); !s.ok()) return s;
  installed_[SlotOf(p)] = p;
  return absl::OkStatus();
}

absl::Status XfrmDatapath::RemovePolicyLocked(const PolicySpec& p) {
  auto m = DeletePolicyMessage(p);
  if (!m.ok()) return m.status();
  absl::Status s = requests_.Transact(*m, "remove policy");
  if (s.ok() || absl::IsNotFound(s)) {
    installed_.erase(SlotOf(p));
    return absl::OkStatus();
  }
  LogWarning("xfrm_policy_remove_failed").Kv("error", s.message());
  return s;  // still ours: the next SetPolicies tries again
}

absl::Status XfrmDatapath::SetModeLocked(Entry& entry, bool tunnel) {
  std::vector<PolicySpec> policies = PoliciesFor(entry.spd, entry.position, tunnel, options_.mapping);
  for (const PolicySpec& p : entry.policies) {  // fwd comes and goes with tunnel mode
    bool kept = false;
    for (const PolicySpec& q : policies) kept |= SameSlot(p, q);
    if (!kept) (void)RemovePolicyLocked(p);
  }
  for (const PolicySpec& p : policies) {
    if (absl::Status s = PutPolicyLocked(p); !s.ok()) return s;
  }
  entry.policies = std::move(policies);
  entry.tunnel = tunnel;
  LogInfo("xfrm_entry_mode").Kv("entry", entry.spd.id).Kv("mode", tunnel ? "tunnel" : "transport");
  return absl::OkStatus();
}

absl::Status XfrmDatapath::WriteStateLocked(uint32_t spd_entry, Direction direction,
                                            const v1::SaParameters& sa) {
  StateOptions o;
  o.reqid = options_.mapping.ReqidOf(spd_entry);
  o.encap_source_port = o.encap_destination_port = options_.udp_port;
  auto m = StateMessage(sa, o, /*update=*/false);
  if (!m.ok()) return m.status();
  absl::Status s = requests_.Transact(*m, "add ESP state");
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    // Not one of ours (InstallSa answered those): another daemon's SA.
    return absl::AlreadyExistsError(absl::StrCat("an SA with SPI ", sa.spi(), " to ",
                                                 sa.destination(), " exists and is not this agent's"));
  }
  if (s.code() == absl::StatusCode::kUnimplemented) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this kernel cannot hold this ESP state (", s.message(),
        "): it lacks the ESP transform (CONFIG_INET_ESP: esp4/esp6) or the SA's algorithm "
        "(see /proc/crypto); load them, or use the in-process ESP engine (esp {} instead of "
        "xfrm {} in the agent's configuration)"));
  }
  if (!s.ok()) return s;
  sas_[{CanonicalAddressText(sa.destination()), sa.spi()}] = Sa{spd_entry, direction, next_order_++};
  LogInfo("xfrm_sa_installed")
      .Kv("entry", spd_entry)
      .Kv("direction", DirectionName(direction))
      .Kv("spi", sa.spi());
  return absl::OkStatus();
}

absl::Status XfrmDatapath::InstallSa(uint32_t spd_entry, Direction direction,
                                     const v1::SaParameters& sa) {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(spd_entry);
  if (it == entries_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("spd entry ", spd_entry, " is not in the SPD"));
  }
  if (it->second.spd.action != SpdEntry::Action::kProtect) {
    return absl::FailedPreconditionError(absl::StrCat("spd entry ", spd_entry, " is not PROTECT"));
  }
  // Validate before anything changes: a bad SA leaves the kernel as it was.
  if (auto m = StateMessage(sa, StateOptions{}, false); !m.ok()) return m.status();
  const bool tunnel = sa.mode() != v1::MODE_TRANSPORT;
  if (tunnel != it->second.tunnel) {
    if (auto s = SetModeLocked(it->second, tunnel); !s.ok()) return s;
  }
  const SaId id{CanonicalAddressText(sa.destination()), sa.spi()};
  if (auto it = sas_.find(id); it != sas_.end()) {
    // Idempotent for the same SA; never re-keys or moves an installed one.
    if (it->second.entry == spd_entry && it->second.direction == direction) return absl::OkStatus();
    return absl::AlreadyExistsError(absl::StrCat("SPI ", sa.spi(), " to ", sa.destination(),
                                                 " is installed for SPD entry ", it->second.entry));
  }
  if (direction == Direction::kInbound) return WriteStateLocked(spd_entry, direction, sa);

  auto current = current_outbound_.find(spd_entry);
  if (current == current_outbound_.end()) {
    if (auto s = WriteStateLocked(spd_entry, direction, sa); !s.ok()) return s;
    current_outbound_[spd_entry] = id;
    return absl::OkStatus();
  }
  // Make-before-break: wait for the peer to show it has the matching
  // inbound SA, or for switch_delay.
  auto pending = pending_.find(spd_entry);
  if (pending != pending_.end() && pending->second.sa->spi() == sa.spi()) return absl::OkStatus();
  PendingOutbound p;
  p.sa.reset(new v1::SaParameters(sa));
  p.deadline = options_.clock->Monotonic() + options_.switch_delay;
  p.after = sas_.count(current->second) ? sas_[current->second].order : 0;
  pending_[spd_entry] = std::move(p);
  LogInfo("xfrm_sa_outbound_pending").Kv("entry", spd_entry).Kv("spi", sa.spi());
  return absl::OkStatus();
}

std::map<XfrmDatapath::SaId, XfrmDatapath::Sa>::iterator XfrmDatapath::ForgetSaLocked(
    std::map<SaId, Sa>::iterator it) {
  auto current = current_outbound_.find(it->second.entry);
  if (current != current_outbound_.end() && current->second == it->first) {
    current_outbound_.erase(current);
  }
  return sas_.erase(it);
}

const XfrmDatapath::Sa* XfrmDatapath::FindSaLocked(Direction direction, const SaId& id) const {
  auto it = sas_.find(id);
  return it != sas_.end() && it->second.direction == direction ? &it->second : nullptr;
}

absl::Status XfrmDatapath::RemoveSa(Direction direction, const SaKey& key) {
  absl::MutexLock l(&mu_);
  const SaId id{CanonicalAddressText(key.destination), key.spi};
  if (direction == Direction::kOutbound) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->second.sa->spi() == key.spi && CanonicalAddressText(it->second.sa->destination()) == id.first) {
        pending_.erase(it);
        return absl::OkStatus();
      }
    }
  }
  // Only our own: the same (destination, SPI) may be another daemon's.
  const Sa* sa = FindSaLocked(direction, id);
  if (sa == nullptr) {
    return absl::NotFoundError(absl::StrCat("no ", DirectionName(direction), "bound SA ", key.spi, " to ",
                                            key.destination));
  }
  auto m = DeleteStateMessage(id.first, id.second);
  if (!m.ok()) return m.status();
  absl::Status s = requests_.Transact(*m, "remove ESP state");
  // Gone already (a hard expiry we have not read yet) is as good as removed;
  // any other failure keeps the SA ours, so a retry can remove it.
  if (!s.ok() && s.code() != absl::StatusCode::kNotFound) return s;
  ForgetSaLocked(sas_.find(id));
  SwitchDueLocked(options_.clock->Monotonic());
  return absl::OkStatus();
}

void XfrmDatapath::ReleaseHeld(uint32_t) {}
void XfrmDatapath::DropHeld(uint32_t) {}

DropCounts XfrmDatapath::Drops() { return ReadXfrmStat(); }

absl::StatusOr<SaCounters> XfrmDatapath::Counters(Direction direction, const SaKey& key) {
  absl::MutexLock l(&mu_);
  const SaId id{CanonicalAddressText(key.destination), key.spi};
  for (const auto& [entry, p] : pending_) {
    if (direction == Direction::kOutbound && p.sa->spi() == key.spi &&
        CanonicalAddressText(p.sa->destination()) == id.first) {
      return SaCounters{};
    }
  }
  if (FindSaLocked(direction, id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no ", DirectionName(direction), "bound SA ", key.spi, " to ",
                                            key.destination));
  }
  auto m = GetStateMessage(id.first, id.second);
  if (!m.ok()) return m.status();
  SaCounters c;
  absl::Status s = requests_.Transact(*m, "read ESP state", [&](const nlmsghdr* r) {
    if (auto st = ParseState(r)) {
      c.packets = st->packets;
      c.bytes = st->bytes;
      c.replay_drops = st->replay_drops;
      c.integrity_failures = st->integrity_failures;
    }
  });
  if (!s.ok()) return s;
  return c;
}

void XfrmDatapath::SetEventSink(std::function<void(const DatapathEvent&)> sink) {
  absl::MutexLock l(&sink_mu_);
  sink_ = std::move(sink);
}

}  // namespace ikeless::datapath::xfrm
