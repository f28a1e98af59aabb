#include "datapath/esp/test_util.h"

#include <cstdlib>

namespace ikeless::datapath::esp::testing {
namespace {

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<uint8_t> Hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == ':') continue;
    int n = Nibble(c);
    if (n < 0) std::abort();
    if (high < 0) {
      high = n;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | n));
      high = -1;
    }
  }
  if (high >= 0) std::abort();
  return out;
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

}  // namespace ikeless::datapath::esp::testing
