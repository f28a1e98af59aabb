#include "tools/ipsecctl/numbers.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ikeless::ipsecctl {
namespace {

// Quotes at most 32 characters of operator input in an error message.
std::string Quote(absl::string_view text) {
  return absl::StrCat("'", text.substr(0, 32), text.size() > 32 ? "...'" : "'");
}

}  // namespace

absl::StatusOr<uint64_t> ParseUnsigned(absl::string_view text, uint64_t max) {
  if (text.empty()) return absl::InvalidArgumentError("empty value, expected a number");
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a number"));
    }
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(text), " is too large (at most ", max, ")"));
    }
    value = value * 10 + digit;
  }
  if (value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is too large (at most ", max, ")"));
  }
  return value;
}

absl::StatusOr<int64_t> ParseSigned(absl::string_view text, int64_t min, int64_t max) {
  bool negative = !text.empty() && text[0] == '-';
  absl::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits[0] < '0' || digits[0] > '9') {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a number"));
  }
  // The magnitude of the most negative int64 is max() + 1.
  uint64_t limit = negative ? static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1
                            : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  auto magnitude = ParseUnsigned(digits, limit);
  if (!magnitude.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is not a number in ", min, "..", max));
  }
  int64_t value =
      negative ? static_cast<int64_t>(0 - *magnitude) : static_cast<int64_t>(*magnitude);
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is out of range ", min, "..", max));
  }
  return value;
}

}  // namespace ikeless::ipsecctl
