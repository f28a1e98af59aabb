#include "agent/spd_match.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/address.h"

namespace ikeless::agent {

using datapath::SpdEntry;

bool NeedsSetup(const SpdEntry& e) {
  return e.action == SpdEntry::Action::kProtect && !e.setup_peer.empty();
}

std::string CanonicalOrSelf(const std::string& text) {
  auto ip = IpAddress::Parse(text);
  return ip.ok() ? ip->ToString() : text;
}

std::string CanonicalCidrOrSelf(const std::string& text) {
  auto m = AddressMatch::Parse(text);
  if (!m.ok() || m->is_wildcard()) return text;
  std::string s = m->ToString();  // a full-length prefix prints as the address
  if (s.find('/') == std::string::npos) s += s.find(':') == std::string::npos ? "/32" : "/128";
  return s;
}

absl::Status ValidateSpd(const std::vector<SpdEntry>& spd) {
  std::set<uint32_t> ids;
  for (const SpdEntry& e : spd) {
    const std::string what = absl::StrCat("spd entry ", e.id, " (", e.name, ")");
    if (e.id == 0) return absl::InvalidArgumentError(absl::StrCat(what, ": id must be > 0"));
    if (!ids.insert(e.id).second) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": duplicate id"));
    }
    if (!NeedsSetup(e)) continue;
    auto peer = IpAddress::Parse(e.setup_peer);
    if (!peer.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": setup_peer: ", peer.status().message()));
    }
    if (e.local_address.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": local_address is required with setup_peer"));
    }
    auto local = IpAddress::Parse(e.local_address);
    if (!local.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": local_address: ", local.status().message()));
    }
    if (local->is_v4() != peer->is_v4()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": local_address and setup_peer differ in address family"));
    }
    if (*local == *peer) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": setup_peer must differ from local_address"));
    }
  }
  return absl::OkStatus();
}

std::vector<SpdEntry> CanonicalSpd(std::vector<SpdEntry> spd) {
  for (SpdEntry& e : spd) {
    if (!e.setup_peer.empty()) e.setup_peer = CanonicalOrSelf(e.setup_peer);
    if (!e.local_address.empty()) e.local_address = CanonicalOrSelf(e.local_address);
    e.local_prefix = CanonicalCidrOrSelf(e.local_prefix);
    e.remote_prefix = CanonicalCidrOrSelf(e.remote_prefix);
  }
  return spd;
}

const SpdEntry* MatchStartup(const std::vector<SpdEntry>& canonical_spd,
                             const v1::RequestStartup& startup) {
  const std::string peer = CanonicalOrSelf(startup.peer());
  const std::string local = startup.local().empty() ? "" : CanonicalOrSelf(startup.local());
  // The requester's traffic, already turned to our view by the controller.
  const std::string inner_local =
      startup.traffic().local().empty() ? "" : CanonicalCidrOrSelf(startup.traffic().local());
  const std::string inner_remote =
      startup.traffic().remote().empty() ? "" : CanonicalCidrOrSelf(startup.traffic().remote());
  for (const SpdEntry& e : canonical_spd) {
    if (!NeedsSetup(e) || e.setup_peer != peer) continue;
    if (!local.empty() && e.local_address != local) continue;
    if (!inner_local.empty() && e.local_prefix != inner_local) continue;
    if (!inner_remote.empty() && e.remote_prefix != inner_remote) continue;
    if (e.protocol != startup.selector().protocol() || e.port != startup.selector().port()) {
      continue;
    }
    return &e;
  }
  return nullptr;
}

}  // namespace ikeless::agent
