#ifndef IKELESS_BENCH_CONTROLLER_PROCESS_H_
#define IKELESS_BENCH_CONTROLLER_PROCESS_H_

// The real controller binary (//controller:ikeless-controller) as a child
// process for a benchmark: started on 127.0.0.1:0 with its database in a
// given directory, its log in that directory (not on the benchmark's
// terminal), and stopped by its own PID, never by name. The destructor
// kills it if Stop() was not called.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ikeless::bench {

// dirname(/proc/self/exe)/../controller/ikeless-controller: where Bazel puts
// the controller next to bazel-bin/bench/<benchmark>.
std::string DefaultControllerBinary();

// Makes SIGINT, SIGTERM and SIGALRM kill (by PID) every controller this
// process started and still runs, then exit; and arms SIGALRM after
// `limit`, so a benchmark always ends and never leaves a controller behind.
void GuardChildren(absl::Duration limit);

class ControllerProcess {
 public:
  // Runs `binary --listen=127.0.0.1:0 --data_dir=<data_dir> <extra_flags>`
  // (the default SQLite file, default durability) and waits for its
  // "listening on HOST:PORT" line. stderr goes to <data_dir>/controller.log.
  static absl::StatusOr<ControllerProcess> Start(const std::string& binary,
                                                 const std::string& data_dir,
                                                 const std::vector<std::string>& extra_flags = {});

  ControllerProcess(ControllerProcess&& other) noexcept;
  ControllerProcess& operator=(ControllerProcess&&) = delete;
  ~ControllerProcess();

  pid_t pid() const { return pid_; }
  const std::string& address() const { return address_; }  // host:port
  std::string database() const { return data_dir_ + "/controller.db"; }
  std::string log_path() const { return data_dir_ + "/controller.log"; }

  // SIGTERM, then SIGKILL if it has not exited within `grace`; reaps it.
  // Returns its exit code (128 + signal if killed).
  int Stop(absl::Duration grace = absl::Seconds(10));

 private:
  ControllerProcess(pid_t pid, int stdout_fd, std::string data_dir)
      : pid_(pid), stdout_fd_(stdout_fd), data_dir_(std::move(data_dir)) {}
  // Polls waitpid until the child exits or `timeout` passes.
  bool Reap(absl::Duration timeout, int* exit_code);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string data_dir_;
  std::string address_;
};

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_CONTROLLER_PROCESS_H_
