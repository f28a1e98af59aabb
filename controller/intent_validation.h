#ifndef IKELESS_CONTROLLER_INTENT_VALIDATION_H_
#define IKELESS_CONTROLLER_INTENT_VALIDATION_H_

// Checks a whole intent (`ipsecctl plan -f` / `apply -f`) before anything is
// planned: every node and policy as the single-record RPCs check them
// (node_validation.h, policy_validation.h), the fleet rules among the
// file's own nodes (the file replaces the fleet, so it is checked against
// itself, not against what is live), unique names, and assertions that name
// nodes of the file. Errors start with the path of the item they are about,
// "nodes[2] (gw-c): sites: ...", so ipsecctl can name the file's line.

#include "absl/status/status.h"
#include "proto/admin.pb.h"

namespace ikeless::controller {

// Normalises `intent` in place (canonical addresses, policy defaults,
// server-set fields cleared). INVALID_ARGUMENT or FAILED_PRECONDITION (the
// fleet rules) on the first problem found, in file order.
absl::Status NormalizeIntent(v1::Intent* intent);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_INTENT_VALIDATION_H_
