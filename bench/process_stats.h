#ifndef IKELESS_BENCH_PROCESS_STATS_H_
#define IKELESS_BENCH_PROCESS_STATS_H_

// What a benchmark reads about a process from /proc: CPU time, resident
// memory, threads and open descriptors. pid 0 means this process.

#include <sys/types.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace ikeless::bench {

// utime and stime of every thread, in seconds (/proc/PID/stat).
struct CpuTimes {
  double user = 0;
  double system = 0;
};
absl::StatusOr<CpuTimes> ProcessCpuTimes(pid_t pid);
// user + system.
absl::StatusOr<double> CpuSeconds(pid_t pid);
// VmRSS in bytes (/proc/PID/status).
absl::StatusOr<int64_t> ResidentBytes(pid_t pid);
// "Threads:" of /proc/PID/status.
absl::StatusOr<int> ThreadCount(pid_t pid);
// Entries of /proc/PID/fd.
absl::StatusOr<int> OpenFdCount(pid_t pid);

// Raises this process's RLIMIT_NOFILE soft limit to its hard limit (children
// started afterwards inherit it). Returns the new soft limit.
absl::StatusOr<uint64_t> RaiseFileLimit();

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_PROCESS_STATS_H_
