#ifndef IKELESS_AGENT_FAKE_CONTROLLER_LINK_H_
#define IKELESS_AGENT_FAKE_CONTROLLER_LINK_H_

// A ControllerLink for tests: records what the agent sends while
// "connected" and loses it (returning false) while not, like the stream.

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/controller_link.h"

namespace ikeless::agent {

class FakeControllerLink final : public ControllerLink {
 public:
  bool Send(const v1::AgentMessage& message) override {
    absl::MutexLock l(&mu_);
    if (!connected_) {
      ++lost_;
      return false;
    }
    sent_.push_back(message);
    return true;
  }

  void set_connected(bool connected) {
    absl::MutexLock l(&mu_);
    connected_ = connected;
  }
  int lost() const {
    absl::MutexLock l(&mu_);
    return lost_;
  }
  std::vector<v1::AgentMessage> sent() const {
    absl::MutexLock l(&mu_);
    return sent_;
  }
  // The SaRequests sent, in order.
  std::vector<v1::SaRequest> requests() const {
    std::vector<v1::SaRequest> v;
    for (const v1::AgentMessage& m : sent()) {
      if (m.has_request()) v.push_back(m.request());
    }
    return v;
  }
  // The SaEvents sent, in order.
  std::vector<v1::SaEvent> events() const {
    std::vector<v1::SaEvent> v;
    for (const v1::AgentMessage& m : sent()) {
      if (m.has_sa_event()) v.push_back(m.sa_event());
    }
    return v;
  }
  void Clear() {
    absl::MutexLock l(&mu_);
    sent_.clear();
  }

 private:
  mutable absl::Mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = true;
  int lost_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::AgentMessage> sent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_FAKE_CONTROLLER_LINK_H_
