#ifndef IKELESS_DATAPATH_XFRM_XFRM_SPD_H_
#define IKELESS_DATAPATH_XFRM_XFRM_SPD_H_

// How one SPD entry (FIG. 15) becomes kernel XFRM policies, and how a
// kernel reqid maps back to the entry. Pure: tested without a kernel.
//
//   PROTECT  out: inner local -> remote, ESP template local node -> peer,
//                 level required: no state means ACQUIRE (S35), never clear
//                 text;
//            in, and fwd in tunnel mode (decapsulated packets a gateway
//                 forwards are checked against fwd): the reverse, required.
//   BYPASS   the same three, action allow, no template: traffic passes in
//            clear (any template, even optional, would make the kernel
//            look for a state and ACQUIRE for every new flow).
//   DISCARD  the same three with action block (the kernel never resolves
//            a blocking policy's template, so it keeps the reqid tag).
//
// Order: the kernel picks the matching policy of lowest priority value, so
// an entry's priority is priority_base + its position in the SPD list
// (1-based): first match wins, as in the engine (RFC 4301 §4.4.1), whatever
// the entry ids (the agent allocates ids to pushed rules by key, not by
// precedence).
//
// Ownership (RFC 4301 leaves it to the implementation): every policy and
// state we make carries reqid = reqid_base + entry id (ids are 1..65535).
// Anything with a reqid in [reqid_base, reqid_base + kReqidSpan) is ours to
// replace or remove; so is a template-less allow policy with a priority in
// our band (priority_base, priority_base + kReqidSpan) — BYPASS, whose
// priority comes from a position, also 1..65535. Nothing else is touched.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "datapath/datapath.h"
#include "datapath/xfrm/xfrm_messages.h"

namespace ikeless::datapath::xfrm {

inline constexpr uint32_t kReqidSpan = 0x10000;

struct SpdMapping {
  uint32_t reqid_base = 0x1e50000;
  uint32_t priority_base = 1000;  // the entry at position i gets priority_base + i

  uint32_t ReqidOf(uint32_t entry) const { return reqid_base + entry; }
  bool Owns(uint32_t reqid) const { return reqid - reqid_base < kReqidSpan; }
  bool OwnsPolicy(const KernelPolicy& p) const {
    for (uint32_t reqid : p.reqids) {
      if (Owns(reqid)) return true;
    }
    return p.reqids.empty() && p.allow && p.priority > priority_base &&
           p.priority - priority_base < kReqidSpan;
  }
  // The entry a reqid stands for, if it is ours.
  std::optional<uint32_t> EntryOf(uint32_t reqid) const {
    if (!Owns(reqid) || reqid == reqid_base) return std::nullopt;
    return reqid - reqid_base;
  }
};

// A PROTECT entry between exactly the two node addresses is host to host:
// transport mode unless the controller's SA says otherwise.
bool LooksLikeTransport(const SpdEntry& entry);

// The kernel policies for `entry` at `position` (1-based) in the SPD list;
// `tunnel` is the ESP mode of PROTECT templates (ignored for BYPASS and
// DISCARD).
std::vector<PolicySpec> PoliciesFor(const SpdEntry& entry, uint32_t position, bool tunnel,
                                    const SpdMapping& mapping);

// Same selector and direction: the kernel's identity of a policy.
bool SameSlot(const PolicySpec& a, const PolicySpec& b);
using PolicySlot = std::tuple<uint8_t, std::string, std::string, uint8_t, uint16_t, uint16_t>;
PolicySlot SlotOf(const PolicySpec& policy);
// Every field alike: re-sending it would change nothing.
bool SamePolicy(const PolicySpec& a, const PolicySpec& b);

// What a new SPD changes in the kernel, given what is installed (by slot):
// `put` the policies that are new or differ (an update replaces the one in
// their slot), `remove` the installed ones whose slot is no longer wanted.
// Unchanged policies appear in neither: a new SPD is never a flush.
struct PolicyChanges {
  std::vector<PolicySpec> put;
  std::vector<PolicySpec> remove;
};
PolicyChanges DiffPolicies(const std::map<PolicySlot, PolicySpec>& installed,
                           const std::vector<PolicySpec>& wanted);

}  // namespace ikeless::datapath::xfrm

#endif  // IKELESS_DATAPATH_XFRM_XFRM_SPD_H_
