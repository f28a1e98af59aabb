// The SAD half of EspEngine: installing and removing SAs, make-before-break
// switching of outbound SAs, and lifetimes (RFC 4301 §4.4.2.1).

#include "datapath/esp/esp_engine.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace ikeless::datapath::esp {
namespace {

// SaKey destinations are compared in canonical spelling.
std::string Canonical(const std::string& address) {
  auto a = IpAddress::Parse(address);
  return a.ok() ? a->ToString() : address;
}

}  // namespace

absl::Status EspEngine::InstallSa(uint32_t spd_entry, Direction direction,
                                  const v1::SaParameters& params, EngineOutput* out) {
  if (spd_entry == 0) return absl::InvalidArgumentError("spd_entry must be > 0");
  const absl::Time now = clock_->Monotonic();
  now_ = std::max(now_, now);
  auto created =
      SecurityAssociation::Create(spd_entry, direction, params, now, next_ordinal_, random_);
  if (!created.ok()) return created.status();
  std::unique_ptr<SecurityAssociation> sa = std::move(*created);

  if (SecurityAssociation* existing = FindSa(direction, sa->key())) {
    if (existing->spd_entry() == spd_entry) return absl::OkStatus();  // idempotent
    return absl::AlreadyExistsError(absl::StrCat(
        DirectionName(direction), "bound SA ", SpiText(sa->spi()), " to ", sa->key().destination,
        " is installed for SPD entry ", existing->spd_entry(), ", not ", spd_entry));
  }
  if (direction == Direction::kInbound && inbound_.count(sa->spi())) {
    return absl::AlreadyExistsError(absl::StrCat("inbound SPI ", SpiText(sa->spi()),
                                                 " is installed for another destination"));
  }
  ++next_ordinal_;
  SecurityAssociation* raw = sa.get();
  Entry& entry = entries_[spd_entry];
  LogInfo("esp_sa_installed")
      .Kv("spd_entry", spd_entry)
      .Kv("direction", DirectionName(direction))
      .Kv("spi", SpiText(raw->spi()))
      .Kv("destination", raw->key().destination)
      .Kv("algorithm", raw->algorithm())
      .Kv("mode", raw->tunnel() ? "tunnel" : "transport");
  if (direction == Direction::kOutbound) {
    outbound_[{raw->key().destination, raw->spi()}] = std::move(sa);
    entry.acquiring = false;
    if (entry.active == nullptr) {
      entry.active = raw;
    } else {
      if (entry.pending != nullptr) entry.pending->set_superseded();
      entry.pending = raw;
      entry.pending_since = now;
      if (PeerReady(entry)) Switch(spd_entry, entry);
    }
    // Packets parked for an inbound SA installed just before this one go
    // now: any answer they provoke leaves on the new outbound SA.
    UnparkInstalled(out);
  } else {
    inbound_[raw->spi()] = std::move(sa);
    if (entry.newest_inbound == nullptr || raw->ordinal() > entry.newest_inbound->ordinal()) {
      entry.newest_inbound = raw;
    }
    // With no outbound SA yet, an answer to a parked packet is held until
    // the outbound SA arrives. With an old one (rekey, or a peer that
    // restarted), the answer would leave on the old SA, which the peer may
    // no longer have: wait for the new outbound SA (UnparkInstalled above).
    if (entry.active == nullptr) Unpark(raw->spi(), out);
  }
  return absl::OkStatus();
}

absl::Status EspEngine::RemoveSa(Direction direction, const SaKey& key) {
  SecurityAssociation* sa = FindSa(direction, key);
  if (sa == nullptr) {
    return absl::NotFoundError(absl::StrCat("no ", DirectionName(direction), "bound SA ", SpiText(key.spi),
                                            " to ", key.destination));
  }
  LogInfo("esp_sa_removed")
      .Kv("spd_entry", sa->spd_entry())
      .Kv("direction", DirectionName(direction))
      .Kv("spi", SpiText(sa->spi()));
  Remove(sa);
  return absl::OkStatus();
}

bool EspEngine::PeerReady(const Entry& entry) {
  return entry.pending != nullptr && entry.active != nullptr &&
         entry.newest_inbound != nullptr &&
         entry.newest_inbound->ordinal() > entry.active->ordinal() &&
         entry.newest_inbound->counters().packets > 0;
}

void EspEngine::Switch(uint32_t id, Entry& entry) {
  SecurityAssociation* old = entry.active;
  entry.active = entry.pending;
  entry.pending = nullptr;
  if (old != nullptr) old->set_superseded();
  LogInfo("esp_outbound_switched")
      .Kv("spd_entry", id)
      .Kv("old_spi", old ? SpiText(old->spi()) : "none")
      .Kv("new_spi", SpiText(entry.active->spi()));
}

void EspEngine::Tick(absl::Time now, EngineOutput* out) {
  now_ = std::max(now_, now);
  while (!parked_.empty() && now_ - parked_.front().arrived >= options_.park_time) {
    parked_.pop_front();
    stats_.unknown_spi++;
  }
  for (auto& [id, entry] : entries_) {
    if (entry.pending != nullptr && now_ - entry.pending_since >= options_.switch_delay) {
      Switch(id, entry);
    }
  }
  std::vector<SecurityAssociation*> all;
  for (auto& [spi, sa] : inbound_) all.push_back(sa.get());
  for (auto& [key, sa] : outbound_) all.push_back(sa.get());
  for (SecurityAssociation* sa : all) HandleExpiry(sa, sa->CheckLifetime(now_), out);
}

void EspEngine::HandleExpiry(SecurityAssociation* sa, SecurityAssociation::Expiry expiry,
                             EngineOutput* out) {
  if (expiry == SecurityAssociation::Expiry::kNone) return;
  const bool hard = expiry == SecurityAssociation::Expiry::kHard;
  // A replaced outbound SA asks for no rekey: its successor is in.
  if (!hard && sa->superseded()) return;
  DatapathEvent ev;
  ev.kind = hard ? DatapathEvent::Kind::kHardExpire : DatapathEvent::Kind::kSoftExpire;
  ev.spd_entry = sa->spd_entry();
  ev.direction = sa->direction();
  ev.sa = sa->key();
  out->events.push_back(ev);
  LogInfo(hard ? "esp_sa_hard_expired" : "esp_sa_soft_expired")
      .Kv("spd_entry", sa->spd_entry())
      .Kv("direction", DirectionName(sa->direction()))
      .Kv("spi", SpiText(sa->spi()))
      .Kv("packets", sa->counters().packets)
      .Kv("bytes", sa->counters().bytes);
  if (hard) Remove(sa);  // the datapath removes hard-expired SAs itself
}

void EspEngine::Remove(SecurityAssociation* sa) {
  Entry& entry = entries_[sa->spd_entry()];
  if (sa->direction() == Direction::kOutbound) {
    if (entry.active == sa) {
      entry.active = entry.pending;  // the successor takes over at once
      entry.pending = nullptr;
    } else if (entry.pending == sa) {
      entry.pending = nullptr;
    }
    outbound_.erase({sa->key().destination, sa->spi()});
    return;
  }
  const uint32_t spi = sa->spi();
  const uint32_t id = sa->spd_entry();
  const bool was_newest = entry.newest_inbound == sa;
  inbound_.erase(spi);  // `sa` is gone from here on
  if (was_newest) {
    entry.newest_inbound = nullptr;
    for (auto& [s, other] : inbound_) {
      if (other->spd_entry() == id &&
          (entry.newest_inbound == nullptr ||
           other->ordinal() > entry.newest_inbound->ordinal())) {
        entry.newest_inbound = other.get();
      }
    }
  }
}

SecurityAssociation* EspEngine::FindSa(Direction direction, const SaKey& key) const {
  const std::string dst = Canonical(key.destination);
  if (direction == Direction::kOutbound) {
    auto it = outbound_.find({dst, key.spi});
    return it == outbound_.end() ? nullptr : it->second.get();
  }
  auto it = inbound_.find(key.spi);
  if (it == inbound_.end() || it->second->key().destination != dst) return nullptr;
  return it->second.get();
}

}  // namespace ikeless::datapath::esp
