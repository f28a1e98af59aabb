// XfrmDatapath's life cycle: the instance lock, the sockets, the
// namespace's sysctls, the sweep of stale state of ours, and the ESP probe.
#include "datapath/xfrm/xfrm_datapath.h"

#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace ikeless::datapath::xfrm {
namespace {

// One agent per network namespace (a node has one): abstract UNIX socket
// names belong to the namespace and vanish with the process. Two would
// sweep each other's policies at start and exit.
absl::StatusOr<int> InstanceLock() {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(std::strerror(errno));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  static constexpr char kName[] = "ikeless-xfrm";
  std::memcpy(a.sun_path + 1, kName, sizeof kName - 1);  // sun_path[0] = 0: abstract
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof kName);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    int e = errno;
    close(fd);
    if (e == EADDRINUSE) {
      return absl::FailedPreconditionError(
          "another ikeless agent with kernel XFRM runs in this network namespace; two would "
          "remove each other's policies");
    }
    return absl::UnavailableError(absl::StrCat("instance lock: ", std::strerror(e)));
  }
  return fd;
}

// Writes a per-namespace sysctl; false if it could not.
bool WriteSysctl(const char* path, int value) {
  std::ofstream f(path);
  f << value << "\n";
  f.flush();
  return static_cast<bool>(f);
}

// The socket's own packets pass whatever the SPD says, in both directions,
// as IKE daemons do for theirs. A pushed host-to-host PROTECT rule between
// two nodes also matches their ESP-in-UDP packets; without this the kernel
// checks them against that rule before decapsulating and drops every one
// (XfrmInTmplMismatch; found by the VM test's SPD push case).
bool BypassSocketPolicy(int fd, int family) {
  for (uint8_t dir : {XFRM_POLICY_IN, XFRM_POLICY_OUT}) {
    xfrm_userpolicy_info p{};
    p.sel.family = static_cast<uint16_t>(family);
    p.lft.soft_byte_limit = XFRM_INF;
    p.lft.hard_byte_limit = XFRM_INF;
    p.lft.soft_packet_limit = XFRM_INF;
    p.lft.hard_packet_limit = XFRM_INF;
    p.dir = dir;
    p.action = XFRM_POLICY_ALLOW;
    const int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    const int name = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
    if (setsockopt(fd, level, name, &p, sizeof p) != 0) return false;
  }
  return true;
}

// RFC 3948 §2.1 receive side: a UDP socket on the port, switched to
// ESP-in-UDP decapsulation (the kernel hands ESP to XFRM, not to us).
absl::StatusOr<int> EncapSocket(int family, uint16_t port) {
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(std::strerror(errno));
  int one = 1;
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET6) {
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    len = sizeof *a;
  }
  int type = UDP_ENCAP_ESPINUDP;
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof type) != 0 ||
      !BypassSocketPolicy(fd, family)) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(std::strerror(e));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<XfrmDatapath>> XfrmDatapath::Create(Options options) {
  if (options.clock == nullptr) options.clock = SystemClock::Get();
  if (options.mapping.reqid_base > UINT32_MAX - kReqidSpan ||
      options.mapping.priority_base > UINT32_MAX - kReqidSpan) {
    return absl::InvalidArgumentError(
        "xfrm: reqid_base and priority_base need room for 65536 values below 2^32");
  }
  auto lock = InstanceLock();
  if (!lock.ok()) return lock.status();
  auto requests = XfrmSocket::Open(0);
  auto events = requests.ok()
                    ? XfrmSocket::Open(XfrmSocket::kAcquireGroup | XfrmSocket::kExpireGroup)
                    : requests.status();
  if (!events.ok()) {
    close(*lock);
    return events.status();
  }
  // Per network namespace. 0: the kernel queues packets that wait for an
  // SA (forwarded ones) instead of dropping them.
  if (options.hold_first_packets && !WriteSysctl("/proc/sys/net/core/xfrm_larval_drop", 0)) {
    LogWarning("xfrm_larval_drop_not_set")
        .Kv("why", "cannot write /proc/sys/net/core/xfrm_larval_drop; first packets are dropped");
  }
  if (options.acquire_expires_seconds > 0 &&
      !WriteSysctl("/proc/sys/net/core/xfrm_acq_expires", options.acquire_expires_seconds)) {
    LogWarning("xfrm_acq_expires_not_set").Kv("why", "cannot write /proc/sys/net/core/xfrm_acq_expires");
  }
  std::unique_ptr<XfrmDatapath> dp(new XfrmDatapath(std::move(options), *lock,
                                                    std::move(*requests), std::move(*events)));
  if (auto s = dp->OpenEncapSockets(); !s.ok()) return s;
  {
    absl::MutexLock l(&dp->mu_);
    if (auto s = dp->SweepOwnedLocked(); !s.ok()) return s;
  }
  // TEST-NET-1 addresses: a state between them is never used by traffic.
  if (absl::Status probe = dp->ProbeEsp("192.0.2.1", "192.0.2.2"); !probe.ok()) {
    LogWarning("xfrm_no_esp").Kv("error", probe.message());
  }
  dp->thread_ = std::thread([raw = dp.get()] { raw->Run(); });
  dp->started_ = true;
  return dp;
}

XfrmDatapath::XfrmDatapath(Options options, int instance_lock, XfrmSocket requests,
                           XfrmSocket events)
    : options_(std::move(options)),
      instance_lock_(instance_lock),
      requests_(std::move(requests)),
      events_(std::move(events)) {}

XfrmDatapath::~XfrmDatapath() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock l(&mu_);
    pending_.clear();
    // A Create that failed half-way removes nothing: the policies may
    // belong to an instance that is still running.
    if (started_) {
      if (auto s = SweepOwnedLocked(); !s.ok()) {
        LogWarning("xfrm_cleanup_failed").Kv("error", s.message());
      }
    }
  }
  for (int fd : encap_fds_) close(fd);
  close(instance_lock_);
}

absl::Status XfrmDatapath::OpenEncapSockets() {
  if (options_.udp_port == 0) return absl::OkStatus();
  auto v4 = EncapSocket(AF_INET, options_.udp_port);
  if (!v4.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot open the ESP-in-UDP socket on port ",
                                               options_.udp_port, ": ", v4.status().message()));
  }
  encap_fds_.push_back(*v4);
  auto v6 = EncapSocket(AF_INET6, options_.udp_port);
  if (v6.ok()) {
    encap_fds_.push_back(*v6);
  } else {
    LogWarning("xfrm_no_ipv6_encap").Kv("error", v6.status().message());
  }
  return absl::OkStatus();
}

absl::Status XfrmDatapath::SweepOwnedLocked() {
  std::vector<std::pair<uint32_t, uint8_t>> policies;
  auto s = requests_.Dump(XFRM_MSG_GETPOLICY, [&](const nlmsghdr* m) {
    if (auto p = ParsePolicy(m); p && options_.mapping.OwnsPolicy(*p)) {
      policies.emplace_back(p->index, p->dir);
    }
  });
  if (!s.ok()) return s;
  std::vector<KernelState> states;
  s = requests_.Dump(XFRM_MSG_GETSA, [&](const nlmsghdr* m) {
    if (auto st = ParseState(m); st && options_.mapping.Owns(st->reqid)) states.push_back(*st);
  });
  if (!s.ok()) return s;
  for (auto [index, dir] : policies) {
    NetlinkMessage m = DeletePolicyByIndexMessage(index, dir);
    (void)requests_.Transact(m, "remove policy");
  }
  for (const KernelState& st : states) {
    auto m = DeleteStateMessage(st.destination, st.spi);
    if (m.ok()) (void)requests_.Transact(*m, "remove state");
  }
  if (!policies.empty() || !states.empty()) {
    LogInfo("xfrm_owned_removed")
        .Kv("policies", static_cast<int64_t>(policies.size()))
        .Kv("states", static_cast<int64_t>(states.size()));
  }
  sas_.clear();
  current_outbound_.clear();
  installed_.clear();
  return absl::OkStatus();
}

absl::Status XfrmDatapath::ProbeEsp(const std::string& source, const std::string& destination) {
  v1::SaParameters sa;
  sa.set_spi(0x1e5fee);
  sa.set_source(source);
  sa.set_destination(destination);
  sa.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  sa.set_encryption_key(std::string(16, '\0'));  // a probe: removed at once, never used
  sa.set_salt(std::string(4, '\0'));
  sa.set_extended_sequence_numbers(true);
  absl::MutexLock l(&mu_);
  if (auto s = WriteStateLocked(0, Direction::kInbound, sa); !s.ok()) return s;
  sas_.erase({CanonicalAddressText(destination), sa.spi()});
  auto m = DeleteStateMessage(destination, sa.spi());
  return requests_.Transact(*m, "remove probe state");
}

}  // namespace ikeless::datapath::xfrm
