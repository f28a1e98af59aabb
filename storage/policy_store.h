#ifndef IKELESS_STORAGE_POLICY_STORE_H_
#define IKELESS_STORAGE_POLICY_STORE_H_

// The policy store (the source's "distribution policy storage section",
// FIG. 3). Policies arrive here already validated and normalised by
// controller/policy_validation.h; the store keeps them and answers S21.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/address.h"
#include "proto/policy.pb.h"

namespace ikeless::storage {

class PolicyStore {
 public:
  virtual ~PolicyStore() = default;

  // ALREADY_EXISTS if the name is taken. Sets revision to 1.
  virtual absl::StatusOr<v1::Policy> CreatePolicy(const v1::Policy& policy) = 0;
  // NOT_FOUND if absent.
  virtual absl::StatusOr<v1::Policy> GetPolicy(absl::string_view name) = 0;
  // By name.
  virtual absl::StatusOr<std::vector<v1::Policy>> ListPolicies() = 0;
  // Replaces the policy with the same name and increments its revision.
  // NOT_FOUND if absent; ABORTED if expected_revision != 0 and differs.
  // Keeps create_time_unix.
  virtual absl::StatusOr<v1::Policy> UpdatePolicy(const v1::Policy& policy,
                                                  uint64_t expected_revision) = 0;
  // NOT_FOUND if absent.
  virtual absl::Status DeletePolicy(absl::string_view name) = 0;

  // S21: the policy for traffic between `source` and `peer` described by
  // `selector`, or nullopt (S26). Rules in storage/policy_match.h.
  virtual absl::StatusOr<std::optional<v1::Policy>> MatchPolicy(const IpAddress& source,
                                                                const IpAddress& peer,
                                                                const v1::Selector& selector) = 0;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_POLICY_STORE_H_
