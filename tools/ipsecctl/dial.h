#ifndef IKELESS_TOOLS_IPSECCTL_DIAL_H_
#define IKELESS_TOOLS_IPSECCTL_DIAL_H_

// The channel ipsecctl talks to the controller on: plain text, or mutual
// TLS with the global options' files and the name the controller's
// certificate must carry (--tls-server-name). Shared by main and the tests
// that run ipsecctl against a TLS controller.

#include <memory>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "tools/ipsecctl/cli_args.h"

namespace ikeless::ipsecctl {

// Errors name the file that could not be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> DialController(const GlobalOptions& global);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_DIAL_H_
