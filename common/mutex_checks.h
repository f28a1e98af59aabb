#ifndef IKELESS_COMMON_MUTEX_CHECKS_H_
#define IKELESS_COMMON_MUTEX_CHECKS_H_

// Debian's Abseil is built without NDEBUG, so every absl::Mutex lock is
// checked for lock-order cycles against a global graph (GraphCycles). Under
// iperf3 through the ESP engine that was 45 % of an agent's CPU, and ~2 %
// of a setup in the controller (perf, BENCHMARKS.md). Tests keep the
// checks, where they find real bugs; the
// controller and agent binaries turn them off first thing in main().

namespace ikeless {

void DisableMutexDeadlockDetection();

}  // namespace ikeless

#endif  // IKELESS_COMMON_MUTEX_CHECKS_H_
