#ifndef IKELESS_CONTROLLER_CALLER_H_
#define IKELESS_CONTROLLER_CALLER_H_

// Reads the caller of an RPC from its verified TLS client certificate (gRPC
// AuthContext property "x509_pem_cert"). On a plain-text controller every
// caller is anonymous.

#include "absl/status/statusor.h"
#include "controller/authorization.h"
#include "grpcpp/security/auth_context.h"

namespace ikeless::controller {

// `tls`: the server requires client certificates. A TLS caller without a
// parsable certificate is UNAUTHENTICATED.
absl::StatusOr<Caller> CallerOf(const grpc::AuthContext* context, bool tls);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_CALLER_H_
