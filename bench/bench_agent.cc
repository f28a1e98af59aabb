#include "bench/bench_agent.h"

#include <utility>

#include "absl/flags/flag.h"

ABSL_FLAG(int, successor_keys, 0,
          "successor SPIs each request reserves (agents default to 3; 0 = the requests of "
          "earlier runs)");

namespace ikeless::bench {

BenchAgent::BenchAgent(v1::AgentService::Stub* stub, std::string node_name, std::string address,
                       uint32_t index, Handler handler)
    : stub_(stub),
      node_name_(std::move(node_name)),
      address_(std::move(address)),
      index_(index),
      handler_(std::move(handler)) {}

// gRPC must be done with the reactor before it goes away.
BenchAgent::~BenchAgent() { Stop(absl::InfiniteDuration()); }

void BenchAgent::Start() {
  started_ = true;
  stub_->async()->Session(&context_, this);
  v1::AgentMessage hello;
  hello.mutable_hello()->set_node_name(node_name_);
  hello.mutable_hello()->add_addresses(address_);
  hello.mutable_hello()->set_agent_version("ikeless-bench");
  hello.mutable_hello()->mutable_capabilities()->set_datapath("none");
  Send(std::move(hello));
  StartRead(&in_);
  StartCall();
}

bool BenchAgent::Send(v1::AgentMessage message) {
  const v1::AgentMessage* to_write = nullptr;
  {
    absl::MutexLock l(&mu_);
    if (broken_) return false;
    queue_.push_back(std::move(message));
    if (writing_) return true;
    writing_ = true;
    to_write = &queue_.front();
  }
  StartWrite(to_write);
  return true;
}

bool BenchAgent::Request(uint64_t id, const std::string& peer, uint32_t spi) {
  v1::AgentMessage m;
  v1::SaRequest* r = m.mutable_request();
  r->set_id(id);
  r->set_source(address_);
  r->set_peer(peer);
  r->set_spi(spi);
  // Successor SPIs as a real agent reserves them (DECISIONS 33): distinct
  // from `spi` and from each other (spi stays below 2^28 here).
  for (int k = 1; k <= absl::GetFlag(FLAGS_successor_keys); ++k) {
    r->add_successor_spis(spi + static_cast<uint32_t>(k) * 0x10000000u);
  }
  return Send(std::move(m));
}

void BenchAgent::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ended; OnDone follows
  if (in_.has_welcome() && !welcome_.HasBeenNotified()) {
    welcome_.Notify();
  } else {
    handler_(*this, in_);
  }
  StartRead(&in_);
}

void BenchAgent::OnWriteDone(bool ok) {
  const v1::AgentMessage* next = nullptr;
  {
    absl::MutexLock l(&mu_);
    queue_.pop_front();
    if (!ok) {
      broken_ = true;
      queue_.clear();
    }
    if (queue_.empty()) {
      writing_ = false;
    } else {
      next = &queue_.front();
    }
  }
  if (next != nullptr) StartWrite(next);
}

void BenchAgent::OnDone(const grpc::Status& /*status*/) {
  {
    absl::MutexLock l(&mu_);
    broken_ = true;
  }
  done_.Notify();
}

void BenchAgent::Stop(absl::Duration timeout) {
  if (!started_ || done_.HasBeenNotified()) return;
  context_.TryCancel();
  done_.WaitForNotificationWithTimeout(timeout);
}

}  // namespace ikeless::bench
