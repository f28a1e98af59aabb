#include "bench/controller_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace ikeless::bench {
namespace {

constexpr char kListening[] = "listening on ";

// Controllers started and not yet reaped, for the signal handler.
constexpr int kMaxChildren = 16;
std::atomic<pid_t> g_children[kMaxChildren];

void Remember(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void Forget(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

extern "C" void KillChildrenAndExit(int sig) {
  for (auto& slot : g_children) {
    pid_t pid = slot.load();
    if (pid > 0) kill(pid, SIGKILL);
  }
  static const char kMessage[] =
      "benchmark interrupted or over its time limit; controller killed\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  _exit(128 + sig);
}

// Reads `fd` until a line starting with kListening; returns the rest.
absl::StatusOr<std::string> ReadAddress(int fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string buffer;
  while (true) {
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (absl::StartsWith(line, kListening)) return line.substr(sizeof(kListening) - 1);
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("controller did not print its address");
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) continue;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return absl::UnavailableError("controller exited before listening");
    buffer.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

void GuardChildren(absl::Duration limit) {
  struct sigaction action {};
  action.sa_handler = KillChildrenAndExit;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGALRM}) sigaction(sig, &action, nullptr);
  alarm(static_cast<unsigned>(std::max<int64_t>(1, absl::ToInt64Seconds(limit))));
}

std::string DefaultControllerBinary() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "controller/ikeless-controller";
  return (self.parent_path().parent_path() / "controller" / "ikeless-controller").string();
}

absl::StatusOr<ControllerProcess> ControllerProcess::Start(
    const std::string& binary, const std::string& data_dir,
    const std::vector<std::string>& extra_flags) {
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(binary, ": not an executable (build ",
                                            "//controller:ikeless-controller or pass ",
                                            "--controller_bin)"));
  }
  const std::string log = data_dir + "/controller.log";
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) return absl::InternalError(absl::StrCat(log, ": ", std::strerror(errno)));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    close(log_fd);
    return absl::InternalError("pipe failed");
  }
  // Benchmarks repeat setups between the same pairs with long lifetimes,
  // from thousands of simulated nodes on one loopback address at rates no
  // single node reaches: lift the per-node limits that protect a
  // production controller (per pair, per address, per stream).
  std::vector<std::string> argv = {binary,
                                   "--listen=127.0.0.1:0",
                                   "--insecure",
                                   "--max_rows_per_pair=0",
                                   "--max_rows_per_pair_total=0",
                                   "--max_connections_per_address=0",
                                   "--max_requests_per_second=0",
                                   "--max_half_open_per_address=0",
                                   "--data_dir=" + data_dir};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  close(log_fd);
  if (rc != 0) {
    close(fds[0]);
    return absl::InternalError(absl::StrCat("cannot start ", binary, ": ", std::strerror(rc)));
  }
  Remember(pid);
  ControllerProcess process(pid, fds[0], data_dir);
  auto address = ReadAddress(fds[0], absl::Seconds(20));
  if (!address.ok()) {
    return absl::Status(address.status().code(),
                        absl::StrCat(address.status().message(), " (see ", log, ")"));
  }
  process.address_ = *address;
  return process;
}

ControllerProcess::ControllerProcess(ControllerProcess&& o) noexcept
    : pid_(o.pid_),
      stdout_fd_(o.stdout_fd_),
      data_dir_(std::move(o.data_dir_)),
      address_(std::move(o.address_)) {
  o.pid_ = -1;
  o.stdout_fd_ = -1;
}

ControllerProcess::~ControllerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    Forget(pid_);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool ControllerProcess::Reap(absl::Duration timeout, int* exit_code) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      *exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
                                     : (WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1);
      Forget(pid_);
      pid_ = -1;
      return true;
    }
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

int ControllerProcess::Stop(absl::Duration grace) {
  if (pid_ <= 0) return -1;
  int code = -1;
  kill(pid_, SIGTERM);
  if (Reap(grace, &code)) return code;
  kill(pid_, SIGKILL);
  Reap(absl::InfiniteDuration(), &code);
  return code;
}

}  // namespace ikeless::bench
