#ifndef IKELESS_TESTS_SUBPROCESS_H_
#define IKELESS_TESTS_SUBPROCESS_H_

// A child process for cross-process tests: started with posix_spawn, its
// stdout readable line by line, killed (by its own PID, never by name) and
// reaped when the object goes away, also when the test fails.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ikeless::testing {

class Subprocess {
 public:
  // Starts argv[0] with argv; stdout is captured, stderr is inherited (so it
  // lands in the test log).
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();  // SIGKILL + waitpid if still running

  // The next stdout line (without '\n'), or nullopt on EOF or timeout.
  std::optional<std::string> ReadLine(absl::Duration timeout);
  // Reads stdout lines until one starts with `prefix`; returns the rest.
  std::optional<std::string> WaitForLine(const std::string& prefix, absl::Duration timeout);

  void Signal(int sig);
  // Waits for exit; returns the exit code, or 128 + signal number.
  std::optional<int> Wait(absl::Duration timeout);
  pid_t pid() const { return pid_; }

 private:
  Subprocess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool exited_ = false;
};

// Runs a command to completion; returns exit code and stdout.
struct RunResult {
  int exit_code = -1;
  std::string out;
};
RunResult RunCommand(const std::vector<std::string>& argv,
                     absl::Duration timeout = absl::Seconds(20));

}  // namespace ikeless::testing

#endif  // IKELESS_TESTS_SUBPROCESS_H_
