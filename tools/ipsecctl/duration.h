#ifndef IKELESS_TOOLS_IPSECCTL_DURATION_H_
#define IKELESS_TOOLS_IPSECCTL_DURATION_H_

// SA lifetimes as operators write them. Policies store whole seconds, so the
// syntax has no fractions: "3600" (seconds), "3600s", "90m", "1h", "2d", or
// a sum such as "1h30m". absl::ParseDuration is not used because it accepts
// fractions and negative values and requires a unit on every number.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ikeless::ipsecctl {

// Seconds, or INVALID_ARGUMENT for malformed or overflowing text. Zero is
// returned as zero; whether zero is allowed is the caller's decision.
absl::StatusOr<uint64_t> ParseDurationSeconds(absl::string_view text);

// The shortest text ParseDurationSeconds reads back to `seconds`:
// 3600 -> "1h", 5400 -> "1h30m", 59 -> "59s", 0 -> "0s".
std::string FormatDurationSeconds(uint64_t seconds);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_DURATION_H_
