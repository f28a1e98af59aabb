#include "tests/scripted_agent.h"

namespace ikeless::testing {

ScriptedAgent::ScriptedAgent(const std::string& target)
    : channel_(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())),
      stub_(v1::AgentService::NewStub(channel_)) {
  stream_ = stub_->Session(&context_);
  reader_ = std::thread([this] { ReadLoop(); });
}

ScriptedAgent::~ScriptedAgent() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

void ScriptedAgent::ReadLoop() {
  v1::ControllerMessage m;
  while (stream_->Read(&m)) {
    absl::MutexLock l(&mu_);
    // SPD pushes (a snapshot after every Welcome) have their own list, so
    // the request-path scripts read the messages they are about.
    if (m.has_spd_update()) {
      spd_updates_.push_back(m.spd_update());
    } else {
      inbox_.push_back(m);
    }
  }
  absl::MutexLock l(&mu_);
  ended_ = true;
}

bool ScriptedAgent::Send(const v1::AgentMessage& m) { return stream_->Write(m); }

bool ScriptedAgent::Hello(const std::string& node, const std::vector<std::string>& addresses) {
  v1::AgentMessage m;
  m.mutable_hello()->set_node_name(node);
  for (const auto& a : addresses) m.mutable_hello()->add_addresses(a);
  m.mutable_hello()->set_agent_version("scripted-agent/test");
  m.mutable_hello()->mutable_capabilities()->set_datapath("none");
  return Send(m);
}

bool ScriptedAgent::Request(uint64_t id, const std::string& source, const std::string& peer,
                            uint32_t spi, const std::vector<uint32_t>& successor_spis) {
  v1::AgentMessage m;
  v1::SaRequest* r = m.mutable_request();
  r->set_id(id);
  r->set_source(source);
  r->set_peer(peer);
  r->set_spi(spi);
  for (uint32_t s : successor_spis) r->add_successor_spis(s);
  return Send(m);
}

std::optional<v1::ControllerMessage> ScriptedAgent::Next(absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !inbox_.empty() || ended_; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (inbox_.empty()) return std::nullopt;
  v1::ControllerMessage m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

grpc::Status ScriptedAgent::AwaitEnd(absl::Duration timeout) {
  {
    absl::MutexLock l(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(&ended_), timeout)) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "stream did not end");
    }
  }
  if (!status_) status_ = stream_->Finish();
  return *status_;
}

grpc::Status ScriptedAgent::Finish() {
  if (!writes_done_) {
    stream_->WritesDone();
    writes_done_ = true;
  }
  return AwaitEnd();
}

}  // namespace ikeless::testing
