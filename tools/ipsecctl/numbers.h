#ifndef IKELESS_TOOLS_IPSECCTL_NUMBERS_H_
#define IKELESS_TOOLS_IPSECCTL_NUMBERS_H_

// Strict decimal parsing for command-line values. absl::SimpleAtoi accepts
// surrounding spaces and a leading '+', which would let "--priority ' 5'" or
// "--key-bits +256" through; an operator's typo should be an error instead.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ikeless::ipsecctl {

// Digits only, value in [0, max]. The error says what was wrong with `text`
// but not which option it came from; callers prefix that.
absl::StatusOr<uint64_t> ParseUnsigned(absl::string_view text, uint64_t max);

// An optional '-' and digits, value in [min, max].
absl::StatusOr<int64_t> ParseSigned(absl::string_view text, int64_t min, int64_t max);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_NUMBERS_H_
