// The I/O thread of EspDatapath: poll, read, run the engine, write, tick.

#include "datapath/esp/esp_datapath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"
#include "datapath/esp/socket_address.h"
#include "datapath/esp/wire.h"

namespace ikeless::datapath::esp {
namespace {

constexpr int kBatch = 64;  // packets read per readiness before others get a turn
constexpr size_t kMaxUndelivered = 1024;  // events kept while no sink is set
// Largest ESP packet we receive: a 9000-byte TUN MTU plus ESP, UDP and IP.
constexpr size_t kMaxDatagram = 9216;

}  // namespace

// recvmmsg(2) buffers: one syscall for up to kBatch datagrams.
struct EspDatapath::ReceiveBatch {
  ReceiveBatch(const ReceiveBatch&) = delete;  // the iovecs point into storage
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;
  ReceiveBatch() : storage(kBatch * kMaxDatagram) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {storage.data() + i * kMaxDatagram, kMaxDatagram};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  std::vector<uint8_t> storage;
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
};

void EspDatapath::Run() {
  std::vector<uint8_t> buffer(65536);
  ReceiveBatch received;
  EngineOutput batch;
  std::vector<DatapathEvent> undelivered;
  // The tick and its lifetimes, switch delays and parked packets run on the
  // monotonic clock: an NTP step of the wall clock moves none of them.
  absl::Time next_tick = clock_->Monotonic() + options_.tick_interval;
  while (!stop_.load()) {
    pollfd fds[5];
    int n = 0;
    fds[n++] = {tun_->fd(), POLLIN, 0};
    const int net_first = n;
    for (int fd : {udp_fd_, raw4_fd_, raw6_fd_}) {
      if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
    }
    const int net_end = n;
    fds[n++] = {wake_fd_, POLLIN, 0};
    const absl::Duration wait = next_tick - clock_->Monotonic();
    const int timeout =
        wait <= absl::ZeroDuration() ? 0 : static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1;
    const int ready = poll(fds, n, timeout);
    if (ready < 0 && errno != EINTR) {
      LogError("esp_poll_failed").Kv("error", std::strerror(errno));
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (ready > 0) {
      if (fds[0].revents & POLLIN) ReadTun(buffer);
      for (int i = net_first; i < net_end; ++i) {
        if (fds[i].revents & POLLIN) ReadNetwork(fds[i].fd, received);
      }
      if (fds[n - 1].revents & POLLIN) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof count);
      }
    }
    const absl::Time now = clock_->Monotonic();
    if (now >= next_tick) {
      absl::MutexLock l(&mu_);
      engine_.Tick(now, &pending_);
      next_tick = now + options_.tick_interval;
    }
    Flush(batch, undelivered);
  }
}

void EspDatapath::ReadTun(std::vector<uint8_t>& buffer) {
  for (int i = 0; i < kBatch; ++i) {
    const ssize_t n = tun_->Read(buffer);
    if (n <= 0) return;
    io_.tun_rx++;
    absl::MutexLock l(&mu_);
    engine_.ProcessOutbound({buffer.data(), static_cast<size_t>(n)}, &pending_);
  }
}

void EspDatapath::ReadNetwork(int fd, ReceiveBatch& batch) {
  const int n = recvmmsg(fd, batch.msgs, kBatch, MSG_DONTWAIT, nullptr);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    LogIoError("esp_receive_failed", errno);
  }
  if (n <= 0) return;
  absl::MutexLock l(&mu_);
  for (int i = 0; i < n; ++i) {
    std::span<uint8_t> p(static_cast<uint8_t*>(batch.iov[i].iov_base), batch.msgs[i].msg_len);
    if (batch.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {  // larger than any ESP we make
      io_.net_rx_truncated++;
      continue;
    }
    if (fd == raw4_fd_) {
      // IPv4 raw sockets deliver the IP header too.
      if (p.size() < 20 || (p[0] >> 4) != 4 || size_t{p[0] & 0x0fu} * 4 > p.size()) continue;
      p = p.subspan(size_t{p[0] & 0x0fu} * 4);
    } else if (fd == udp_fd_) {
      // RFC 3948 §2.3 NAT-keepalive (one 0xff octet) and §2.2 non-ESP
      // marker (four zero octets, i.e. IKE): neither is ESP, and we run no
      // IKE.
      if ((p.size() == 1 && p[0] == 0xff) || (p.size() >= 4 && LoadBe32(p.data()) == 0)) {
        io_.non_esp++;
        continue;
      }
    }
    io_.net_rx++;
    engine_.ProcessInbound(p, &pending_);
  }
}

void EspDatapath::Flush(EngineOutput& batch, std::vector<DatapathEvent>& undelivered) {
  {
    absl::MutexLock l(&mu_);
    if (pending_.empty() && undelivered.empty()) return;
    std::swap(batch, pending_);  // pending_ gets the emptied vectors back
  }
  if (options_.encapsulation == Encapsulation::kUdp) {
    SendEspUdp(batch.to_network);
  } else {
    for (const NetworkPacket& p : batch.to_network) SendEspRaw(p);
  }
  for (const std::vector<uint8_t>& p : batch.to_tun) {
    if (tun_->Write(p)) {
      io_.tun_tx++;
    } else {
      io_.tun_tx_errors++;
      LogIoError("esp_tun_write_failed", errno);
    }
  }
  for (const std::vector<uint8_t>& p : batch.bypass) SendBypass(p);

  undelivered.insert(undelivered.end(), batch.events.begin(), batch.events.end());
  if (!undelivered.empty()) {
    // The sink is called under sink_mu_ so that SetEventSink (as the agent
    // core's destructor does) waits for a delivery in flight and no event
    // reaches a destroyed receiver. The sink never calls back into us.
    absl::MutexLock l(&sink_mu_);
    if (sink_) {
      for (const DatapathEvent& ev : undelivered) sink_(ev);
      undelivered.clear();
    } else if (undelivered.size() > kMaxUndelivered) {
      undelivered.erase(undelivered.begin(),
                        undelivered.begin() + (undelivered.size() - kMaxUndelivered));
    }
  }
  batch.clear();
}

// Raw IP protocol 50 (ESP in UDP goes through SendEspUdp).
void EspDatapath::SendEspRaw(const NetworkPacket& p) {
  sockaddr_storage ss;
  socklen_t len = 0;
  const int fd = p.destination.is_v4() ? raw4_fd_ : raw6_fd_;
  if (fd >= 0) ToSockaddr(p.destination, 0, p.destination.is_v4() ? AF_INET : AF_INET6, &ss, &len);
  if (fd < 0) {
    io_.net_tx_errors++;
    LogIoError("esp_no_socket_for_family", EAFNOSUPPORT);
    return;
  }
  if (sendto(fd, p.esp.data(), p.esp.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    io_.net_tx_errors++;
    LogIoError("esp_send_failed", errno);
    return;
  }
  io_.net_tx++;
}

// sendmmsg(2): one syscall for up to kBatch ESP-in-UDP datagrams.
void EspDatapath::SendEspUdp(const std::vector<NetworkPacket>& packets) {
  sockaddr_storage to[kBatch];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  size_t next = 0;
  while (next < packets.size()) {
    int n = 0;
    for (; n < kBatch && next + n < packets.size(); ++n) {
      const NetworkPacket& p = packets[next + n];
      socklen_t len = 0;
      if (!ToSockaddr(p.destination, options_.peer_udp_port, udp_family_, &to[n], &len)) break;
      iov[n] = {const_cast<uint8_t*>(p.esp.data()), p.esp.size()};
      msgs[n].msg_hdr = {};
      msgs[n].msg_hdr.msg_name = &to[n];
      msgs[n].msg_hdr.msg_namelen = len;
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
    }
    if (n == 0) {  // no socket for this packet's family
      io_.net_tx_errors++;
      LogIoError("esp_no_socket_for_family", EAFNOSUPPORT);
      ++next;
      continue;
    }
    const int sent = sendmmsg(udp_fd_, msgs, static_cast<unsigned>(n), 0);
    if (sent <= 0) {  // the first datagram failed: count it, go on with the rest
      io_.net_tx_errors++;
      LogIoError("esp_send_failed", errno);
      ++next;
      continue;
    }
    io_.net_tx += static_cast<uint64_t>(sent);
    next += static_cast<size_t>(sent);
  }
}

void EspDatapath::SendBypass(const std::vector<uint8_t>& packet) {
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  socklen_t len;
  int fd;
  if ((packet[0] >> 4) == 4) {
    fd = bypass4_fd_;
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, &packet[16], 4);
    len = sizeof *sin;
  } else {
    fd = bypass6_fd_;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, &packet[24], 16);
    len = sizeof *sin6;
  }
  if (fd < 0 ||
      sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    io_.bypass_errors++;
    LogIoError("esp_bypass_send_failed", fd < 0 ? EAFNOSUPPORT : errno);
    return;
  }
  io_.bypass_tx++;
}

void EspDatapath::LogIoError(const char* event, int err) {
  // At most one line per event kind and 10 s: a dead peer must not flood.
  // An interval, so on the monotonic clock; whose origin is the boot, so
  // "never logged" is the infinite past, not the default (the epoch).
  const absl::Time now = clock_->Monotonic();
  absl::Time& last = last_error_log_.try_emplace(event, absl::InfinitePast()).first->second;
  if (now - last < absl::Seconds(10)) return;
  last = now;
  LogWarning(event).Kv("error", std::strerror(err));
}

}  // namespace ikeless::datapath::esp
