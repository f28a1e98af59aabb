#ifndef IKELESS_BENCH_CONTROLLER_ADMIN_H_
#define IKELESS_BENCH_CONTROLLER_ADMIN_H_

// The operator's side of a benchmark: the PolicyService calls it makes (what
// `ipsecctl policy add` and `ipsecctl agents list` do), and a read-only look
// at the association table in the controller's SQLite file to check how many
// rows, hence transactions, the setups made.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "proto/admin.grpc.pb.h"

namespace ikeless::bench {

class ControllerAdmin {
 public:
  explicit ControllerAdmin(const std::string& target);

  // One policy between every pair of addresses in `prefix` (FIG. 30's
  // wildcard, restricted to the test range): `ipsecctl policy add NAME
  // --between PREFIX PREFIX --lifetime <hard_seconds>s`; other settings are
  // the controller's defaults (ESP, tunnel, AES-GCM-16/128).
  absl::Status AddMeshPolicy(const std::string& name, const std::string& prefix,
                             uint64_t hard_seconds);

  // Agents the controller lists as connected (ListAgents).
  absl::StatusOr<int> ConnectedAgents();

  // `ipsecctl nodes add NAME --address ADDRESS --site SITE`.
  absl::Status AddNode(const std::string& name, const std::string& address,
                       const std::string& site);
  // `ipsecctl policy delete NAME`.
  absl::Status DeletePolicy(const std::string& name);
  // Nodes whose agent is connected and acknowledged its newest SPD
  // revision (ListNodes).
  absl::StatusOr<int> NodesInSync();

 private:
  std::unique_ptr<v1::PolicyService::Stub> stub_;
};

// Rows of the association table: all, and those with both sides filled.
struct AssociationCounts {
  int64_t rows = 0;
  int64_t established = 0;
};
absl::StatusOr<AssociationCounts> CountAssociations(const std::string& database);

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_CONTROLLER_ADMIN_H_
