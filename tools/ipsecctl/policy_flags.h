#ifndef IKELESS_TOOLS_IPSECCTL_POLICY_FLAGS_H_
#define IKELESS_TOOLS_IPSECCTL_POLICY_FLAGS_H_

// The policy options of `policy add` and `policy update`: their specs for
// the tokeniser, their syntax checks, and the edit they make to a
// v1::Policy. Only syntax is checked here (a name, a number, a duration, an
// address); whether a combination makes sense (AES-CBC without integrity, a
// soft lifetime above the hard one) is the controller's to say, so the rules
// live in one place.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "proto/policy.pb.h"
#include "tools/ipsecctl/cli_args.h"

namespace ikeless::ipsecctl {

// What the operator asked to set, and nothing else: `policy update` applies
// exactly these fields to the policy it read, so an option not given keeps
// the stored value.
struct PolicyEdits {
  std::optional<std::string> a;  // canonical AddressMatch text
  std::optional<std::string> b;
  std::optional<v1::PolicyAction> action;  // unset: PROTECT on add
  std::optional<v1::IpsecProtocol> protocol;
  std::optional<v1::Mode> mode;
  std::optional<v1::EncryptionAlgorithm> encryption;
  std::optional<uint32_t> key_bits;
  std::optional<v1::IntegrityAlgorithm> integrity;
  std::optional<uint64_t> hard_seconds;
  std::optional<uint64_t> soft_seconds;
  std::optional<uint64_t> hard_bytes;
  std::optional<uint64_t> soft_bytes;
  std::optional<v1::Selector> selector;
  std::optional<int32_t> priority;
  std::optional<uint32_t> replay_window;
  std::optional<bool> allow_legacy;
  std::optional<std::string> description;

  // True if no option was given.
  bool empty() const;
};

// Specs of every policy option, for SplitArgs.
absl::Span<const OptionSpec> PolicyOptionSpecs();

// Checks one option's values and records it in `edits`. Errors are
// INVALID_ARGUMENT and start with the option's name: "--lifetime: ...".
absl::Status ParsePolicyOption(const Option& option, PolicyEdits* edits);

// Sets exactly the fields present in `edits`.
void ApplyPolicyEdits(const PolicyEdits& edits, v1::Policy* policy);

// Hard lifetime that `policy add` sends when --lifetime is not given: the
// controller requires one, and an hour is the common IPsec default.
inline constexpr uint64_t kDefaultHardLifetimeSeconds = 3600;

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_POLICY_FLAGS_H_
