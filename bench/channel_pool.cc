#include "bench/channel_pool.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace ikeless::bench {

ChannelPool::ChannelPool(const std::string& target, int channels) {
  const int n = std::max(channels, 1);
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    // Without these, channels with equal arguments share one subchannel,
    // i.e. one TCP connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("ikeless.bench.channel_index", i);
    channels_.push_back(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    stubs_.push_back(v1::AgentService::NewStub(channels_.back()));
  }
}

bool ChannelPool::Connect(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (auto& channel : channels_) channel->GetState(/*try_to_connect=*/true);  // all at once
  for (auto& channel : channels_) {
    while (true) {
      grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
      if (state == GRPC_CHANNEL_READY) break;
      if (absl::Now() >= deadline) return false;
      channel->WaitForStateChange(
          state, absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Milliseconds(100))));
    }
  }
  return true;
}

}  // namespace ikeless::bench
