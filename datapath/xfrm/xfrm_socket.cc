#include "datapath/xfrm/xfrm_socket.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ikeless::datapath::xfrm {
namespace {

constexpr size_t kBuffer = 8192;

// "198.18.10.0/24" -> address and prefix length (IPv4 only for now).
absl::Status ParsePrefix(const std::string& text, xfrm_address_t* addr, uint8_t* len,
                         const char* field) {
  size_t slash = text.find('/');
  std::string host = text.substr(0, slash);
  int bits = 32;
  if (slash != std::string::npos && !absl::SimpleAtoi(text.substr(slash + 1), &bits)) bits = -1;
  std::memset(addr, 0, sizeof *addr);
  if (inet_pton(AF_INET, host.c_str(), &addr->a4) != 1 || bits < 0 || bits > 32) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", text, "' is not an IPv4 prefix"));
  }
  *len = static_cast<uint8_t>(bits);
  return absl::OkStatus();
}

std::string Text(const xfrm_address_t& a) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a.a4, buf, sizeof buf);
  return buf;
}

// One netlink message under construction.
struct Message {
  alignas(NLMSG_ALIGNTO) char buf[1024] = {};
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf); }
  void* body() { return NLMSG_DATA(header()); }
  void AddAttr(uint16_t type, const void* data, size_t len) {
    auto* rta = reinterpret_cast<nlattr*>(buf + NLMSG_ALIGN(header()->nlmsg_len));
    rta->nla_type = type;
    rta->nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    std::memcpy(reinterpret_cast<char*>(rta) + NLA_HDRLEN, data, len);
    header()->nlmsg_len = NLMSG_ALIGN(header()->nlmsg_len) + NLA_ALIGN(rta->nla_len);
  }
};

absl::Status FillSelector(const OutPolicy& p, xfrm_selector* sel) {
  if (auto s = ParsePrefix(p.local_prefix, &sel->saddr, &sel->prefixlen_s, "local_prefix"); !s.ok())
    return s;
  if (auto s = ParsePrefix(p.remote_prefix, &sel->daddr, &sel->prefixlen_d, "remote_prefix"); !s.ok())
    return s;
  sel->family = AF_INET;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<XfrmSocket> XfrmSocket::Open(bool listen_acquire) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open NETLINK_XFRM: ", std::strerror(errno)));
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (listen_acquire) sa.nl_groups = 1u << (XFRMNLGRP_ACQUIRE - 1);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    return absl::PermissionDeniedError(
        absl::StrCat("cannot bind NETLINK_XFRM (needs CAP_NET_ADMIN): ", std::strerror(e)));
  }
  return XfrmSocket(fd);
}

XfrmSocket::~XfrmSocket() {
  if (fd_ >= 0) close(fd_);
}

absl::Status XfrmSocket::Request(void* message, size_t length, const char* what) {
  auto* h = static_cast<nlmsghdr*>(message);
  h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = seq_++;
  if (send(fd_, message, length, 0) < 0) {
    return absl::InternalError(absl::StrCat(what, ": send: ", std::strerror(errno)));
  }
  alignas(NLMSG_ALIGNTO) char buf[kBuffer];
  while (true) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return absl::InternalError(absl::StrCat(what, ": recv: ", std::strerror(errno)));
    for (auto* r = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(r, n); r = NLMSG_NEXT(r, n)) {
      if (r->nlmsg_seq != h->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR) continue;
      int error = -static_cast<nlmsgerr*>(NLMSG_DATA(r))->error;
      if (error == 0) return absl::OkStatus();
      return absl::Status(error == EPERM ? absl::StatusCode::kPermissionDenied
                                         : absl::StatusCode::kFailedPrecondition,
                          absl::StrCat(what, ": ", std::strerror(error)));
    }
  }
}

absl::Status XfrmSocket::InstallOutPolicy(const OutPolicy& p) {
  Message m;
  m.header()->nlmsg_type = XFRM_MSG_UPDPOLICY;
  m.header()->nlmsg_len = NLMSG_LENGTH(sizeof(xfrm_userpolicy_info));
  auto* info = static_cast<xfrm_userpolicy_info*>(m.body());
  if (auto s = FillSelector(p, &info->sel); !s.ok()) return s;
  info->lft.soft_byte_limit = info->lft.hard_byte_limit = XFRM_INF;
  info->lft.soft_packet_limit = info->lft.hard_packet_limit = XFRM_INF;
  info->priority = p.priority;
  info->dir = XFRM_POLICY_OUT;
  info->action = XFRM_POLICY_ALLOW;
  xfrm_user_tmpl tmpl{};
  uint8_t ignored;
  if (auto s = ParsePrefix(p.tunnel_remote, &tmpl.id.daddr, &ignored, "tunnel_remote"); !s.ok())
    return s;
  if (auto s = ParsePrefix(p.tunnel_local, &tmpl.saddr, &ignored, "tunnel_local"); !s.ok())
    return s;
  tmpl.id.proto = IPPROTO_ESP;
  tmpl.family = AF_INET;
  tmpl.reqid = p.reqid;
  tmpl.mode = p.tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
  tmpl.aalgos = tmpl.ealgos = tmpl.calgos = ~0u;
  m.AddAttr(XFRMA_TMPL, &tmpl, sizeof tmpl);
  return Request(m.buf, m.header()->nlmsg_len, "install out policy");
}

absl::Status XfrmSocket::RemoveOutPolicy(const OutPolicy& p) {
  Message m;
  m.header()->nlmsg_type = XFRM_MSG_DELPOLICY;
  m.header()->nlmsg_len = NLMSG_LENGTH(sizeof(xfrm_userpolicy_id));
  auto* id = static_cast<xfrm_userpolicy_id*>(m.body());
  if (auto s = FillSelector(p, &id->sel); !s.ok()) return s;
  id->dir = XFRM_POLICY_OUT;
  return Request(m.buf, m.header()->nlmsg_len, "remove out policy");
}

absl::Status XfrmSocket::ProbeEspState(const std::string& source, const std::string& destination) {
  Message m;
  m.header()->nlmsg_type = XFRM_MSG_NEWSA;
  m.header()->nlmsg_len = NLMSG_LENGTH(sizeof(xfrm_usersa_info));
  auto* sa = static_cast<xfrm_usersa_info*>(m.body());
  uint8_t ignored;
  if (auto s = ParsePrefix(destination, &sa->id.daddr, &ignored, "destination"); !s.ok()) return s;
  if (auto s = ParsePrefix(source, &sa->saddr, &ignored, "source"); !s.ok()) return s;
  sa->id.spi = htonl(0x1e5fee);
  sa->id.proto = IPPROTO_ESP;
  sa->family = AF_INET;
  sa->mode = XFRM_MODE_TUNNEL;
  sa->lft.soft_byte_limit = sa->lft.hard_byte_limit = XFRM_INF;
  sa->lft.soft_packet_limit = sa->lft.hard_packet_limit = XFRM_INF;
  // rfc4106(gcm(aes)) with a 128-bit key and 32-bit salt, ICV 128 bits.
  // A probe key of zeros: the state is removed again at once.
  alignas(xfrm_algo_aead) char aead_buf[sizeof(xfrm_algo_aead) + 20] = {};
  auto* aead = reinterpret_cast<xfrm_algo_aead*>(aead_buf);
  std::strcpy(aead->alg_name, "rfc4106(gcm(aes))");
  aead->alg_key_len = 160;
  aead->alg_icv_len = 128;
  m.AddAttr(XFRMA_ALG_AEAD, aead_buf, sizeof aead_buf);
  absl::Status added = Request(m.buf, m.header()->nlmsg_len, "add ESP state");
  if (!added.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this kernel cannot hold ESP states (", added.message(),
        "): it lacks the ESP transform or AES-GCM (CONFIG_INET_ESP / esp4, gcm in /proc/crypto); "
        "use the in-process ESP engine (datapath/esp) on this host"));
  }
  Message d;
  d.header()->nlmsg_type = XFRM_MSG_DELSA;
  d.header()->nlmsg_len = NLMSG_LENGTH(sizeof(xfrm_usersa_id));
  auto* id = static_cast<xfrm_usersa_id*>(d.body());
  id->daddr = sa->id.daddr;
  id->spi = sa->id.spi;
  id->family = AF_INET;
  id->proto = IPPROTO_ESP;
  return Request(d.buf, d.header()->nlmsg_len, "remove probe state");
}

absl::StatusOr<std::optional<Acquire>> XfrmSocket::ReadAcquire(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  alignas(NLMSG_ALIGNTO) char buf[kBuffer];
  while (true) {
    int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (wait_ms <= 0) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) continue;
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return absl::InternalError(absl::StrCat("recv: ", std::strerror(errno)));
    for (auto* r = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(r, n); r = NLMSG_NEXT(r, n)) {
      if (r->nlmsg_type != XFRM_MSG_ACQUIRE ||
          r->nlmsg_len < NLMSG_LENGTH(sizeof(xfrm_user_acquire))) {
        continue;
      }
      const auto* a = static_cast<const xfrm_user_acquire*>(NLMSG_DATA(r));
      Acquire out;
      out.source = Text(a->saddr);
      out.destination = Text(a->id.daddr);
      out.selector_source = Text(a->sel.saddr);
      out.selector_destination = Text(a->sel.daddr);
      return out;
    }
  }
}

}  // namespace ikeless::datapath::xfrm
