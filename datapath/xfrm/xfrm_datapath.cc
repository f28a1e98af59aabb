#include "datapath/xfrm/xfrm_datapath.h"

#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/secret.h"

namespace ikeless::datapath::xfrm {
namespace {

const char* DirName(Direction d) { return d == Direction::kInbound ? "in" : "out"; }

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
      setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof type) != 0) {
    int e = errno;
    close(fd);
    return absl::UnavailableError(std::strerror(e));
  }
  return fd;
}

}  // namespace

void XfrmDatapath::PendingOutbound::Wipe::operator()(v1::SaParameters* sa) const {
  WipeKeys(sa);
  delete sa;
}

absl::StatusOr<std::unique_ptr<XfrmDatapath>> XfrmDatapath::Create(Options options) {
  auto requests = XfrmSocket::Open(0);
  if (!requests.ok()) return requests.status();
  auto events = XfrmSocket::Open(XfrmSocket::kAcquireGroup | XfrmSocket::kExpireGroup);
  if (!events.ok()) return events.status();
  if (options.hold_first_packets) {
    // Per network namespace. 0: the kernel queues packets that wait for an
    // SA (forwarded ones) instead of dropping them.
    std::ofstream larval("/proc/sys/net/core/xfrm_larval_drop");
    larval << "0\n";
    larval.flush();
    if (!larval) {
      LogWarning("xfrm_larval_drop_not_set")
          .Kv("why", "cannot write /proc/sys/net/core/xfrm_larval_drop; first packets are dropped");
    }
  }
  std::unique_ptr<XfrmDatapath> dp(
      new XfrmDatapath(std::move(options), std::move(*requests), std::move(*events)));
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
  return dp;
}

XfrmDatapath::XfrmDatapath(Options options, XfrmSocket requests, XfrmSocket events)
    : options_(std::move(options)), requests_(std::move(requests)), events_(std::move(events)) {}

XfrmDatapath::~XfrmDatapath() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  absl::MutexLock l(&mu_);
  pending_.clear();
  if (auto s = SweepOwnedLocked(); !s.ok()) LogWarning("xfrm_cleanup_failed").Kv("error", s.message());
  for (int fd : encap_fds_) close(fd);
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
    if (auto p = ParsePolicy(m)) {
      for (uint32_t reqid : p->reqids) {
        if (options_.mapping.Owns(reqid)) {
          policies.emplace_back(p->index, p->dir);
          break;
        }
      }
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
  return absl::OkStatus();
}

v1::Capabilities XfrmDatapath::capabilities() const {
  v1::Capabilities c;
  c.set_datapath("xfrm");
  // The engine's set (xfrm_algorithms.h), so mixed fleets agree.
  for (auto e : {v1::ENCRYPTION_AES_GCM_16, v1::ENCRYPTION_CHACHA20_POLY1305, v1::ENCRYPTION_AES_CBC,
                 v1::ENCRYPTION_NULL}) {
    c.add_encryption(e);
  }
  for (auto i : {v1::INTEGRITY_NONE, v1::INTEGRITY_HMAC_SHA2_256_128, v1::INTEGRITY_HMAC_SHA2_384_192,
                 v1::INTEGRITY_HMAC_SHA2_512_256, v1::INTEGRITY_HMAC_SHA1_96}) {
    c.add_integrity(i);
  }
  c.set_transport_mode(true);
  c.set_tunnel_mode(true);
  c.set_udp_encapsulation(options_.udp_port != 0);
  // The kernel drops ESP for an SPI it does not know yet; the controller
  // then lets us install before the peer releases its first packets.
  c.set_drops_early_esp(true);
  return c;
}

absl::Status XfrmDatapath::SetPolicies(const std::vector<SpdEntry>& entries) {
  absl::MutexLock l(&mu_);
  std::map<uint32_t, Entry> next;
  for (const SpdEntry& e : entries) {
    if (e.id == 0 || e.id >= kReqidSpan) {
      return absl::InvalidArgumentError(absl::StrCat("spd entry id ", e.id, ": must be 1..65535"));
    }
    Entry n{e, !LooksLikeTransport(e), {}};
    if (auto old = entries_.find(e.id); old != entries_.end() &&
        old->second.spd.local_prefix == e.local_prefix &&
        old->second.spd.remote_prefix == e.remote_prefix && old->second.spd.setup_peer == e.setup_peer) {
      n.tunnel = old->second.tunnel;  // keep what the controller's SA decided
    }
    n.policies = PoliciesFor(e, n.tunnel, options_.mapping);
    for (const PolicySpec& p : n.policies) {  // validate all before touching the kernel
      auto m = UpdatePolicyMessage(p);
      if (!m.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("spd entry ", e.id, " (", e.name, "): ",
                                                       m.status().message()));
      }
    }
    if (!next.emplace(e.id, std::move(n)).second) {
      return absl::InvalidArgumentError(absl::StrCat("spd entry id ", e.id, ": duplicate"));
    }
  }
  for (const auto& [id, old] : entries_) {
    for (const PolicySpec& p : old.policies) {
      bool kept = false;
      for (const auto& [nid, n] : next) {
        for (const PolicySpec& q : n.policies) kept |= SameSlot(p, q);
      }
      if (kept) continue;
      auto m = DeletePolicyMessage(p);
      if (m.ok()) (void)requests_.Transact(*m, "remove policy");
    }
    if (next.count(id) == 0) pending_.erase(id);
  }
  entries_.clear();
  for (auto& [id, n] : next) {
    for (const PolicySpec& p : n.policies) {
      auto m = UpdatePolicyMessage(p);
      if (auto s = requests_.Transact(*m, "install policy"); !s.ok()) return s;
    }
    entries_.emplace(id, std::move(n));
  }
  LogInfo("xfrm_spd_installed").Kv("entries", static_cast<int64_t>(entries_.size()));
  return absl::OkStatus();
}

absl::Status XfrmDatapath::SetModeLocked(Entry& entry, bool tunnel) {
  std::vector<PolicySpec> policies = PoliciesFor(entry.spd, tunnel, options_.mapping);
  for (const PolicySpec& p : entry.policies) {  // fwd comes and goes with tunnel mode
    bool kept = false;
    for (const PolicySpec& q : policies) kept |= SameSlot(p, q);
    if (kept) continue;
    if (auto m = DeletePolicyMessage(p); m.ok()) (void)requests_.Transact(*m, "remove policy");
  }
  for (const PolicySpec& p : policies) {
    auto m = UpdatePolicyMessage(p);
    if (!m.ok()) return m.status();
    if (auto s = requests_.Transact(*m, "install policy"); !s.ok()) return s;
  }
  entry.policies = std::move(policies);
  entry.tunnel = tunnel;
  LogInfo("xfrm_entry_mode").Kv("entry", entry.spd.id).Kv("mode", tunnel ? "tunnel" : "transport");
  return absl::OkStatus();
}

absl::Status XfrmDatapath::WriteStateLocked(uint32_t spd_entry, Direction direction,
                                            const v1::SaParameters& sa) {
  StateOptions o;
  o.reqid = options_.mapping.ReqidOf(spd_entry);
  o.encap_source_port = o.encap_destination_port = options_.udp_port;
  auto m = StateMessage(sa, o, /*update=*/false);
  if (!m.ok()) return m.status();
  absl::Status s = requests_.Transact(*m, "add ESP state");
  if (s.code() == absl::StatusCode::kAlreadyExists) {
    // The same SPI again: an upsert, as the interface promises.
    auto u = StateMessage(sa, o, /*update=*/true);
    s = requests_.Transact(*u, "update ESP state");
  }
  if (s.code() == absl::StatusCode::kUnimplemented) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this kernel cannot hold this ESP state (", s.message(),
        "): it lacks the ESP transform (CONFIG_INET_ESP: esp4/esp6) or the SA's algorithm "
        "(see /proc/crypto); load them, or use the in-process ESP engine (esp {} instead of "
        "xfrm {} in the agent's configuration)"));
  }
  if (!s.ok()) return s;
  sas_[{sa.destination(), sa.spi()}] = Sa{spd_entry, direction, next_order_++};
  LogInfo("xfrm_sa_installed")
      .Kv("entry", spd_entry)
      .Kv("direction", DirName(direction))
      .Kv("spi", sa.spi());
  return absl::OkStatus();
}

absl::Status XfrmDatapath::InstallSa(uint32_t spd_entry, Direction direction,
                                     const v1::SaParameters& sa) {
  absl::MutexLock l(&mu_);
  auto it = entries_.find(spd_entry);
  if (it == entries_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("spd entry ", spd_entry, " is not in the SPD"));
  }
  if (it->second.spd.action != SpdEntry::Action::kProtect) {
    return absl::FailedPreconditionError(absl::StrCat("spd entry ", spd_entry, " is not PROTECT"));
  }
  // Validate before anything changes: a bad SA leaves the kernel as it was.
  if (auto m = StateMessage(sa, StateOptions{}, false); !m.ok()) return m.status();
  const bool tunnel = sa.mode() != v1::MODE_TRANSPORT;
  if (tunnel != it->second.tunnel) {
    if (auto s = SetModeLocked(it->second, tunnel); !s.ok()) return s;
  }
  const SaId id{sa.destination(), sa.spi()};
  if (direction == Direction::kInbound) return WriteStateLocked(spd_entry, direction, sa);

  auto current = current_outbound_.find(spd_entry);
  if (current == current_outbound_.end() || current->second == id) {
    if (auto s = WriteStateLocked(spd_entry, direction, sa); !s.ok()) return s;
    current_outbound_[spd_entry] = id;
    return absl::OkStatus();
  }
  // Make-before-break: wait for the peer to show it has the matching
  // inbound SA, or for switch_delay.
  auto pending = pending_.find(spd_entry);
  if (pending != pending_.end() && pending->second.sa->spi() == sa.spi()) return absl::OkStatus();
  PendingOutbound p;
  p.sa.reset(new v1::SaParameters(sa));
  p.deadline = absl::Now() + options_.switch_delay;
  p.after = sas_.count(current->second) ? sas_[current->second].order : 0;
  pending_[spd_entry] = std::move(p);
  LogInfo("xfrm_sa_outbound_pending").Kv("entry", spd_entry).Kv("spi", sa.spi());
  return absl::OkStatus();
}

void XfrmDatapath::SwitchDueLocked(absl::Time now) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    const uint32_t entry = it->first;
    bool due = now >= it->second.deadline || current_outbound_.count(entry) == 0;
    for (const auto& [id, sa] : sas_) {
      if (due) break;
      if (sa.entry != entry || sa.direction != Direction::kInbound || sa.order <= it->second.after) {
        continue;
      }
      auto m = GetStateMessage(id.first, id.second);
      (void)requests_.Transact(*m, "read state", [&](const nlmsghdr* r) {
        if (auto st = ParseState(r); st && st->packets > 0) due = true;
      });
    }
    if (!due) {
      ++it;
      continue;
    }
    const v1::SaParameters& sa = *it->second.sa;
    if (absl::Status s = WriteStateLocked(entry, Direction::kOutbound, sa); s.ok()) {
      current_outbound_[entry] = {sa.destination(), sa.spi()};
    } else {
      LogError("xfrm_outbound_switch_failed").Kv("entry", entry).Kv("error", s.message());
    }
    it = pending_.erase(it);
  }
}

absl::Status XfrmDatapath::RemoveSa(Direction direction, const SaKey& key) {
  absl::MutexLock l(&mu_);
  if (direction == Direction::kOutbound) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->second.sa->spi() == key.spi && it->second.sa->destination() == key.destination) {
        pending_.erase(it);
        return absl::OkStatus();
      }
    }
  }
  auto m = DeleteStateMessage(key.destination, key.spi);
  if (!m.ok()) return m.status();
  absl::Status s = requests_.Transact(*m, "remove ESP state");
  auto it = sas_.find({key.destination, key.spi});
  if (it != sas_.end()) {
    auto current = current_outbound_.find(it->second.entry);
    if (current != current_outbound_.end() && current->second == it->first) {
      current_outbound_.erase(current);  // a pending successor goes in at once
    }
    sas_.erase(it);
  }
  SwitchDueLocked(absl::Now());
  return s;
}

void XfrmDatapath::ReleaseHeld(uint32_t) {}
void XfrmDatapath::DropHeld(uint32_t) {}

absl::StatusOr<SaCounters> XfrmDatapath::Counters(Direction direction, const SaKey& key) {
  absl::MutexLock l(&mu_);
  for (const auto& [entry, p] : pending_) {
    if (direction == Direction::kOutbound && p.sa->spi() == key.spi &&
        p.sa->destination() == key.destination) {
      return SaCounters{};
    }
  }
  auto m = GetStateMessage(key.destination, key.spi);
  if (!m.ok()) return m.status();
  SaCounters c;
  absl::Status s = requests_.Transact(*m, "read ESP state", [&](const nlmsghdr* r) {
    if (auto st = ParseState(r)) {
      c.packets = st->packets;
      c.bytes = st->bytes;
      c.replay_drops = st->replay_drops;
      c.integrity_failures = st->integrity_failures;
    }
  });
  if (!s.ok()) return s;
  return c;
}

void XfrmDatapath::SetEventSink(std::function<void(const DatapathEvent&)> sink) {
  absl::MutexLock l(&sink_mu_);
  sink_ = std::move(sink);
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
  sas_.erase({destination, sa.spi()});
  auto m = DeleteStateMessage(destination, sa.spi());
  return requests_.Transact(*m, "remove probe state");
}

void XfrmDatapath::Run() {
  while (!stop_) {
    std::vector<DatapathEvent> events;
    absl::Status s = events_.Receive(options_.poll_interval, [&](const nlmsghdr* m) {
      OnKernelMessage(m, events);
    });
    if (!s.ok()) LogError("xfrm_events").Kv("error", s.message());
    {
      absl::MutexLock l(&mu_);
      if (!pending_.empty()) SwitchDueLocked(absl::Now());
    }
    Deliver(events);
  }
}

void XfrmDatapath::OnKernelMessage(const nlmsghdr* message, std::vector<DatapathEvent>& events) {
  if (auto a = ParseAcquire(message)) {
    std::optional<uint32_t> entry = options_.mapping.EntryOf(a->reqid);
    if (!entry) return;  // another daemon's policy
    absl::MutexLock l(&mu_);
    auto it = entries_.find(*entry);
    if (it == entries_.end() || it->second.spd.action != SpdEntry::Action::kProtect) return;
    LogDebug("xfrm_acquire").Kv("entry", *entry).Kv("destination", a->inner_destination);
    events.push_back(DatapathEvent{DatapathEvent::Kind::kAcquire, *entry, Direction::kOutbound, {}});
    return;
  }
  if (auto e = ParseExpire(message)) {
    if (!options_.mapping.Owns(e->state.reqid)) return;
    absl::MutexLock l(&mu_);
    auto it = sas_.find({e->state.destination, e->state.spi});
    if (it == sas_.end()) return;
    DatapathEvent ev{e->hard ? DatapathEvent::Kind::kHardExpire : DatapathEvent::Kind::kSoftExpire,
                     it->second.entry, it->second.direction,
                     SaKey{e->state.destination, e->state.spi}};
    events.push_back(ev);
    if (e->hard) {  // the kernel deleted it (xfrm_timer_handler)
      auto current = current_outbound_.find(it->second.entry);
      if (current != current_outbound_.end() && current->second == it->first) {
        current_outbound_.erase(current);
      }
      sas_.erase(it);
    }
  }
}

void XfrmDatapath::Deliver(const std::vector<DatapathEvent>& events) {
  if (events.empty()) return;
  absl::MutexLock l(&sink_mu_);
  if (!sink_) return;
  for (const DatapathEvent& e : events) sink_(e);
}

}  // namespace ikeless::datapath::xfrm
