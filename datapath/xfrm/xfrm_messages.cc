#include "datapath/xfrm/xfrm_messages.h"

#include <arpa/inet.h>
#include <linux/udp.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/wiped_array.h"
#include "datapath/xfrm/xfrm_algorithms.h"

namespace ikeless::datapath::xfrm {
namespace {

// RFC 4303 §3.4.3 default; the kernel's ESN bitmap holds at most 4096.
constexpr uint32_t kDefaultReplayWindow = 128;
constexpr uint32_t kMaxReplayWindow = 4096;

uint64_t Limit(uint64_t value) { return value == 0 ? XFRM_INF : value; }

absl::Status TooLong() { return absl::InternalError("xfrm: netlink message would not fit"); }

absl::Status FillSelector(const PolicySpec& p, xfrm_selector* sel) {
  auto src = ParseKernelPrefix(p.source_prefix, "source_prefix");
  if (!src.ok()) return src.status();
  auto dst = ParseKernelPrefix(p.destination_prefix, "destination_prefix");
  if (!dst.ok()) return dst.status();
  if (src->family != dst->family) {
    return absl::InvalidArgumentError("destination_prefix: must be of the source's family");
  }
  sel->family = src->family;
  sel->saddr = src->address;
  sel->daddr = dst->address;
  sel->prefixlen_s = src->length;
  sel->prefixlen_d = dst->length;
  sel->proto = p.protocol;
  if ((p.source_port != 0 || p.destination_port != 0) && p.protocol != IPPROTO_TCP &&
      p.protocol != IPPROTO_UDP) {
    return absl::InvalidArgumentError("protocol: ports need TCP or UDP");
  }
  if (p.source_port != 0) {
    sel->sport = htons(p.source_port);
    sel->sport_mask = 0xffff;
  }
  if (p.destination_port != 0) {
    sel->dport = htons(p.destination_port);
    sel->dport_mask = 0xffff;
  }
  return absl::OkStatus();
}

// The first attribute after a fixed-size body, and the bytes they span.
const nlattr* FirstAttr(const nlmsghdr* m, size_t body, size_t* remaining) {
  size_t start = NLMSG_LENGTH(NLMSG_ALIGN(body));
  if (m->nlmsg_len < start) {
    *remaining = 0;
    return nullptr;
  }
  *remaining = m->nlmsg_len - start;
  return reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(m) + start);
}

// The templates of an XFRMA_TMPL attribute (policies, ACQUIREs).
std::vector<xfrm_user_tmpl> Templates(const nlmsghdr* m, size_t body) {
  std::vector<xfrm_user_tmpl> out;
  size_t left = 0;
  for (const nlattr* a = FirstAttr(m, body, &left);
       a != nullptr && left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left;) {
    if ((a->nla_type & NLA_TYPE_MASK) == XFRMA_TMPL) {
      size_t n = (a->nla_len - NLA_HDRLEN) / sizeof(xfrm_user_tmpl);
      const char* data = reinterpret_cast<const char*>(a) + NLA_HDRLEN;
      for (size_t i = 0; i < n; ++i) {
        xfrm_user_tmpl t;
        std::memcpy(&t, data + i * sizeof t, sizeof t);
        out.push_back(t);
      }
    }
    size_t step = NLA_ALIGN(a->nla_len);
    if (step >= left) break;
    left -= step;
    a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + step);
  }
  return out;
}

KernelState StateOf(const xfrm_usersa_info& s) {
  KernelState k;
  k.source = AddressText(s.saddr, s.family);
  k.destination = AddressText(s.id.daddr, s.family);
  k.spi = ntohl(s.id.spi);
  k.reqid = s.reqid;
  k.bytes = s.curlft.bytes;
  k.packets = s.curlft.packets;
  k.replay_drops = s.stats.replay;
  k.integrity_failures = s.stats.integrity_failed;
  k.add_time = s.curlft.add_time;
  k.soft_add_expires_seconds = s.lft.soft_add_expires_seconds;
  k.soft_byte_limit = s.lft.soft_byte_limit;
  k.soft_packet_limit = s.lft.soft_packet_limit;
  return k;
}


}  // namespace

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags, size_t body_size) {
  header()->nlmsg_type = type;
  header()->nlmsg_flags = flags;
  header()->nlmsg_len = NLMSG_LENGTH(body_size);
}

NetlinkMessage::NetlinkMessage(NetlinkMessage&& other) noexcept {
  std::memcpy(buf_, other.buf_, kCapacity);
  OPENSSL_cleanse(other.buf_, kCapacity);
}

NetlinkMessage::~NetlinkMessage() { OPENSSL_cleanse(buf_, kCapacity); }

bool NetlinkMessage::AddAttr(uint16_t type, const void* data, size_t len) {
  size_t at = NLMSG_ALIGN(header()->nlmsg_len);
  if (at + NLA_ALIGN(NLA_HDRLEN + len) > kCapacity) return false;
  auto* a = reinterpret_cast<nlattr*>(buf_ + at);
  a->nla_type = type;
  a->nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
  std::memcpy(buf_ + at + NLA_HDRLEN, data, len);
  header()->nlmsg_len = static_cast<uint32_t>(at + NLA_ALIGN(a->nla_len));
  return true;
}

absl::StatusOr<KernelPrefix> ParseKernelPrefix(const std::string& text, const std::string& field) {
  KernelPrefix p;
  size_t slash = text.find('/');
  std::string host = text.substr(0, slash);
  p.family = host.find(':') == std::string::npos ? AF_INET : AF_INET6;
  int max = p.family == AF_INET ? 32 : 128;
  int bits = max;
  if (slash != std::string::npos && !absl::SimpleAtoi(text.substr(slash + 1), &bits)) bits = -1;
  if (inet_pton(p.family, host.c_str(), &p.address) != 1 || bits < 0 || bits > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "' is not an IPv4 or IPv6 address or prefix"));
  }
  p.length = static_cast<uint8_t>(bits);
  return p;
}

std::string AddressText(const xfrm_address_t& address, uint16_t family) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family != AF_INET && family != AF_INET6) return "";
  inet_ntop(family, &address, buf, sizeof buf);
  return buf;
}

std::string CanonicalAddressText(const std::string& text) {
  auto p = ParseKernelPrefix(text, "address");
  return p.ok() ? AddressText(p->address, p->family) : text;
}

std::string CanonicalPrefixText(const std::string& text) {
  auto p = ParseKernelPrefix(text, "prefix");
  return p.ok() ? absl::StrCat(AddressText(p->address, p->family), "/", p->length) : text;
}

absl::StatusOr<NetlinkMessage> UpdatePolicyMessage(const PolicySpec& p) {
  NetlinkMessage m(XFRM_MSG_UPDPOLICY, 0, sizeof(xfrm_userpolicy_info));
  auto* info = m.body<xfrm_userpolicy_info>();
  if (auto s = FillSelector(p, &info->sel); !s.ok()) return s;
  info->lft.soft_byte_limit = info->lft.hard_byte_limit = XFRM_INF;
  info->lft.soft_packet_limit = info->lft.hard_packet_limit = XFRM_INF;
  info->priority = p.priority;
  info->dir = p.dir;
  info->action = p.block ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
  xfrm_user_tmpl t{};
  t.id.proto = IPPROTO_ESP;
  t.reqid = p.reqid;
  t.mode = p.tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
  t.aalgos = t.ealgos = t.calgos = ~0u;
  t.family = info->sel.family;
  if (p.tunnel) {
    auto src = ParseKernelPrefix(p.tunnel_source, "tunnel_source");
    if (!src.ok()) return src.status();
    auto dst = ParseKernelPrefix(p.tunnel_destination, "tunnel_destination");
    if (!dst.ok()) return dst.status();
    if (src->family != dst->family) {
      return absl::InvalidArgumentError("tunnel_destination: must be of the source's family");
    }
    t.family = src->family;  // outer family may differ from inner (RFC 4301 §5.1.2.1)
    t.saddr = src->address;
    t.id.daddr = dst->address;
  }
  if (p.has_template && !m.AddAttr(XFRMA_TMPL, &t, sizeof t)) return TooLong();
  return m;
}

absl::StatusOr<NetlinkMessage> DeletePolicyMessage(const PolicySpec& p) {
  NetlinkMessage m(XFRM_MSG_DELPOLICY, 0, sizeof(xfrm_userpolicy_id));
  auto* id = m.body<xfrm_userpolicy_id>();
  if (auto s = FillSelector(p, &id->sel); !s.ok()) return s;
  id->dir = p.dir;
  return m;
}

NetlinkMessage DeletePolicyByIndexMessage(uint32_t index, uint8_t dir) {
  NetlinkMessage m(XFRM_MSG_DELPOLICY, 0, sizeof(xfrm_userpolicy_id));
  auto* id = m.body<xfrm_userpolicy_id>();
  id->index = index;
  id->dir = dir;
  return m;
}

absl::StatusOr<NetlinkMessage> StateMessage(const v1::SaParameters& sa, const StateOptions& o,
                                            bool update) {
  auto algorithms = KernelAlgorithmsFor(sa);
  if (!algorithms.ok()) return algorithms.status();
  auto src = ParseKernelPrefix(sa.source(), "source");
  if (!src.ok()) return src.status();
  auto dst = ParseKernelPrefix(sa.destination(), "destination");
  if (!dst.ok()) return dst.status();
  if (src->family != dst->family) {
    return absl::InvalidArgumentError("destination: must be of the source's family");
  }
  if (sa.spi() < 256) {
    return absl::InvalidArgumentError("spi: values below 256 are reserved (RFC 4303 §2.1)");
  }
  uint32_t window = sa.replay_window() == 0 ? kDefaultReplayWindow : sa.replay_window();
  if (window > kMaxReplayWindow) {
    return absl::InvalidArgumentError(
        absl::StrCat("replay_window: the kernel holds at most ", kMaxReplayWindow));
  }
  NetlinkMessage m(update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, 0, sizeof(xfrm_usersa_info));
  auto* info = m.body<xfrm_usersa_info>();
  info->id.daddr = dst->address;
  info->id.spi = htonl(sa.spi());
  info->id.proto = IPPROTO_ESP;
  info->saddr = src->address;
  info->family = src->family;
  info->mode = sa.mode() == v1::MODE_TRANSPORT ? XFRM_MODE_TRANSPORT : XFRM_MODE_TUNNEL;
  info->reqid = o.reqid;
  // RFC 4301 §4.4.2.1 lifetimes; soft defaults to 90 % of hard as in the
  // engine. 0 means "none" to the kernel for seconds, XFRM_INF for counts.
  const v1::Lifetime& l = sa.lifetime();
  info->lft.hard_add_expires_seconds = l.hard_seconds();
  info->lft.soft_add_expires_seconds =
      l.soft_seconds() != 0 ? l.soft_seconds() : l.hard_seconds() * 9 / 10;
  info->lft.soft_byte_limit = Limit(l.soft_bytes());
  info->lft.hard_byte_limit = Limit(l.hard_bytes());
  info->lft.soft_packet_limit = Limit(l.soft_packets());
  info->lft.hard_packet_limit = Limit(l.hard_packets());
  // With XFRMA_REPLAY_ESN_VAL the legacy window must stay 0
  // (xfrm_user.c verify_replay).
  info->replay_window = 0;
  if (sa.extended_sequence_numbers()) {
    info->flags |= XFRM_STATE_ESN;
  } else {
    // A 32-bit counter: the kernel sends no EXPIRE before it wraps, it just
    // stops sending (RFC 4303 §3.3.3). Rekey at 15/16 of it, as the engine.
    constexpr uint64_t kSoft = (uint64_t{1} << 32) - (uint64_t{1} << 28);
    constexpr uint64_t kHard = (uint64_t{1} << 32) - 1;
    info->lft.soft_packet_limit = std::min<uint64_t>(info->lft.soft_packet_limit, kSoft);
    info->lft.hard_packet_limit = std::min<uint64_t>(info->lft.hard_packet_limit, kHard);
  }
  // Tunnel mode: the inner family may differ from the outer one (the
  // selector stays empty); without this the kernel gives the selector the
  // outer family and IPv6-in-IPv4 never matches (strongSwan sets it too).
  if (info->mode == XFRM_MODE_TUNNEL) info->flags |= XFRM_STATE_AF_UNSPEC;

  WipedArray<512> kb;  // the algorithm attributes with their keys
  const std::string& key = sa.encryption_key();
  if (!algorithms->aead.empty()) {
    auto* aead = reinterpret_cast<xfrm_algo_aead*>(kb.bytes);
    size_t len = key.size() + sa.salt().size();
    std::strncpy(aead->alg_name, algorithms->aead.c_str(), sizeof aead->alg_name - 1);
    aead->alg_key_len = static_cast<unsigned>(len * 8);
    aead->alg_icv_len = algorithms->aead_icv_bits;
    std::memcpy(aead->alg_key, key.data(), key.size());
    std::memcpy(aead->alg_key + key.size(), sa.salt().data(), sa.salt().size());
    if (!m.AddAttr(XFRMA_ALG_AEAD, aead, sizeof(xfrm_algo_aead) + len)) return TooLong();
  } else {
    auto* crypt = reinterpret_cast<xfrm_algo*>(kb.bytes);
    std::strncpy(crypt->alg_name, algorithms->cipher.c_str(), sizeof crypt->alg_name - 1);
    crypt->alg_key_len = static_cast<unsigned>(key.size() * 8);
    std::memcpy(crypt->alg_key, key.data(), key.size());
    if (!m.AddAttr(XFRMA_ALG_CRYPT, crypt, sizeof(xfrm_algo) + key.size())) return TooLong();
    OPENSSL_cleanse(kb.bytes, kb.size());
    auto* auth = reinterpret_cast<xfrm_algo_auth*>(kb.bytes);
    const std::string& ikey = sa.integrity_key();
    std::strncpy(auth->alg_name, algorithms->auth.c_str(), sizeof auth->alg_name - 1);
    auth->alg_key_len = static_cast<unsigned>(ikey.size() * 8);
    auth->alg_trunc_len = algorithms->auth_truncation_bits;
    std::memcpy(auth->alg_key, ikey.data(), ikey.size());
    if (!m.AddAttr(XFRMA_ALG_AUTH_TRUNC, auth, sizeof(xfrm_algo_auth) + ikey.size())) {
      return TooLong();
    }
  }

  // Header and an all-zero bitmap of bmp_len words.
  alignas(xfrm_replay_state_esn) unsigned char replay[sizeof(xfrm_replay_state_esn) +
                                                      kMaxReplayWindow / 8] = {};
  auto* esn = reinterpret_cast<xfrm_replay_state_esn*>(replay);
  esn->replay_window = window;
  esn->bmp_len = (window + 31) / 32;
  if (!m.AddAttr(XFRMA_REPLAY_ESN_VAL, replay,
                 sizeof(xfrm_replay_state_esn) + esn->bmp_len * sizeof(uint32_t))) {
    return TooLong();
  }

  if (o.encap_destination_port != 0) {
    xfrm_encap_tmpl encap{};
    encap.encap_type = UDP_ENCAP_ESPINUDP;  // RFC 3948 (non-IKE marker free)
    encap.encap_sport = htons(o.encap_source_port);
    encap.encap_dport = htons(o.encap_destination_port);
    if (!m.AddAttr(XFRMA_ENCAP, &encap, sizeof encap)) return TooLong();
  }
  return m;
}

absl::StatusOr<NetlinkMessage> DeleteStateMessage(const std::string& destination, uint32_t spi) {
  auto dst = ParseKernelPrefix(destination, "destination");
  if (!dst.ok()) return dst.status();
  NetlinkMessage m(XFRM_MSG_DELSA, 0, sizeof(xfrm_usersa_id));
  auto* id = m.body<xfrm_usersa_id>();
  id->daddr = dst->address;
  id->spi = htonl(spi);
  id->family = dst->family;
  id->proto = IPPROTO_ESP;
  return m;
}

absl::StatusOr<NetlinkMessage> GetStateMessage(const std::string& destination, uint32_t spi) {
  auto m = DeleteStateMessage(destination, spi);
  if (m.ok()) m->header()->nlmsg_type = XFRM_MSG_GETSA;
  return m;
}

NetlinkMessage DumpMessage(uint16_t type) {
  size_t body = type == XFRM_MSG_GETPOLICY ? sizeof(xfrm_userpolicy_id) : sizeof(xfrm_usersa_id);
  return NetlinkMessage(type, NLM_F_DUMP, body);
}

std::optional<KernelAcquire> ParseAcquire(const nlmsghdr* m) {
  if (m->nlmsg_type != XFRM_MSG_ACQUIRE || m->nlmsg_len < NLMSG_LENGTH(sizeof(xfrm_user_acquire))) {
    return std::nullopt;
  }
  xfrm_user_acquire a;
  std::memcpy(&a, NLMSG_DATA(m), sizeof a);
  KernelAcquire k;
  k.policy_index = a.policy.index;
  k.inner_source = AddressText(a.sel.saddr, a.sel.family);
  k.inner_destination = AddressText(a.sel.daddr, a.sel.family);
  // The outer family is the template's; without one, the selector's.
  uint16_t outer = a.sel.family;
  if (auto t = Templates(m, sizeof a); !t.empty()) {
    k.reqid = t[0].reqid;
    outer = t[0].family;
  }
  k.outer_source = AddressText(a.saddr, outer);
  k.outer_destination = AddressText(a.id.daddr, outer);
  return k;
}

std::optional<KernelState> ParseState(const nlmsghdr* m) {
  if (m->nlmsg_type != XFRM_MSG_NEWSA || m->nlmsg_len < NLMSG_LENGTH(sizeof(xfrm_usersa_info))) {
    return std::nullopt;
  }
  xfrm_usersa_info s;
  std::memcpy(&s, NLMSG_DATA(m), sizeof s);
  return StateOf(s);
}

std::optional<KernelExpire> ParseExpire(const nlmsghdr* m) {
  if (m->nlmsg_type != XFRM_MSG_EXPIRE || m->nlmsg_len < NLMSG_LENGTH(sizeof(xfrm_user_expire))) {
    return std::nullopt;
  }
  xfrm_user_expire e;
  std::memcpy(&e, NLMSG_DATA(m), sizeof e);
  return KernelExpire{StateOf(e.state), e.hard != 0};
}

std::optional<KernelPolicy> ParsePolicy(const nlmsghdr* m) {
  if (m->nlmsg_type != XFRM_MSG_NEWPOLICY ||
      m->nlmsg_len < NLMSG_LENGTH(sizeof(xfrm_userpolicy_info))) {
    return std::nullopt;
  }
  xfrm_userpolicy_info p;
  std::memcpy(&p, NLMSG_DATA(m), sizeof p);
  KernelPolicy k{p.index, p.dir, p.priority, p.action == XFRM_POLICY_ALLOW, {}};
  for (const xfrm_user_tmpl& t : Templates(m, sizeof p)) k.reqids.push_back(t.reqid);
  return k;
}

}  // namespace ikeless::datapath::xfrm
