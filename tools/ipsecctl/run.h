#ifndef IKELESS_TOOLS_IPSECCTL_RUN_H_
#define IKELESS_TOOLS_IPSECCTL_RUN_H_

// Carries out a parsed command: the PolicyService calls with their
// deadlines, the read-modify-write of `policy update` and `nodes set`, and
// printing the answer. Takes the stub interface so that tests can put an in-process
// server (or anything else) behind it.

#include <ostream>

#include "proto/admin.grpc.pb.h"
#include "tools/ipsecctl/command.h"

namespace ikeless::ipsecctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the call failed, or printing did
inline constexpr int kExitUsage = 2;    // the command line is wrong; nothing sent

// Runs `invocation` (not Kind::kHelp) and prints its result to `out`. On
// failure writes exactly one line to `err`,
//   ipsecctl: policy add web: INVALID_ARGUMENT: <the controller's message>
// and returns kExitFailure.
int RunCommand(const Invocation& invocation, v1::PolicyService::StubInterface* stub,
               std::ostream& out, std::ostream& err);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_RUN_H_
