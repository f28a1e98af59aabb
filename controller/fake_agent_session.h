#ifndef IKELESS_CONTROLLER_FAKE_AGENT_SESSION_H_
#define IKELESS_CONTROLLER_FAKE_AGENT_SESSION_H_

// An AgentSession that records what it was sent; for tests.

#include <string>
#include <vector>

#include "controller/agent_session.h"

namespace ikeless::controller {

class FakeAgentSession final : public AgentSession {
 public:
  FakeAgentSession(std::string node, std::vector<std::string> addresses)
      : node_(std::move(node)), addresses_(std::move(addresses)) {}

  bool Send(const v1::ControllerMessage& m) override {
    if (closed_) return false;
    sent.push_back(m);
    return true;
  }
  void Close(const absl::Status& status) override {
    closed_ = true;
    close_status = status;
  }
  const std::string& node_name() const override { return node_; }
  const std::vector<std::string>& addresses() const override { return addresses_; }
  const Caller& caller() const override { return caller_identity; }
  bool drops_early_esp() const override { return drops_early; }
  Caller caller_identity;
  bool drops_early = false;
  bool closed() const { return closed_; }

  std::vector<v1::ControllerMessage> sent;
  absl::Status close_status;

 private:
  std::string node_;
  std::vector<std::string> addresses_;
  bool closed_ = false;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_FAKE_AGENT_SESSION_H_
