#ifndef IKELESS_CONTROLLER_GRPC_STATUS_H_
#define IKELESS_CONTROLLER_GRPC_STATUS_H_

// absl::Status -> grpc::Status with the same code and message (the codes
// are numerically identical by design).

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace ikeless::controller {

inline grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_GRPC_STATUS_H_
