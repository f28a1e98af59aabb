#include "bench/bench_addresses.h"

#include "absl/strings/str_cat.h"

namespace ikeless::bench {

std::string BenchAddress(uint32_t index) {
  const uint32_t a = (198u << 24 | 18u << 16) + 1 + index;
  return absl::StrCat(a >> 24, ".", (a >> 16) & 0xff, ".", (a >> 8) & 0xff, ".", a & 0xff);
}

}  // namespace ikeless::bench
