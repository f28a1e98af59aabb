#include "controller/accept_guard.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace ikeless::controller {
namespace {

// What the guard keeps. A leaked singleton: accept4 may run on any thread
// until exit.
struct Guard {
  absl::Mutex mu;
  bool installed ABSL_GUARDED_BY(mu) = false;
  uint64_t max_connections ABSL_GUARDED_BY(mu) = 0;
  int reserve ABSL_GUARDED_BY(mu) = -1;
  // Accepted descriptors and the inode they had: gRPC closes them without
  // telling us, so a sweep finds those that are gone (or reused).
  std::map<int, ino_t> open ABSL_GUARDED_BY(mu);
  absl::Time last_sweep ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  absl::Time last_log ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  AcceptGuardStats stats ABSL_GUARDED_BY(mu);
};

Guard& G() {
  static Guard* g = new Guard();
  return *g;
}

int RawAccept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  return static_cast<int>(syscall(SYS_accept4, fd, addr, len, flags));
}

void Sweep(Guard& g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g.mu) {
  for (auto it = g.open.begin(); it != g.open.end();) {
    struct stat st;
    const bool same = fstat(it->first, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == it->second;
    it = same ? std::next(it) : g.open.erase(it);
  }
  g.last_sweep = absl::Now();
}

// One line per second at most while refusing, with the totals so far: a
// flood must not flood the log too.
void LogRefusal(Guard& g, const char* why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g.mu) {
  const absl::Time now = absl::Now();
  if (now - g.last_log < absl::Seconds(1)) return;
  g.last_log = now;
  LogWarning("connection_refused")
      .Kv("reason", why)
      .Kv("open", static_cast<uint64_t>(g.open.size()))
      .Kv("cap", g.max_connections)
      .Kv("refused_over_cap", g.stats.refused_over_cap)
      .Kv("refused_no_descriptor", g.stats.refused_no_descriptor);
}

int GuardedAccept(int fd, sockaddr* addr, socklen_t* len, int flags) {
  Guard& g = G();
  for (;;) {
    const int c = RawAccept4(fd, addr, len, flags);
    const int err = errno;
    absl::MutexLock l(&g.mu);
    if (!g.installed) {
      errno = err;
      return c;
    }
    if (c >= 0) {
      if (g.max_connections != 0 && g.open.size() >= g.max_connections &&
          absl::Now() - g.last_sweep > absl::Milliseconds(100)) {
        Sweep(g);
      }
      if (g.max_connections != 0 && g.open.size() >= g.max_connections) {
        close(c);
        ++g.stats.refused_over_cap;
        LogRefusal(g, "connection cap reached");
        continue;  // drain: the next one may be refused too
      }
      struct stat st;
      g.open[c] = fstat(c, &st) == 0 ? st.st_ino : 0;
      ++g.stats.accepted;
      return c;
    }
    if ((err == EMFILE || err == ENFILE) && g.reserve >= 0) {
      close(g.reserve);
      const int dropped = RawAccept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (dropped >= 0) close(dropped);
      g.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
      ++g.stats.refused_no_descriptor;
      LogRefusal(g, "out of file descriptors");
      if (dropped >= 0 && g.reserve >= 0) continue;
      errno = EAGAIN;  // gRPC re-arms and waits for the next connection
      return -1;
    }
    if (err == EMFILE || err == ENFILE) {
      // No reserve (another thread took the descriptor): try to get it back
      // and keep gRPC's listener alive either way.
      g.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
      errno = EAGAIN;
      return -1;
    }
    errno = err;
    return c;
  }
}

}  // namespace

uint64_t RaiseDescriptorLimit() {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max) {
    struct rlimit raised = r;
    raised.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) r = raised;
  }
  return static_cast<uint64_t>(r.rlim_cur);
}

void InstallAcceptGuard(uint64_t max_connections) {
  Guard& g = G();
  absl::MutexLock l(&g.mu);
  g.max_connections = max_connections;
  if (g.reserve < 0) g.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  g.installed = true;
}

AcceptGuardStats GetAcceptGuardStats() {
  Guard& g = G();
  absl::MutexLock l(&g.mu);
  return g.stats;
}

}  // namespace ikeless::controller

// The definition the dynamic linker binds gRPC's accept4 calls to (see the
// header). C linkage and default visibility: it must replace libc's.
extern "C" __attribute__((visibility("default"))) int accept4(int fd, sockaddr* addr,
                                                              socklen_t* len, int flags) {
  return ikeless::controller::GuardedAccept(fd, addr, len, flags);
}
