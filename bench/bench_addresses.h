#ifndef IKELESS_BENCH_BENCH_ADDRESSES_H_
#define IKELESS_BENCH_BENCH_ADDRESSES_H_

// Node addresses for benchmark agents, all inside 198.18.0.0/15 (RFC 2544's
// benchmarking range; DESIGN.md "Test addresses"). Nothing is sent to them:
// agents only name them in their Hello and SaRequests.

#include <cstdint>
#include <string>

namespace ikeless::bench {

inline constexpr char kBenchPrefix[] = "198.18.0.0/15";
// 198.18.0.1 ... 198.19.255.254.
inline constexpr uint32_t kMaxBenchAddresses = (1u << 17) - 2;

// The address of agent number `index` (< kMaxBenchAddresses):
// 198.18.0.0 + 1 + index.
std::string BenchAddress(uint32_t index);

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_BENCH_ADDRESSES_H_
