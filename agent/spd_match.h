#ifndef IKELESS_AGENT_SPD_MATCH_H_
#define IKELESS_AGENT_SPD_MATCH_H_

// The SPD (FIG. 15) as the setup client reads it: which entries ask the
// controller (a `setup_peer`, S33 otherwise), whether an SPD is usable, and
// S52's lookup of the entry a RequestStartup names. Addresses are compared
// in canonical form, so "fd00::0001" and "fd00::1" are the same node.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "datapath/datapath.h"
#include "proto/agent.pb.h"

namespace ikeless::agent {

// True for entries whose SAs come from the controller: action kProtect
// and a setup_peer.
bool NeedsSetup(const datapath::SpdEntry& entry);

// The canonical spelling of an address, or `text` itself if it is none.
std::string CanonicalOrSelf(const std::string& text);

// The canonical CIDR form of a prefix or address ("198.18.0.1" ->
// "198.18.0.1/32", "FD00:0::/64" -> "fd00::/64"), or `text` itself if it is
// none (or the wildcard).
std::string CanonicalCidrOrSelf(const std::string& text);

// INVALID_ARGUMENT naming the entry unless ids are unique and > 0 and every
// entry that NeedsSetup() has a valid setup_peer and local_address, of one
// family and different.
absl::Status ValidateSpd(const std::vector<datapath::SpdEntry>& spd);

// `spd` with setup_peer and local_address in canonical form, and the
// prefixes in canonical CIDR form.
std::vector<datapath::SpdEntry> CanonicalSpd(std::vector<datapath::SpdEntry> spd);

// S52: the first entry of `canonical_spd`, in SPD order, that NeedsSetup()
// with setup_peer == startup.peer, local_address == startup.local when that
// is set, the startup's protocol and port, and, when the startup states its
// traffic (the requester's prefixes seen from us), local_prefix ==
// traffic.local and remote_prefix == traffic.remote (each when non-empty,
// compared in canonical CIDR form). So several PROTECT entries toward one
// peer (an IPv4 and an IPv6 site pair behind the same gateways) each answer
// for their own SAs. nullptr: S53.
const datapath::SpdEntry* MatchStartup(const std::vector<datapath::SpdEntry>& canonical_spd,
                                       const v1::RequestStartup& startup);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_SPD_MATCH_H_
