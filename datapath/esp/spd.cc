#include "datapath/esp/spd.h"

#include <cstring>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"

namespace ikeless::datapath::esp {
namespace {

std::string Label(const SpdEntry& e) {
  return e.name.empty() ? absl::StrCat("SPD entry ", e.id)
                        : absl::StrCat("SPD entry ", e.id, " (", e.name, ")");
}

}  // namespace

bool Spd::Prefix::Contains(const RawAddress& a) const {
  if (any) return true;
  if (a.v4 != net.v4) return false;
  const int full = length / 8;
  if (std::memcmp(a.bytes.data(), net.bytes.data(), full) != 0) return false;
  const int rest = length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (net.bytes[full] & mask);
}

absl::StatusOr<Spd> Spd::Compile(const std::vector<SpdEntry>& entries) {
  Spd spd;
  std::set<uint32_t> ids;
  for (const SpdEntry& e : entries) {
    if (e.id == 0) return absl::InvalidArgumentError(absl::StrCat(Label(e), ": id must be > 0"));
    if (!ids.insert(e.id).second) {
      return absl::InvalidArgumentError(absl::StrCat(Label(e), ": duplicate id"));
    }
    Compiled c;
    c.entry = e;
    for (auto [text, field, out] : {std::tuple{&e.local_prefix, "local_prefix", &c.local},
                                    std::tuple{&e.remote_prefix, "remote_prefix", &c.remote}}) {
      if (text->empty() || *text == "*") continue;  // any
      auto m = AddressMatch::Parse(*text);
      if (!m.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Label(e), ": ", field, ": ", m.status().message()));
      }
      if (m->is_wildcard()) continue;
      auto net = IpAddress::Parse(text->substr(0, text->find('/')));
      if (!net.ok()) return absl::InternalError("prefix parsed twice differently");
      out->any = false;
      out->net = RawAddress::From(*net);
      out->length = m->specificity();
    }
    if (!c.local.any && !c.remote.any && c.local.net.v4 != c.remote.net.v4) {
      return absl::InvalidArgumentError(
          absl::StrCat(Label(e), ": local_prefix and remote_prefix are of different families"));
    }
    if (e.protocol > 255) {
      return absl::InvalidArgumentError(absl::StrCat(Label(e), ": protocol ", e.protocol, " > 255"));
    }
    if (e.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(Label(e), ": port ", e.port, " > 65535"));
    }
    if (e.port != 0 && e.protocol != 0 && e.protocol != kProtoTcp && e.protocol != kProtoUdp &&
        e.protocol != kProtoSctp && e.protocol != kProtoUdpLite) {
      return absl::InvalidArgumentError(
          absl::StrCat(Label(e), ": port needs TCP, UDP, SCTP or UDP-Lite, not protocol ",
                       e.protocol));
    }
    for (auto [text, field] : {std::pair{&e.setup_peer, "setup_peer"},
                               std::pair{&e.local_address, "local_address"}}) {
      if (text->empty()) continue;
      if (auto a = IpAddress::Parse(*text); !a.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Label(e), ": ", field, ": ", a.status().message()));
      }
    }
    spd.by_id_[e.id] = spd.entries_.size();
    spd.entries_.push_back(std::move(c));
  }
  return spd;
}

bool Spd::Matches(const Compiled& c, const RawAddress& local, const RawAddress& remote,
                  const PacketInfo& p) {
  if (!c.local.Contains(local) || !c.remote.Contains(remote)) return false;
  if (c.entry.protocol != 0 && c.entry.protocol != p.protocol) return false;
  if (c.entry.port != 0 &&
      !(p.has_ports && (p.src_port == c.entry.port || p.dst_port == c.entry.port))) {
    return false;
  }
  return true;
}

const SpdEntry* Spd::MatchOutbound(const PacketInfo& p) const {
  for (const Compiled& c : entries_) {
    if (Matches(c, p.src, p.dst, p)) return &c.entry;
  }
  return nullptr;
}

bool Spd::AllowsInbound(uint32_t id, const PacketInfo& p) const {
  auto it = by_id_.find(id);
  return it != by_id_.end() && Matches(entries_[it->second], p.dst, p.src, p);
}

const SpdEntry* Spd::Find(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &entries_[it->second].entry;
}

}  // namespace ikeless::datapath::esp
