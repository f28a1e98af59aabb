#include "tools/ipsecctl/dial.h"

#include "common/tls_credentials.h"

namespace ikeless::ipsecctl {

absl::StatusOr<std::shared_ptr<grpc::Channel>> DialController(const GlobalOptions& global) {
  grpc::ChannelArguments channel_args;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!global.tls.empty()) {
    auto made = MakeChannelCredentials(global.tls, &channel_args);
    if (!made.ok()) return made.status();
    credentials = *made;
  }
  return grpc::CreateCustomChannel(global.controller, credentials, channel_args);
}

}  // namespace ikeless::ipsecctl
