#include "datapath/esp/esp_datapath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "datapath/esp/engine_drops.h"
#include "datapath/esp/socket_address.h"
#include "datapath/esp/transform.h"
#include "datapath/esp/wire.h"

namespace ikeless::datapath::esp {
namespace {

absl::Status Errno(int err, const std::string& what, const char* hint = "") {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err), hint);
  if (err == EPERM || err == EACCES) return absl::PermissionDeniedError(msg);
  if (err == EADDRINUSE || err == EADDRNOTAVAIL) return absl::FailedPreconditionError(msg);
  return absl::UnavailableError(msg);
}

absl::Status SetCommon(int fd, uint32_t mark, int buffer_bytes, const char* what) {
  // SO_MARK lets the operator route the engine's own packets around the TUN.
  if (mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) {
    return Errno(errno, absl::StrCat("SO_MARK 0x", absl::Hex(mark), " on the ", what),
                 " (needs CAP_NET_ADMIN)");
  }
  if (buffer_bytes > 0) {
    // Larger queues absorb bursts; the FORCE variants pass rmem_max as root.
    for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF},
                                std::pair{SO_SNDBUFFORCE, SO_SNDBUF}}) {
      if (setsockopt(fd, SOL_SOCKET, force, &buffer_bytes, sizeof buffer_bytes) < 0) {
        setsockopt(fd, SOL_SOCKET, plain, &buffer_bytes, sizeof buffer_bytes);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EspDatapath>> EspDatapath::Create(Options options) {
  if (options.clock == nullptr) options.clock = SystemClock::Get();
  if (options.random == nullptr) options.random = CryptoRandom::Get();
  if (options.tick_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("tick_interval must be > 0");
  }
  // The receive slots hold a 9000-byte inner packet plus ESP, UDP and IP.
  if (options.mtu < 576 || options.mtu > 9000) {
    return absl::InvalidArgumentError("mtu: must be 576..9000");
  }
  if (!options.bind_address.empty()) {
    if (auto a = IpAddress::Parse(options.bind_address); !a.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("bind_address: ", a.status().message()));
    }
  }
  auto tun = TunDevice::Open({options.tun_name, options.mtu, true});
  if (!tun.ok()) return tun.status();
  std::unique_ptr<EspDatapath> dp(new EspDatapath(std::move(options), std::move(*tun)));
  if (absl::Status s = dp->OpenSockets(); !s.ok()) return s;
  dp->thread_ = std::thread([p = dp.get()] { p->Run(); });
  LogInfo("esp_datapath_started")
      .Kv("tun", dp->tun_name())
      .Kv("mtu", dp->options_.mtu)
      .Kv("encapsulation", dp->options_.encapsulation == Encapsulation::kUdp ? "udp" : "raw-ip")
      .Kv("port", unsigned{dp->local_port_})
      .Kv("mark", absl::StrCat("0x", absl::Hex(dp->options_.socket_mark)));
  return dp;
}

EspDatapath::EspDatapath(Options options, std::unique_ptr<TunDevice> tun)
    : options_(std::move(options)),
      clock_(options_.clock),
      tun_(std::move(tun)),
      engine_(options_.clock, options_.random, options_.engine) {}

EspDatapath::~EspDatapath() {
  stop_.store(true);
  if (thread_.joinable()) {
    Wake();
    thread_.join();
  }
  for (int fd : {udp_fd_, raw4_fd_, raw6_fd_, bypass4_fd_, bypass6_fd_, wake_fd_}) {
    if (fd >= 0) close(fd);
  }
}

absl::Status EspDatapath::OpenSockets() {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Errno(errno, "eventfd");
  const std::string& bind = options_.bind_address;
  IpAddress bind_ip;
  if (!bind.empty()) bind_ip = *IpAddress::Parse(bind);

  if (options_.encapsulation == Encapsulation::kUdp) {
    udp_family_ = bind.empty() || !bind_ip.is_v4() ? AF_INET6 : AF_INET;
    udp_fd_ = socket(udp_family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (udp_fd_ < 0 && bind.empty() && errno == EAFNOSUPPORT) {  // kernel without IPv6
      udp_family_ = AF_INET;
      udp_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (udp_fd_ < 0) return Errno(errno, "cannot open the ESP-in-UDP socket");
    if (udp_family_ == AF_INET6 && bind.empty()) {
      int off = 0;  // one socket for both families
      setsockopt(udp_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    if (absl::Status s = SetCommon(udp_fd_, options_.socket_mark, options_.socket_buffer_bytes,
                                   "ESP-in-UDP socket");
        !s.ok()) {
      return s;
    }
    sockaddr_storage ss;
    socklen_t len;
    if (bind.empty()) {
      std::memset(&ss, 0, sizeof ss);
      ss.ss_family = static_cast<sa_family_t>(udp_family_);
      reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(options_.udp_port);  // same offset in v6
      len = udp_family_ == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    } else {
      ToSockaddr(bind_ip, options_.udp_port, udp_family_, &ss, &len);
    }
    if (::bind(udp_fd_, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      return Errno(errno,
                   absl::StrCat("cannot bind ESP-in-UDP socket to ",
                                EndpointText(bind, options_.udp_port, udp_family_)),
                   errno == EADDRINUSE ? " (another agent or an IKE daemon on it?)" : "");
    }
    len = sizeof ss;
    getsockname(udp_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    local_port_ = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  } else {
    for (int family : {AF_INET, AF_INET6}) {
      if (!bind.empty() && bind_ip.is_v4() != (family == AF_INET)) continue;
      int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
      if (fd < 0) {
        if (family == AF_INET6 && errno == EAFNOSUPPORT) continue;
        return Errno(errno, "cannot open a raw ESP (protocol 50) socket", " (needs CAP_NET_RAW)");
      }
      (family == AF_INET ? raw4_fd_ : raw6_fd_) = fd;
      if (absl::Status s = SetCommon(fd, options_.socket_mark, options_.socket_buffer_bytes,
                                     "raw ESP socket");
          !s.ok()) {
        return s;
      }
      if (!bind.empty()) {
        sockaddr_storage ss;
        socklen_t len;
        ToSockaddr(bind_ip, 0, family, &ss, &len);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
          return Errno(errno, absl::StrCat("cannot bind the raw ESP socket to ", bind));
        }
      }
    }
  }

  if (options_.bypass_sockets) {
    // Header-including raw sockets (IPPROTO_RAW) resend SPD-bypass packets
    // as they are; with the mark they do not come back into the TUN.
    for (int family : {AF_INET, AF_INET6}) {
      int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
      if (fd >= 0 && SetCommon(fd, options_.socket_mark, 0, "bypass socket").ok()) {
        (family == AF_INET ? bypass4_fd_ : bypass6_fd_) = fd;
        continue;
      }
      LogWarning("esp_bypass_socket_unavailable")
          .Kv("family", family == AF_INET ? "ipv4" : "ipv6")
          .Kv("error", std::strerror(errno));
      if (fd >= 0) close(fd);
    }
  }
  return absl::OkStatus();
}

v1::Capabilities EspDatapath::capabilities() const {
  v1::Capabilities c;
  c.set_datapath("esp-engine");
  for (v1::EncryptionAlgorithm e : SupportedEncryption()) c.add_encryption(e);
  for (v1::IntegrityAlgorithm i : SupportedIntegrity()) c.add_integrity(i);
  c.set_transport_mode(true);
  c.set_tunnel_mode(true);
  c.set_udp_encapsulation(options_.encapsulation == Encapsulation::kUdp);
  return c;
}

absl::Status EspDatapath::SetPolicies(const std::vector<SpdEntry>& entries) {
  absl::MutexLock l(&mu_);
  return engine_.SetPolicies(entries);
}

absl::Status EspDatapath::InstallSa(uint32_t spd_entry, Direction direction,
                                    const v1::SaParameters& sa) {
  absl::Status s;
  {
    absl::MutexLock l(&mu_);
    s = engine_.InstallSa(spd_entry, direction, sa, &pending_);  // may unpark packets
  }
  Wake();
  return s;
}

absl::Status EspDatapath::RemoveSa(Direction direction, const SaKey& key) {
  absl::MutexLock l(&mu_);
  return engine_.RemoveSa(direction, key);
}

void EspDatapath::ReleaseHeld(uint32_t spd_entry) {
  {
    absl::MutexLock l(&mu_);
    engine_.ReleaseHeld(spd_entry, &pending_);
  }
  Wake();
}

void EspDatapath::DropHeld(uint32_t spd_entry) {
  absl::MutexLock l(&mu_);
  engine_.DropHeld(spd_entry);
}

absl::StatusOr<SaCounters> EspDatapath::Counters(Direction direction, const SaKey& key) {
  absl::MutexLock l(&mu_);
  return engine_.Counters(direction, key);
}

void EspDatapath::SetEventSink(std::function<void(const DatapathEvent&)> sink) {
  {
    absl::MutexLock l(&sink_mu_);
    sink_ = std::move(sink);
  }
  Wake();  // events that waited for a sink go out now
}

EspDatapath::IoStats EspDatapath::io_stats() const {
  IoStats s;
  s.tun_rx = io_.tun_rx.load();
  s.tun_tx = io_.tun_tx.load();
  s.tun_tx_errors = io_.tun_tx_errors.load();
  s.net_rx = io_.net_rx.load();
  s.net_tx = io_.net_tx.load();
  s.net_tx_errors = io_.net_tx_errors.load();
  s.non_esp = io_.non_esp.load();
  s.net_rx_truncated = io_.net_rx_truncated.load();
  s.bypass_tx = io_.bypass_tx.load();
  s.bypass_errors = io_.bypass_errors.load();
  return s;
}

DropCounts EspDatapath::Drops() { return EngineDrops(engine_stats()); }

EngineStats EspDatapath::engine_stats() const {
  absl::MutexLock l(&mu_);
  return engine_.stats();
}

void EspDatapath::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

}  // namespace ikeless::datapath::esp
