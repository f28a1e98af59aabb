#ifndef IKELESS_TOOLS_IPSECCTL_PLAN_OUTPUT_H_
#define IKELESS_TOOLS_IPSECCTL_PLAN_OUTPUT_H_

// How `ipsecctl plan` and `apply` print an IntentPlan for a person: counts
// first, then one line per node or policy changed, per pair of nodes whose
// protection changes ("!" where it is lost), per live association torn
// down or rekeyed, per assertion (with its line in the fleet file).

#include <string>

#include "proto/admin.pb.h"
#include "tools/ipsecctl/fleet_file.h"

namespace ikeless::ipsecctl {

enum class PlanMode {
  kPlan,   // what would happen; ends with the apply command to run
  kApply,  // what happened
};

std::string PlanText(const v1::IntentPlan& plan, const FleetFile& file, PlanMode mode);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_PLAN_OUTPUT_H_
