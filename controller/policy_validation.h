#ifndef IKELESS_CONTROLLER_POLICY_VALIDATION_H_
#define IKELESS_CONTROLLER_POLICY_VALIDATION_H_

// Checks a policy an operator submitted and fills its defaults, before it
// reaches the policy store. Every error is INVALID_ARGUMENT and names the
// field and the reason, so `ipsecctl` can print it as one line. Algorithm
// rules follow RFC 8221.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/policy.pb.h"

namespace ikeless::controller {

// Validates `policy` in place and fills defaults (ESP, tunnel,
// aes-gcm-16/128, soft lifetime 90 % of hard, replay window 128). Canonical
// address spelling. Lifetimes that cannot work are refused
// (common/lifetime_rules.h): a hard lifetime under 8 s, a soft limit not
// below its hard one or under 1/32 of it. Server-set fields
// (revision, times) are cleared.
// `warnings` receives one line per legacy algorithm accepted by opt-in.
absl::Status NormalizePolicy(v1::Policy* policy, std::vector<std::string>* warnings);

// Name rule shared with GetPolicy/DeletePolicy: [a-z0-9][a-z0-9._-]{0,62}.
absl::Status ValidatePolicyName(const std::string& name);

// Selector rule shared with SaRequest validation; `field` prefixes errors.
absl::Status ValidateSelector(const v1::Selector& selector, const std::string& field);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_POLICY_VALIDATION_H_
