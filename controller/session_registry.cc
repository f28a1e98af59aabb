#include "controller/session_registry.h"

#include "absl/strings/str_cat.h"

namespace ikeless::controller {

absl::StatusOr<std::shared_ptr<AgentSession>> SessionRegistry::Register(
    std::shared_ptr<AgentSession> session) {
  absl::MutexLock l(&mu_);
  for (const std::string& a : session->addresses()) {
    auto it = by_address_.find(a);
    if (it != by_address_.end() && it->second->node_name() != session->node_name()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "address ", a, " is registered by connected node '", it->second->node_name(), "'"));
    }
  }
  std::shared_ptr<AgentSession> replaced;
  auto old = by_node_.find(session->node_name());
  if (old != by_node_.end()) {
    replaced = old->second;
    for (const std::string& a : replaced->addresses()) by_address_.erase(a);
  }
  by_node_[session->node_name()] = session;
  for (const std::string& a : session->addresses()) by_address_[a] = session;
  return replaced;
}

bool SessionRegistry::Unregister(const AgentSession* session) {
  absl::MutexLock l(&mu_);
  auto it = by_node_.find(session->node_name());
  if (it == by_node_.end() || it->second.get() != session) return false;
  for (const std::string& a : session->addresses()) {
    auto at = by_address_.find(a);
    if (at != by_address_.end() && at->second.get() == session) by_address_.erase(at);
  }
  by_node_.erase(it);
  return true;
}

std::shared_ptr<AgentSession> SessionRegistry::FindByAddress(const std::string& address) const {
  absl::MutexLock l(&mu_);
  auto it = by_address_.find(address);
  return it == by_address_.end() ? nullptr : it->second;
}

std::shared_ptr<AgentSession> SessionRegistry::FindByNode(const std::string& node_name) const {
  absl::MutexLock l(&mu_);
  auto it = by_node_.find(node_name);
  return it == by_node_.end() ? nullptr : it->second;
}

size_t SessionRegistry::size() const {
  absl::MutexLock l(&mu_);
  return by_node_.size();
}

std::vector<std::shared_ptr<AgentSession>> SessionRegistry::All() const {
  absl::MutexLock l(&mu_);
  std::vector<std::shared_ptr<AgentSession>> out;
  out.reserve(by_node_.size());
  for (const auto& [_, s] : by_node_) out.push_back(s);
  return out;
}

}  // namespace ikeless::controller
