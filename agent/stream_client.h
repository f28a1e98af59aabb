#ifndef IKELESS_AGENT_STREAM_CLIENT_H_
#define IKELESS_AGENT_STREAM_CLIENT_H_

// The agent's end of AgentService.Session: keeps one stream open to the
// controller, says Hello first, reconnects with jittered exponential
// backoff when the stream ends, and hands every ControllerMessage to the
// agent core. Installed SAs keep working while it is away. The backoff's
// numbers and why: agent/reconnect_backoff.h.

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/controller_link.h"
#include "common/random.h"
#include "common/tls_credentials.h"
#include "grpcpp/grpcpp.h"
#include "proto/agent.grpc.pb.h"

namespace ikeless::agent {

class StreamClient final : public ControllerLink {
 public:
  struct Options {
    std::string target;                               // host:port
    v1::Hello hello;
    // Called before each attempt with `hello`; returns the Hello to send,
    // with what the agent holds now (reconciliation, issue #12). Empty:
    // `hello` as it is.
    std::function<v1::Hello(const v1::Hello&)> build_hello;
    // agent/reconnect_backoff.h: unreachable controller 100 ms .. 1 s, full
    // jitter; a refusal 1 s .. 30 s.
    absl::Duration min_backoff = absl::Milliseconds(100);
    absl::Duration max_backoff = absl::Seconds(1);
    absl::Duration refused_min_backoff = absl::Seconds(1);
    absl::Duration refused_max_backoff = absl::Seconds(30);
    size_t max_queued = 1024;
    // Mutual TLS (common/tls_credentials.h); empty files = plain text.
    TlsFiles tls;
  };
  struct Handler {
    std::function<void()> on_connected;  // after the Welcome
    std::function<void(const v1::ControllerMessage&)> on_message;
  };

  // Reads the TLS files; an error names the file.
  static absl::StatusOr<std::unique_ptr<StreamClient>> Create(Options options, Handler handler,
                                                              RandomSource* random);
  StreamClient(Options options, Handler handler, RandomSource* random,
               std::shared_ptr<grpc::ChannelCredentials> credentials, grpc::ChannelArguments args);
  ~StreamClient() override;

  void Start();
  // Ends the stream and stops reconnecting. Idempotent.
  void Stop();

  bool Send(const v1::AgentMessage& message) override;
  // Ends the current stream; the next attempt re-reads the TLS files (after
  // a certificate renewal). Installed SAs are not affected.
  void Reconnect();
  bool connected() const;

 private:
  void Run();
  void WriteLoop(grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>* stream,
                 uint64_t generation);

  const Options options_;
  const Handler handler_;
  RandomSource* random_;
  // A fresh channel for every attempt: gRPC's own reconnect backoff on a
  // failed channel would otherwise add up to many seconds to ours.
  void NewChannel();
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const grpc::ChannelArguments args_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AgentService::Stub> stub_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;  // Welcome received
  bool writable_ ABSL_GUARDED_BY(mu_) = false;   // a stream is open
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::deque<v1::AgentMessage> queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_STREAM_CLIENT_H_
