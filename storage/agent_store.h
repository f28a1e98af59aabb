#ifndef IKELESS_STORAGE_AGENT_STORE_H_
#define IKELESS_STORAGE_AGENT_STORE_H_

// Nodes the controller has seen (for `ipsecctl agents list` and audit).
// Whether a node is connected right now lives in the session registry, not
// here.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ikeless::storage {

struct AgentRecord {
  std::string node_name;
  std::vector<std::string> addresses;  // canonical
  std::string agent_version;
  std::string datapath;
  absl::Time last_seen = absl::UnixEpoch();
};

class AgentStore {
 public:
  virtual ~AgentStore() = default;
  // Inserts or replaces the record with the same node_name.
  virtual absl::Status UpsertAgent(const AgentRecord& agent) = 0;
  // By node name.
  virtual absl::StatusOr<std::vector<AgentRecord>> ListAgents() = 0;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_AGENT_STORE_H_
