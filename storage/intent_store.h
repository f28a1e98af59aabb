#ifndef IKELESS_STORAGE_INTENT_STORE_H_
#define IKELESS_STORAGE_INTENT_STORE_H_

// Writes a whole change of intent (nodes and policies, as `ipsecctl apply`
// makes it) in one transaction: either every put and delete lands or none
// does, so a fleet file never half-applies. Records arrive validated and
// normalised (controller/node_validation.h, policy_validation.h).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/admin.pb.h"
#include "proto/policy.pb.h"

namespace ikeless::storage {

// What to write. A put creates the record (revision 1) or replaces the one
// of the same name (revision + 1, create_time_unix kept); a delete of a
// name that does not exist is NOT_FOUND and nothing is written.
struct IntentWrite {
  std::vector<v1::Node> put_nodes;
  std::vector<std::string> delete_nodes;
  std::vector<v1::Policy> put_policies;
  std::vector<std::string> delete_policies;

  bool empty() const {
    return put_nodes.empty() && delete_nodes.empty() && put_policies.empty() &&
           delete_policies.empty();
  }
};

class IntentStore {
 public:
  virtual ~IntentStore() = default;

  // All or nothing.
  virtual absl::Status WriteIntent(const IntentWrite& write) = 0;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_INTENT_STORE_H_
