#include "agent/stream_client.h"

#include <algorithm>

#include "agent/reconnect_backoff.h"
#include "common/log.h"
#include "common/secret.h"

namespace ikeless::agent {

absl::StatusOr<std::unique_ptr<StreamClient>> StreamClient::Create(Options options,
                                                                   Handler handler,
                                                                   RandomSource* random) {
  grpc::ChannelArguments args;
  // Notice a dead controller within ~40 s even when nothing is sent.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // We do our own backoff; gRPC's would add to it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.tls.empty()) {
    auto tls = MakeChannelCredentials(options.tls, &args);
    if (!tls.ok()) return tls.status();
    credentials = *tls;
  }
  return std::make_unique<StreamClient>(std::move(options), std::move(handler), random,
                                        std::move(credentials), std::move(args));
}

StreamClient::StreamClient(Options options, Handler handler, RandomSource* random,
                           std::shared_ptr<grpc::ChannelCredentials> credentials,
                           grpc::ChannelArguments args)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      random_(random),
      credentials_(std::move(credentials)),
      args_(std::move(args)) {}

void StreamClient::Reconnect() {
  absl::MutexLock l(&mu_);
  if (context_ != nullptr) context_->TryCancel();
}

void StreamClient::NewChannel() {
  std::shared_ptr<grpc::ChannelCredentials> credentials = credentials_;
  grpc::ChannelArguments args = args_;
  if (!options_.tls.empty()) {
    // Re-read: the certificate may have been renewed since the last attempt.
    auto fresh = MakeChannelCredentials(options_.tls, &args);
    if (fresh.ok()) {
      credentials = *fresh;
    } else {
      LogWarning("tls_files_unreadable").Kv("error", fresh.status().message());
    }
  }
  channel_ = grpc::CreateCustomChannel(options_.target, credentials, args);
  stub_ = v1::AgentService::NewStub(channel_);
}

StreamClient::~StreamClient() { Stop(); }

void StreamClient::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StreamClient::Stop() {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool StreamClient::connected() const {
  absl::MutexLock l(&mu_);
  return connected_;
}

bool StreamClient::Send(const v1::AgentMessage& message) {
  absl::MutexLock l(&mu_);
  if (!writable_ || queue_.size() >= options_.max_queued) return false;
  queue_.push_back(message);
  return true;
}

void StreamClient::WriteLoop(
    grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>* stream,
    uint64_t generation) {
  while (true) {
    v1::AgentMessage m;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this, generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || !writable_ || generation_ != generation;
      };
      mu_.Await(absl::Condition(&ready));
      if (!writable_ || generation_ != generation) return;
      m = std::move(queue_.front());
      queue_.pop_front();
    }
    if (!stream->Write(m)) return;  // the reader sees the end too
  }
}

void StreamClient::Run() {
  ReconnectBackoff::Options backoff_options;
  backoff_options.min = options_.min_backoff;
  backoff_options.max = options_.max_backoff;
  backoff_options.refused_min = options_.refused_min_backoff;
  backoff_options.refused_max = options_.refused_max_backoff;
  ReconnectBackoff backoff(backoff_options);
  while (true) {
    grpc::ClientContext context;
    uint64_t generation;
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
      context_ = &context;
      generation = ++generation_;
    }
    NewChannel();
    auto stream = stub_->Session(&context);
    v1::AgentMessage hello;
    // Built now: what the agent holds at this attempt, not at start.
    *hello.mutable_hello() =
        options_.build_hello ? options_.build_hello(options_.hello) : options_.hello;
    bool welcomed = false;
    if (stream->Write(hello)) {
      {
        absl::MutexLock l(&mu_);
        writable_ = true;
        queue_.clear();  // what was queued for the old stream is stale
      }
      std::thread writer([&] { WriteLoop(stream.get(), generation); });
      v1::ControllerMessage m;
      while (stream->Read(&m)) {
        if (m.has_welcome() && !welcomed) {
          welcomed = true;
          {
            absl::MutexLock l(&mu_);
            connected_ = true;
          }
          LogInfo("controller_connected").Kv("controller", options_.target);
          if (handler_.on_connected) handler_.on_connected();
        } else if (handler_.on_message) {
          handler_.on_message(m);
        }
        WipeKeys(&m);
      }
      {
        absl::MutexLock l(&mu_);
        writable_ = false;
        connected_ = false;
      }
      context.TryCancel();  // unblocks a Write stuck on flow control
      writer.join();
    }
    grpc::Status status = stream->Finish();
    {
      absl::MutexLock l(&mu_);
      context_ = nullptr;
      if (stopping_) return;
    }
    // Jittered exponential backoff (reconnect_backoff.h): a returning
    // controller is found within ~1 s, not by the whole fleet in the same
    // millisecond, and a refusal is not hammered.
    const ReconnectBackoff::Outcome outcome = ReconnectBackoff::Classify(
        static_cast<absl::StatusCode>(status.error_code()), status.error_message(), welcomed);
    absl::Duration wait = backoff.Next(outcome, *random_);
    (welcomed ? LogWarning("controller_disconnected") : LogWarning("controller_unreachable"))
        .Kv("controller", options_.target)
        .Kv("code", static_cast<int>(status.error_code()))
        .Kv("error", status.error_message())
        .Kv("refused", outcome == ReconnectBackoff::Outcome::kRefused)
        .Kv("retry_ms", absl::ToInt64Milliseconds(wait));
    absl::MutexLock l(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
  }
}

}  // namespace ikeless::agent
