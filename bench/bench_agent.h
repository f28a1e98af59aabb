#ifndef IKELESS_BENCH_BENCH_AGENT_H_
#define IKELESS_BENCH_BENCH_AGENT_H_

// A benchmark's agent: one AgentService.Session stream driven by gRPC's
// client callback API, so thousands of agents share gRPC's few callback
// threads instead of needing one thread each. It sends a Hello, remembers
// the Welcome, and hands every later ControllerMessage to a handler that
// runs on a gRPC callback thread (the handler may call Send). No setup
// logic of its own: the benchmark's handler decides what to answer.

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/agent.grpc.pb.h"

namespace ikeless::bench {

class BenchAgent final : public grpc::ClientBidiReactor<v1::AgentMessage, v1::ControllerMessage> {
 public:
  using Handler = std::function<void(BenchAgent& agent, const v1::ControllerMessage& message)>;

  // `stub` (and its channel) must outlive the agent. `address` is the
  // node's only address; `index` is the benchmark's number for it.
  BenchAgent(v1::AgentService::Stub* stub, std::string node_name, std::string address,
             uint32_t index, Handler handler);
  ~BenchAgent() override;  // cancels the stream and waits for gRPC to let go

  // Opens the stream and sends the Hello.
  void Start();
  bool WaitWelcome(absl::Duration timeout) {
    return welcome_.WaitForNotificationWithTimeout(timeout);
  }
  bool welcomed() const { return welcome_.HasBeenNotified(); }

  // Queues a message; one write is in flight at a time. False once the
  // stream is broken.
  bool Send(v1::AgentMessage message);
  bool Request(uint64_t id, const std::string& peer, uint32_t spi);

  // Cancels the stream and waits (at most `timeout`) until gRPC is done
  // with it.
  void Stop(absl::Duration timeout = absl::Seconds(10));

  const std::string& node_name() const { return node_name_; }
  const std::string& address() const { return address_; }
  uint32_t index() const { return index_; }

  // grpc::ClientBidiReactor
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  v1::AgentService::Stub* const stub_;
  const std::string node_name_;
  const std::string address_;
  const uint32_t index_;
  const Handler handler_;
  grpc::ClientContext context_;
  v1::ControllerMessage in_;  // only OnReadDone touches it
  absl::Notification welcome_;
  absl::Notification done_;
  bool started_ = false;

  absl::Mutex mu_;
  std::deque<v1::AgentMessage> queue_ ABSL_GUARDED_BY(mu_);  // front is being written
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_BENCH_AGENT_H_
