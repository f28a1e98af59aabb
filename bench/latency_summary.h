#ifndef IKELESS_BENCH_LATENCY_SUMMARY_H_
#define IKELESS_BENCH_LATENCY_SUMMARY_H_

// Percentiles of a set of measured latencies (nearest rank), for the
// benchmarks' tables.

#include <cstddef>
#include <vector>

namespace ikeless::bench {

struct LatencySummary {
  size_t count = 0;
  double mean_us = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

// `micros` in any order; an empty set gives all zeros.
LatencySummary Summarize(std::vector<double> micros);

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_LATENCY_SUMMARY_H_
