#ifndef IKELESS_AGENT_PUSHED_SPD_H_
#define IKELESS_AGENT_PUSHED_SPD_H_

// The SPD rules the controller pushed to this node (DESIGN.md "Policy is the
// whole configuration"): a snapshot right after Welcome, then deltas, each
// at a revision. PushedSpd holds the rules by key and the revision applied,
// checks a whole SpdUpdate before it changes anything, and says what an
// update changed. Pure: no datapath, no clock; the agent core lays the
// rules out into the datapath's SPD (agent/spd_layout.h).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/agent.pb.h"

namespace ikeless::agent {

class PushedSpd {
 public:
  // What one applied update changed, keys in sorted order.
  struct Change {
    uint64_t revision = 0;
    bool snapshot = false;
    std::vector<std::string> added;
    std::vector<std::string> changed;  // same key, other content
    std::vector<std::string> removed;
  };

  // Checks `update` whole, then applies it:
  //   - a snapshot replaces every rule;
  //   - a delta applies on top of base_revision, which must be the revision
  //     applied (else FAILED_PRECONDITION: the controller then sends a
  //     snapshot), upserting and removing by key.
  // Refused (INVALID_ARGUMENT naming the field and the reason, or
  // FAILED_PRECONDITION): nothing changes.
  //
  // A rule is valid when its key is non-empty and unique in the update,
  // local and remote are canonical CIDR prefixes ("198.18.10.0/24",
  // "198.18.0.1/32", "fd00:10::/64") of one family, protocol <= 255, port
  // <= 65535 and only with TCP or UDP, action is one of PolicyAction (0 is
  // PROTECT), and a PROTECT rule has a setup_peer and a local_address that
  // are addresses of one family and differ. Addresses are kept canonical.
  absl::StatusOr<Change> Apply(const v1::SpdUpdate& update);

  uint64_t revision() const { return revision_; }
  // False until the first snapshot: a delta before it is refused.
  bool has_snapshot() const { return has_snapshot_; }
  const std::map<std::string, v1::PushedRule>& rules() const { return rules_; }

 private:
  uint64_t revision_ = 0;
  bool has_snapshot_ = false;
  std::map<std::string, v1::PushedRule> rules_;  // by key, canonical
};

// "198.18.10.0/24" -> the same; INVALID_ARGUMENT naming `field` unless
// `text` is a prefix in canonical CIDR form (network address, explicit
// length, canonical address spelling).
absl::Status CheckCanonicalCidr(const std::string& text, const std::string& field);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_PUSHED_SPD_H_
