#ifndef IKELESS_TESTS_SCRIPTED_AGENT_H_
#define IKELESS_TESTS_SCRIPTED_AGENT_H_

// A test agent that speaks AgentService.Session over real gRPC and does
// exactly what the test script says: send a Hello, send an SaRequest, wait
// for the next ControllerMessage. No setup-client logic of its own.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/agent.grpc.pb.h"

namespace ikeless::testing {

class ScriptedAgent {
 public:
  // Opens the stream to `target` (host:port). Does not send anything yet.
  explicit ScriptedAgent(const std::string& target);
  ~ScriptedAgent();

  bool Hello(const std::string& node, const std::vector<std::string>& addresses);
  bool Request(uint64_t id, const std::string& source, const std::string& peer, uint32_t spi,
               const std::vector<uint32_t>& successor_spis = {});
  bool Send(const v1::AgentMessage& m);

  // The next message from the controller, or nullopt after `timeout` or when
  // the stream has ended.
  std::optional<v1::ControllerMessage> Next(absl::Duration timeout = absl::Seconds(5));

  // Every SpdUpdate received so far, in order (kept out of Next()).
  std::vector<v1::SpdUpdate> SpdUpdates() {
    absl::MutexLock l(&mu_);
    return spd_updates_;
  }

  // Half-closes and returns the status the controller ended the stream with.
  grpc::Status Finish();
  // Waits for the controller to end the stream and returns its status.
  grpc::Status AwaitEnd(absl::Duration timeout = absl::Seconds(5));

 private:
  void ReadLoop();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>> stream_;
  std::thread reader_;

  absl::Mutex mu_;
  std::deque<v1::ControllerMessage> inbox_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::SpdUpdate> spd_updates_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ = false;
  std::optional<grpc::Status> status_;
};

}  // namespace ikeless::testing

#endif  // IKELESS_TESTS_SCRIPTED_AGENT_H_
