// The packet half of EspEngine: outbound and inbound processing, held and
// parked packets. The SAD half is esp_engine_sad.cc.

#include "datapath/esp/esp_engine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace ikeless::datapath::esp {

EspEngine::EspEngine(Clock* clock, RandomSource* random, EngineOptions options)
    : clock_(clock), random_(random), options_(options), now_(clock->Monotonic()) {}

absl::Status EspEngine::SetPolicies(const std::vector<SpdEntry>& entries) {
  auto spd = Spd::Compile(entries);
  if (!spd.ok()) return spd.status();
  spd_ = std::move(*spd);
  // Held packets of entries that are gone or no longer protect are dropped.
  for (auto& [id, entry] : entries_) {
    const SpdEntry* e = spd_.Find(id);
    if (e == nullptr || e->action != SpdEntry::Action::kProtect) {
      stats_.held_dropped += entry.held.size();
      entry.held.clear();
      entry.acquiring = false;
    }
  }
  return absl::OkStatus();
}

void EspEngine::ReleaseHeld(uint32_t spd_entry, EngineOutput* out) {
  auto it = entries_.find(spd_entry);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  if (entry.active == nullptr) {
    // The agent says the SA is in, but there is none (hard-expired or
    // removed meanwhile): drop rather than hold forever; the next packet
    // asks again.
    if (!entry.held.empty()) {
      LogWarning("esp_release_without_sa")
          .Kv("spd_entry", spd_entry)
          .Kv("dropped", uint64_t{entry.held.size()});
    }
    stats_.held_dropped += entry.held.size();
    entry.held.clear();
    entry.acquiring = false;
    return;
  }
  FlushHeld(spd_entry, entry, out);
}

void EspEngine::DropHeld(uint32_t spd_entry) {
  auto it = entries_.find(spd_entry);
  if (it == entries_.end()) return;
  stats_.held_dropped += it->second.held.size();
  it->second.held.clear();
  it->second.acquiring = false;  // S37: the next packet raises kAcquire again
}

absl::StatusOr<SaCounters> EspEngine::Counters(Direction direction, const SaKey& key) const {
  SecurityAssociation* sa = FindSa(direction, key);
  if (sa == nullptr) {
    return absl::NotFoundError(absl::StrCat("no ", DirectionName(direction), "bound SA ", SpiText(key.spi),
                                            " to ", key.destination));
  }
  return sa->counters();
}

void EspEngine::ProcessOutbound(std::span<const uint8_t> packet, EngineOutput* out) {
  auto info = ParseIpPacket(packet);
  if (!info.ok()) {
    stats_.out_malformed++;
    return;
  }
  packet = packet.first(info->length);
  const SpdEntry* e = spd_.MatchOutbound(*info);
  if (e == nullptr) {
    stats_.out_no_policy++;
    return;
  }
  switch (e->action) {
    case SpdEntry::Action::kBypass:
      stats_.out_bypassed++;
      out->bypass.emplace_back(packet.begin(), packet.end());
      return;
    case SpdEntry::Action::kDiscard:
      stats_.out_discarded++;
      return;
    case SpdEntry::Action::kProtect:
      break;
  }
  Entry& entry = entries_[e->id];
  if (entry.pending != nullptr &&
      clock_->Monotonic() - entry.pending_since >= options_.switch_delay) {
    Switch(e->id, entry);
  }
  if (entry.active == nullptr) {
    Hold(e->id, entry, packet, out);
    return;
  }
  if (!entry.held.empty()) FlushHeld(e->id, entry, out);  // keep the order
  Send(e->id, entry, packet, *info, out);
}

void EspEngine::Hold(uint32_t id, Entry& entry, std::span<const uint8_t> packet,
                     EngineOutput* out) {
  if (entry.held.size() >= options_.max_held_per_entry) {
    stats_.held_overflow++;
  } else {
    entry.held.emplace_back(packet.begin(), packet.end());
    stats_.held++;
  }
  if (!entry.acquiring) {
    // S35: one request per entry until an SA arrives or DropHeld.
    entry.acquiring = true;
    stats_.acquires++;
    DatapathEvent ev;
    ev.kind = DatapathEvent::Kind::kAcquire;
    ev.spd_entry = id;
    out->events.push_back(ev);
  }
}

void EspEngine::FlushHeld(uint32_t id, Entry& entry, EngineOutput* out) {
  std::deque<std::vector<uint8_t>> held;
  held.swap(entry.held);
  for (const std::vector<uint8_t>& p : held) {
    auto info = ParseIpPacket(p);  // parsed fine when it was held
    if (!info.ok()) continue;
    stats_.held_released++;
    if (entry.active == nullptr) {
      Hold(id, entry, p, out);
    } else {
      Send(id, entry, p, *info, out);
    }
  }
}

void EspEngine::Send(uint32_t id, Entry& entry, std::span<const uint8_t> packet,
                     const PacketInfo& info, EngineOutput* out) {
  SecurityAssociation* sa = entry.active;
  std::vector<uint8_t> esp;
  switch (sa->Protect(packet, info, &esp)) {
    case SecurityAssociation::ProtectResult::kOk:
      stats_.out_protected++;
      out->to_network.push_back({sa->destination(), std::move(esp)});
      HandleExpiry(sa, sa->CheckLifetime(now_), out);
      return;
    case SecurityAssociation::ProtectResult::kTransportFragment:
      stats_.transport_fragments++;
      return;
    case SecurityAssociation::ProtectResult::kSeqExhausted:
      // §3.3.3: never cycle the counter; the SA is over. A successor, if
      // installed, carries the packet; otherwise it waits for a new SA.
      stats_.seq_exhausted++;
      HandleExpiry(sa, SecurityAssociation::Expiry::kHard, out);  // removes `sa`
      if (entry.active != nullptr) {
        Send(id, entry, packet, info, out);
      } else {
        Hold(id, entry, packet, out);
      }
      return;
    case SecurityAssociation::ProtectResult::kError:
      stats_.out_errors++;
      return;
  }
}

void EspEngine::ProcessInbound(std::span<uint8_t> packet, EngineOutput* out) {
  auto header = ParseEspHeader(packet);
  if (!header.has_value()) {
    stats_.in_malformed++;
    return;
  }
  if (header->spi < 256) {  // RFC 4303 §2.1: reserved
    stats_.in_reserved_spi++;
    return;
  }
  auto it = inbound_.find(header->spi);
  if (it == inbound_.end()) {
    Park(header->spi, packet);
    return;
  }
  Deliver(it->second.get(), packet, out);
}

void EspEngine::Deliver(SecurityAssociation* sa, std::span<uint8_t> packet, EngineOutput* out) {
  using R = SecurityAssociation::UnprotectResult;
  std::vector<uint8_t> inner;
  switch (sa->Unprotect(packet, &inner)) {
    case R::kOk: break;
    case R::kTruncated:
    case R::kMisaligned: stats_.in_truncated++; return;
    case R::kReplay:
    case R::kTooOld: stats_.replay++; return;
    case R::kIntegrity: stats_.integrity++; return;
    case R::kBadPadding: stats_.bad_padding++; return;
    case R::kDummy: stats_.dummy++; return;
    case R::kBadNextHeader: stats_.bad_next_header++; return;
    case R::kError: stats_.in_errors++; return;
  }
  auto info = ParseIpPacket(inner);
  if (!info.ok()) {
    stats_.bad_inner++;
    return;
  }
  if (!spd_.AllowsInbound(sa->spd_entry(), *info)) {
    stats_.policy_mismatch++;
    return;
  }
  stats_.in_delivered++;
  out->to_tun.push_back(std::move(inner));

  // Make-before-break: traffic on the newest inbound SA shows the peer has
  // our new SAs, so our new outbound SA may take over.
  auto e = entries_.find(sa->spd_entry());
  if (e != entries_.end() && e->second.newest_inbound == sa && PeerReady(e->second)) {
    Switch(sa->spd_entry(), e->second);
  }
  HandleExpiry(sa, sa->CheckLifetime(now_), out);
}

void EspEngine::Park(uint32_t spi, std::span<const uint8_t> packet) {
  if (options_.max_parked == 0) {
    stats_.unknown_spi++;
    return;
  }
  if (parked_.size() >= options_.max_parked) {
    parked_.pop_front();
    stats_.unknown_spi++;
  }
  parked_.push_back(
      {clock_->Monotonic(), spi, std::vector<uint8_t>(packet.begin(), packet.end())});
  stats_.parked++;
}

void EspEngine::UnparkInstalled(EngineOutput* out) {
  std::vector<std::vector<uint8_t>> ready;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (inbound_.count(it->spi)) {
      ready.push_back(std::move(it->packet));
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  for (std::vector<uint8_t>& p : ready) {
    stats_.unparked++;
    ProcessInbound(p, out);
  }
}

void EspEngine::Unpark(uint32_t spi, EngineOutput* out) {
  std::vector<std::vector<uint8_t>> mine;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->spi == spi) {
      mine.push_back(std::move(it->packet));
      it = parked_.erase(it);
    } else {
      ++it;
    }
  }
  for (std::vector<uint8_t>& p : mine) {
    stats_.unparked++;
    ProcessInbound(p, out);
  }
}

size_t EspEngine::held_count(uint32_t spd_entry) const {
  auto it = entries_.find(spd_entry);
  return it == entries_.end() ? 0 : it->second.held.size();
}

uint32_t EspEngine::active_outbound_spi(uint32_t spd_entry) const {
  auto it = entries_.find(spd_entry);
  return it == entries_.end() || it->second.active == nullptr ? 0 : it->second.active->spi();
}

absl::Status EspEngine::SetNextSequenceForTesting(const SaKey& outbound, uint64_t seq) {
  SecurityAssociation* sa = FindSa(Direction::kOutbound, outbound);
  if (sa == nullptr) return absl::NotFoundError("no such outbound SA");
  sa->set_next_seq_for_testing(seq);
  return absl::OkStatus();
}

}  // namespace ikeless::datapath::esp
