// Policy validation (controller/policy_validation.h NormalizePolicy) on an
// arbitrary serialized v1::Policy: what an operator's PolicyService call
// carries. A policy that passes must pass again unchanged (normalizing is
// idempotent).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "controller/policy_validation.h"
#include "proto/policy.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ikeless::v1::Policy policy;
  if (!policy.ParseFromArray(data, static_cast<int>(size))) return 0;
  std::vector<std::string> warnings;
  (void)ikeless::controller::ValidatePolicyName(policy.name());
  (void)ikeless::controller::ValidateSelector(policy.selector(), "selector");
  if (!ikeless::controller::NormalizePolicy(&policy, &warnings).ok()) return 0;
  ikeless::v1::Policy again = policy;
  std::vector<std::string> more;
  if (!ikeless::controller::NormalizePolicy(&again, &more).ok()) __builtin_trap();
  if (again.SerializeAsString() != policy.SerializeAsString()) __builtin_trap();
  return 0;
}
