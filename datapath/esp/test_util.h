#ifndef IKELESS_DATAPATH_ESP_TEST_UTIL_H_
#define IKELESS_DATAPATH_ESP_TEST_UTIL_H_

// Helpers shared by the ESP tests: hex vectors as typed in from the RFCs.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ikeless::datapath::esp::testing {

// "45 00 00 54\n a6f2" -> bytes; whitespace is ignored. Aborts on bad input.
std::vector<uint8_t> Hex(std::string_view text);

// Lowercase hex without separators.
std::string ToHex(std::span<const uint8_t> bytes);

inline std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

inline std::string AsString(std::span<const uint8_t> b) { return {b.begin(), b.end()}; }

}  // namespace ikeless::datapath::esp::testing

#endif  // IKELESS_DATAPATH_ESP_TEST_UTIL_H_
