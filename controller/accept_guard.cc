#include "controller/accept_guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/log.h"

namespace ikeless::controller {
namespace {

// One accepted connection: the inode it had (gRPC closes descriptors
// without telling us; a sweep finds those gone or reused) and its peer.
struct Accepted {
  ino_t inode = 0;
  std::string peer;  // IP address, "" if unknown (unix sockets)
};

// What the guard keeps. A leaked singleton: accept4 may run on any thread
// until exit.
struct Guard {
  absl::Mutex mu;
  bool installed ABSL_GUARDED_BY(mu) = false;
  AcceptGuardLimits limits ABSL_GUARDED_BY(mu);
  int reserve ABSL_GUARDED_BY(mu) = -1;
  std::map<int, Accepted> open ABSL_GUARDED_BY(mu);
  std::map<std::string, uint64_t> per_peer ABSL_GUARDED_BY(mu);
  std::set<int> listeners ABSL_GUARDED_BY(mu);  // descriptors accept4 was called on
  std::map<int, uint64_t> stuck_ticks ABSL_GUARDED_BY(mu);
  uint64_t accepted_at_last_tick ABSL_GUARDED_BY(mu) = 0;
  absl::Time last_sweep ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  absl::Time last_log ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  AcceptGuardStats stats ABSL_GUARDED_BY(mu);
};

Guard& G() {
  static Guard* g = new Guard();
  return *g;
}

// The sweep and log intervals are this process's own: monotonic
// (ikeless::MonotonicNow), so that an NTP step neither stops the sweeps
// nor floods the log.

int RawAccept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  return static_cast<int>(syscall(SYS_accept4, fd, addr, len, flags));
}

std::string PeerOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, text, sizeof text);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, text, sizeof text);
  }
  return text;
}

void Sweep(Guard& g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g.mu) {
  for (auto it = g.open.begin(); it != g.open.end();) {
    struct stat st;
    const bool same = fstat(it->first, &st) == 0 && S_ISSOCK(st.st_mode) &&
                      st.st_ino == it->second.inode;
    if (same) {
      ++it;
      continue;
    }
    if (auto p = g.per_peer.find(it->second.peer); p != g.per_peer.end() && --p->second == 0) {
      g.per_peer.erase(p);
    }
    it = g.open.erase(it);
  }
  g.last_sweep = MonotonicNow();
}

// One line per second at most while refusing, with the totals so far: a
// flood must not flood the log too.
void LogRefusal(Guard& g, const char* why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g.mu) {
  const absl::Time now = MonotonicNow();
  if (now - g.last_log < absl::Seconds(1)) return;
  g.last_log = now;
  LogWarning("connection_refused")
      .Kv("reason", why)
      .Kv("open", static_cast<uint64_t>(g.open.size()))
      .Kv("cap", g.limits.max_connections)
      .Kv("refused_over_cap", g.stats.refused_over_cap)
      .Kv("refused_per_address", g.stats.refused_per_address)
      .Kv("refused_no_descriptor", g.stats.refused_no_descriptor);
}

enum class Limit { kNone, kCap, kPerAddress };

// Which limit `peer` would pass with one more connection, if any.
Limit OverLimit(Guard& g, const std::string& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g.mu) {
  auto over = [&] {
    g.mu.AssertHeld();  // called right here, under g.mu (for -Wthread-safety)
    if (g.limits.max_connections != 0 && g.open.size() >= g.limits.max_connections) {
      return Limit::kCap;
    }
    if (g.limits.max_per_address != 0 && !peer.empty()) {
      auto p = g.per_peer.find(peer);
      if (p != g.per_peer.end() && p->second >= g.limits.max_per_address) {
        return Limit::kPerAddress;
      }
    }
    return Limit::kNone;
  };
  if (over() != Limit::kNone && MonotonicNow() - g.last_sweep > absl::Milliseconds(100)) Sweep(g);
  return over();
}

// Errors after which the listening socket is still good: gRPC 1.51 gives up
// on its listener for every errno but EINTR/EAGAIN/ECONNABORTED, so these
// are reported as EAGAIN (the timer's drain below keeps the edge-triggered
// poller from stalling on what stays queued).
bool Transient(int err) {
  return err != EBADF && err != EINVAL && err != ENOTSOCK && err != EFAULT &&
         err != EOPNOTSUPP && err != EAGAIN && err != EINTR;
}

int GuardedAccept(int fd, sockaddr* addr, socklen_t* len, int flags) {
  Guard& g = G();
  const socklen_t len_in = len != nullptr ? *len : 0;
  for (;;) {
    if (len != nullptr) *len = len_in;  // a refused peer must not shorten the next
    const int c = RawAccept4(fd, addr, len, flags);
    const int err = errno;
    absl::MutexLock l(&g.mu);
    if (!g.installed) {
      errno = err;
      return c;
    }
    g.listeners.insert(fd);
    if (c >= 0) {
      std::string peer = PeerOf(c);
      if (const Limit limit = OverLimit(g, peer); limit != Limit::kNone) {
        close(c);
        const bool cap = limit == Limit::kCap;
        ++(cap ? g.stats.refused_over_cap : g.stats.refused_per_address);
        LogRefusal(g, cap ? "connection cap reached" : "connections per address reached");
        continue;  // drain: the next one may be refused too
      }
      struct stat st;
      ++g.per_peer[peer];
      g.open[c] = Accepted{fstat(c, &st) == 0 ? st.st_ino : 0, std::move(peer)};
      ++g.stats.accepted;
      return c;
    }
    if (err == EMFILE || err == ENFILE) {
      if (g.reserve >= 0) {
        close(g.reserve);
        const int dropped = RawAccept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (dropped >= 0) close(dropped);
        g.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ++g.stats.refused_no_descriptor;
        LogRefusal(g, "out of file descriptors");
        if (dropped >= 0) continue;  // drain the backlog
      } else {
        g.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (g.reserve >= 0) continue;  // try again with the reserve back
      }
      errno = EAGAIN;  // gRPC re-arms; the timer drains what stays queued
      return -1;
    }
    errno = Transient(err) ? EAGAIN : err;
    return -1;
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

void InstallAcceptGuard(const AcceptGuardLimits& limits) {
  Guard& g = G();
  absl::MutexLock l(&g.mu);
  g.limits = limits;
  if (g.reserve < 0) g.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  g.installed = true;
}

void AcceptGuardTick() {
  Guard& g = G();
  absl::MutexLock l(&g.mu);
  if (g.reserve < 0) g.reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const bool accepted_since = g.stats.accepted != g.accepted_at_last_tick;
  g.accepted_at_last_tick = g.stats.accepted;
  for (int fd : g.listeners) {
    pollfd p{fd, POLLIN, 0};
    const bool queued = poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
    uint64_t& ticks = g.stuck_ticks[fd];
    ticks = queued && !accepted_since ? ticks + 1 : 0;
    if (ticks < 2) continue;
    // Connections queued for two ticks while nothing was accepted: gRPC's
    // edge-triggered poller will not call accept again. Refuse what waits
    // so that the next connection raises a new edge.
    uint64_t drained = 0;
    for (int c; drained < 4096 && (c = RawAccept4(fd, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
      close(c);
      ++drained;
    }
    g.stats.drained_stuck += drained;
    ticks = 0;
    LogWarning("listener_drained").Kv("fd", static_cast<int64_t>(fd)).Kv("connections", drained);
  }
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
