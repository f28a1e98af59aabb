#ifndef IKELESS_DATAPATH_ESP_SPD_H_
#define IKELESS_DATAPATH_ESP_SPD_H_

// The engine's Security Policy Database (RFC 4301 §4.4.1; the source's
// FIG. 15): the agent's ordered list of datapath::SpdEntry, compiled for
// per-packet lookup. The first entry in list order that matches wins
// (RFC 4301 §4.4.1: the SPD is ordered).
//
// Selectors: inner source in local_prefix, inner destination in
// remote_prefix (reversed for inbound), protocol (0 = any) and port
// (0 = any). The port matches the packet's source or destination port, as
// policy.proto's Selector defines it ("service port on either side"), so
// that both the client's and the server's node match the same entry. A
// packet without ports (ICMP, non-initial fragments) matches only entries
// whose port is 0; RFC 4301 §7 leaves non-initial fragments to such
// entries.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "datapath/datapath.h"
#include "datapath/esp/ip_packet.h"

namespace ikeless::datapath::esp {

class Spd {
 public:
  Spd() = default;  // empty: nothing matches

  // Validates (ids unique and > 0, prefixes, protocol, port) with errors
  // naming the entry and field.
  static absl::StatusOr<Spd> Compile(const std::vector<SpdEntry>& entries);

  // For a packet leaving through the TUN; nullptr if no entry matches.
  const SpdEntry* MatchOutbound(const PacketInfo& p) const;

  // RFC 4301 §5.2 step 4: whether a packet that arrived on an SA of entry
  // `id` is one that entry would have sent the other way. False if the
  // entry is not in the SPD.
  bool AllowsInbound(uint32_t id, const PacketInfo& p) const;

  const SpdEntry* Find(uint32_t id) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Prefix {
    bool any = true;
    RawAddress net;
    int length = 0;
    bool Contains(const RawAddress& a) const;
  };
  struct Compiled {
    SpdEntry entry;
    Prefix local;
    Prefix remote;
  };
  static bool Matches(const Compiled& c, const RawAddress& local, const RawAddress& remote,
                      const PacketInfo& p);

  std::vector<Compiled> entries_;
  std::unordered_map<uint32_t, size_t> by_id_;  // id -> index in entries_
};

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_SPD_H_
