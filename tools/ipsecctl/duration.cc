#include "tools/ipsecctl/duration.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ikeless::ipsecctl {
namespace {

constexpr uint64_t kMinute = 60;
constexpr uint64_t kHour = 60 * kMinute;
constexpr uint64_t kDay = 24 * kHour;

absl::Status Malformed(absl::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat(
      "'", text.substr(0, 32), "' is not a duration (e.g. 3600, 3600s, 90m, 1h, 1h30m)"));
}

// Multiplier of a unit letter, or 0 if `c` is none.
uint64_t UnitSeconds(char c) {
  switch (c) {
    case 's': return 1;
    case 'm': return kMinute;
    case 'h': return kHour;
    case 'd': return kDay;
    default: return 0;
  }
}

}  // namespace

absl::StatusOr<uint64_t> ParseDurationSeconds(absl::string_view text) {
  if (text.empty()) return Malformed(text);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return Malformed(text);
    uint64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      uint64_t digit = static_cast<uint64_t>(text[i] - '0');
      if (number > (kMax - digit) / 10) return Malformed(text);
      number = number * 10 + digit;
      ++i;
    }
    uint64_t unit = 1;
    if (i < text.size()) {
      unit = UnitSeconds(text[i]);
      if (unit == 0) return Malformed(text);
      ++i;
    } else if (total != 0 || text.find_first_not_of("0123456789") != absl::string_view::npos) {
      // A bare number is only allowed as the whole text ("3600"); in a sum
      // every part needs its unit ("1h30" is ambiguous).
      return Malformed(text);
    }
    if (number > kMax / unit || total > kMax - number * unit) return Malformed(text);
    total += number * unit;
  }
  return total;
}

std::string FormatDurationSeconds(uint64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  static constexpr struct {
    uint64_t seconds;
    const char* letter;
  } kUnits[] = {{kDay, "d"}, {kHour, "h"}, {kMinute, "m"}, {1, "s"}};
  for (const auto& unit : kUnits) {
    if (seconds >= unit.seconds) {
      absl::StrAppend(&out, seconds / unit.seconds, unit.letter);
      seconds %= unit.seconds;
    }
  }
  return out;
}

}  // namespace ikeless::ipsecctl
