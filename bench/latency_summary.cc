#include "bench/latency_summary.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ikeless::bench {
namespace {

// Nearest rank: the smallest value with at least p of the set at or below it.
double Rank(const std::vector<double>& sorted, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

LatencySummary Summarize(std::vector<double> micros) {
  LatencySummary s;
  if (micros.empty()) return s;
  std::sort(micros.begin(), micros.end());
  s.count = micros.size();
  s.mean_us = std::accumulate(micros.begin(), micros.end(), 0.0) / static_cast<double>(s.count);
  s.p50_us = Rank(micros, 0.50);
  s.p90_us = Rank(micros, 0.90);
  s.p99_us = Rank(micros, 0.99);
  s.max_us = micros.back();
  return s;
}

}  // namespace ikeless::bench
