#ifndef IKELESS_BENCH_CHANNEL_POOL_H_
#define IKELESS_BENCH_CHANNEL_POOL_H_

// The benchmark side's gRPC channels to the controller. Each channel gets
// its own subchannel pool and a distinct channel argument, so each is its
// own TCP connection; agents are spread over them round-robin and their
// streams share a connection by HTTP/2 multiplexing. One channel per agent
// models a real fleet (one connection per node); fewer channels save file
// descriptors and show the per-stream cost alone.

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/agent.grpc.pb.h"

namespace ikeless::bench {

class ChannelPool {
 public:
  ChannelPool(const std::string& target, int channels);

  // The stub for agent number `agent_index`.
  v1::AgentService::Stub* StubFor(size_t agent_index) {
    return stubs_[agent_index % stubs_.size()].get();
  }
  size_t size() const { return stubs_.size(); }

  // Connects every channel; false if one is not READY within `timeout`.
  bool Connect(absl::Duration timeout);

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::AgentService::Stub>> stubs_;
};

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_CHANNEL_POOL_H_
