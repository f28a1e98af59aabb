#ifndef IKELESS_CONTROLLER_POLICY_ENFORCER_H_
#define IKELESS_CONTROLLER_POLICY_ENFORCER_H_

// Makes live associations follow the intent after it changed (beyond the
// source, which lets a row live until its term of validity ends):
//   - a row whose pair no longer has a PROTECT policy (policy deleted or
//     narrowed, a bypass/discard policy now wins, a node removed) is
//     deleted, and both nodes are told to remove its SAs (Teardown);
//   - an established row whose governing policy now makes different SA
//     parameters (another policy, or algorithm, key size, mode, lifetime,
//     replay window changed) is rekeyed now, make-before-break (RekeyNow to
//     both nodes; whichever asks first opens the new row, FIG. 27, and the
//     other's request fills it, S9);
//   - a half-open row takes the new policy, so it establishes with it.
// Works through the storage interfaces, in one transaction; returns the
// messages rather than sending them.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "controller/request_processor.h"
#include "proto/admin.pb.h"
#include "storage/association_store.h"

namespace ikeless::controller {

struct Enforcement {
  ProcessorOutput out;
  uint32_t torn_down = 0;
  uint32_t rekeyed = 0;
  // Each row torn down or rekeyed, in row order (`ipsecctl apply` shows it).
  std::vector<v1::AssociationImpact> impacts;
};

// What the intent means for one live row. Pure: `ipsecctl plan` asks it
// about every row without touching them, EnforcePolicies then acts on it.
struct RowVerdict {
  enum class Action {
    kKeep,      // nothing to do
    kRetarget,  // half-open: takes `best` for S10
    kTearDown,
    kRekey,
  };
  Action action = Action::kKeep;
  std::string reason;
  const v1::Policy* best = nullptr;  // into the policies asked about
};
RowVerdict JudgeRow(const storage::AssociationRow& row, const std::vector<v1::Policy>& policies,
                    const std::set<std::string>& gone_addresses);

// The impact a verdict reports (kTearDown or kRekey only).
v1::AssociationImpact ImpactOf(const storage::AssociationRow& row, const RowVerdict& verdict);

// `policies`: all of them, as stored now. `gone_addresses`: addresses of
// nodes just removed (their rows go whatever the policies say).
absl::StatusOr<Enforcement> EnforcePolicies(storage::AssociationStore& associations,
                                            const std::vector<v1::Policy>& policies,
                                            const std::set<std::string>& gone_addresses,
                                            Clock& clock);

// True if rows made under `before` would get other SA parameters under
// `after` (or another policy governs them).
bool SaParametersDiffer(const v1::Policy& before, const v1::Policy& after);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_POLICY_ENFORCER_H_
