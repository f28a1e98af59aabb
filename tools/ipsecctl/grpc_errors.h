#ifndef IKELESS_TOOLS_IPSECCTL_GRPC_ERRORS_H_
#define IKELESS_TOOLS_IPSECCTL_GRPC_ERRORS_H_

// How ipsecctl reports a failed call: the gRPC status as an absl::Status
// (the codes are the same numbers), one line, and where the failure is
// about reaching the controller, naming the address and (with TLS) what to
// check, since gRPC reports a refused handshake only as "Socket closed".

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "tools/ipsecctl/cli_args.h"

namespace ikeless::ipsecctl {

absl::Status ControllerError(const grpc::Status& status, const GlobalOptions& global);

// A context whose deadline is --timeout from now.
std::unique_ptr<grpc::ClientContext> CallContext(const GlobalOptions& global);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_GRPC_ERRORS_H_
