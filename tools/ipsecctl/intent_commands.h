#ifndef IKELESS_TOOLS_IPSECCTL_INTENT_COMMANDS_H_
#define IKELESS_TOOLS_IPSECCTL_INTENT_COMMANDS_H_

// `ipsecctl plan -f`, `apply -f` and `export`: the fleet file (fleet_file.h)
// read and checked here, before any call, and the controller's plan
// printed (plan_output.h). Errors about an item of the file name its line.

#include <ostream>

#include "absl/status/status.h"
#include "proto/admin.grpc.pb.h"
#include "tools/ipsecctl/cli_args.h"
#include "tools/ipsecctl/command.h"

namespace ikeless::ipsecctl {

// The largest fleet file read (a typo such as -f /dev/zero must not eat
// the machine's memory).
inline constexpr size_t kMaxFleetFileBytes = 16 << 20;

// plan (apply=false) or apply. FAILED_PRECONDITION after printing the plan
// if an assertion fails; apply's warnings (a step after the commit that
// did not happen) are printed and make it fail too.
absl::Status RunPlan(const GlobalOptions& global, const Command& command,
                     v1::PolicyService::StubInterface* stub, std::ostream& out, bool apply);

absl::Status RunExport(const GlobalOptions& global, v1::PolicyService::StubInterface* stub,
                       std::ostream& out);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_INTENT_COMMANDS_H_
