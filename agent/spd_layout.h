#ifndef IKELESS_AGENT_SPD_LAYOUT_H_
#define IKELESS_AGENT_SPD_LAYOUT_H_

// The node's full SPD (FIG. 15) as the datapath gets it, from three sources
// in this order (the datapath matches first entry first, RFC 4301 §4.4.1):
//   1. the agent config's own `spd {}` rules, ids 1..L in file order: the
//      node's local exceptions win over anything the controller pushes;
//   2. a BYPASS entry for the controller's address, when the config names
//      it as an IP literal (local 0.0.0.0/0 or ::/0, remote its /32 or
//      /128): the controller's own address is always bypassed (DESIGN.md
//      "Policy is the whole configuration"), so a pushed rule that covers
//      it cannot cut the agent off;
//   3. the pushed rules (agent/pushed_spd.h), by (rank, key).
// A pushed rule whose traffic (prefixes, protocol, port) equals an earlier
// entry's is left out: it could never match, and kernel XFRM keys
// policies by exactly that traffic.
//
// Each pushed rule keeps one datapath entry id for its whole life (by key),
// so the SAs of rules that stay are untouched by a new revision. Ids are
// allocated above the local ones and below 65536 (the XFRM reqid span,
// datapath/xfrm/xfrm_spd.h), round-robin: an id freed by a removed rule is
// taken again only after the allocator has gone round the whole span, long
// after that entry's SAs are gone. Pure.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/address.h"
#include "datapath/datapath.h"
#include "proto/agent.pb.h"

namespace ikeless::agent {

// One layout: the full SPD and the allocator state that made it.
struct LaidOutSpd {
  std::vector<datapath::SpdEntry> entries;  // datapath order
  std::set<uint32_t> pushed_ids;            // entries made from pushed rules
  std::map<std::string, uint32_t> ids;      // pushed key -> entry id (left-out ones too)
  std::vector<std::string> shadowed;        // pushed keys left out, see above
  uint32_t next_id = 0;                     // where the allocator goes on
};

class SpdLayout {
 public:
  static constexpr uint32_t kMaxEntryId = 0xffff;

  // `local`: the config's rules (ids > 0, unique). `controller`: the
  // controller's address if the config names it as an IP literal.
  SpdLayout(std::vector<datapath::SpdEntry> local, std::optional<IpAddress> controller);

  // The full SPD with `rules` (PushedSpd::rules()). Changes nothing: ids of
  // new keys are remembered only by Commit(). RESOURCE_EXHAUSTED when the
  // rules need more ids than the span has.
  absl::StatusOr<LaidOutSpd> Plan(const std::map<std::string, v1::PushedRule>& rules) const;
  // Makes `laid`'s ids the current ones (after the core applied it).
  void Commit(const LaidOutSpd& laid);

  uint32_t first_pushed_id() const { return first_pushed_id_; }
  // The controller BYPASS entry's id, 0 if there is none.
  uint32_t controller_entry_id() const { return controller_.has_value() ? first_pushed_id_ - 1 : 0; }

 private:
  std::vector<datapath::SpdEntry> fixed_;  // local rules + controller bypass
  std::optional<IpAddress> controller_;
  uint32_t first_pushed_id_ = 1;
  std::map<std::string, uint32_t> ids_;  // committed
  uint32_t next_id_ = 1;
};

// The datapath entry for pushed `rule` (checked by PushedSpd) with `id`.
datapath::SpdEntry EntryForRule(const v1::PushedRule& rule, uint32_t id);

// The controller's address if `target` (the config's `controller:`, a gRPC
// target: "198.18.0.254:50051", "[fd00::fe]:50051", "ipv4:...",
// "dns:///...") names it by an IP literal; nullopt for a host name.
std::optional<IpAddress> ControllerAddressOf(const std::string& target);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_SPD_LAYOUT_H_
