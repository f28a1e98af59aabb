#ifndef IKELESS_CONTROLLER_SESSION_REGISTRY_H_
#define IKELESS_CONTROLLER_SESSION_REGISTRY_H_

// Which open stream speaks for which node and address, so a RequestStartup
// or Distribution for an address reaches the node that owns it (S11, S23).

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "controller/agent_session.h"

namespace ikeless::controller {

class SessionRegistry {
 public:
  // Registers `session` under its node name and addresses. A session of the
  // same node is replaced and returned (the caller closes it). An address
  // owned by another connected node is PERMISSION_DENIED and changes nothing.
  absl::StatusOr<std::shared_ptr<AgentSession>> Register(std::shared_ptr<AgentSession> session);

  // Removes `session` if it is still the registered one for its node.
  // Returns true if it was.
  bool Unregister(const AgentSession* session);

  // The session owning canonical `address`, or nullptr.
  std::shared_ptr<AgentSession> FindByAddress(const std::string& address) const;
  std::shared_ptr<AgentSession> FindByNode(const std::string& node_name) const;

  size_t size() const;
  std::vector<std::shared_ptr<AgentSession>> All() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<AgentSession>> by_node_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<AgentSession>> by_address_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_SESSION_REGISTRY_H_
