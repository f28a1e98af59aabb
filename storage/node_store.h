#ifndef IKELESS_STORAGE_NODE_STORE_H_
#define IKELESS_STORAGE_NODE_STORE_H_

// Node records: the routers and PCs of the fleet with their addresses and
// the site prefixes behind them. With the policies they are the controller's
// whole intent, from which every node's SPD is derived and pushed
// (controller/spd_derivation.h). Nodes arrive here already validated and
// normalised by controller/node_validation.h.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/admin.pb.h"

namespace ikeless::storage {

class NodeStore {
 public:
  virtual ~NodeStore() = default;

  // ALREADY_EXISTS if the name is taken. Sets revision to 1; the status is
  // not stored.
  virtual absl::StatusOr<v1::Node> CreateNode(const v1::Node& node) = 0;
  // NOT_FOUND if absent.
  virtual absl::StatusOr<v1::Node> GetNode(absl::string_view name) = 0;
  // By name.
  virtual absl::StatusOr<std::vector<v1::Node>> ListNodes() = 0;
  // Replaces the node with the same name and increments its revision.
  // NOT_FOUND if absent; ABORTED if expected_revision != 0 and differs.
  // Keeps create_time_unix.
  virtual absl::StatusOr<v1::Node> UpdateNode(const v1::Node& node,
                                              uint64_t expected_revision) = 0;
  // NOT_FOUND if absent.
  virtual absl::Status DeleteNode(absl::string_view name) = 0;

  // A fresh SPD revision: greater than every value returned before, also
  // by an earlier process on the same store.
  virtual absl::StatusOr<uint64_t> NextSpdRevision() = 0;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_NODE_STORE_H_
