#include "agent/netlink_route_table.h"

#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/address.h"

namespace ikeless::agent {
namespace {

// NLMSG_OK's checks with the signedness made explicit: clang's
// -Wsign-compare looks into the macro (u32 nlmsg_len <= int len).
bool NlmsgOk(const nlmsghdr* r, int len) {
  return len >= static_cast<int>(sizeof(nlmsghdr)) && r->nlmsg_len >= sizeof(nlmsghdr) &&
         r->nlmsg_len <= static_cast<unsigned>(len);
}

// One rtnetlink request: header, fixed body, attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags, const void* body, size_t body_len) {
    nlmsghdr* h = header();
    h->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(body_len));
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    std::memcpy(NLMSG_DATA(h), body, body_len);
  }
  void Add(uint16_t type, const void* data, size_t len) {
    const size_t offset = NLMSG_ALIGN(header()->nlmsg_len);
    auto* a = reinterpret_cast<rtattr*>(buf_ + offset);
    a->rta_type = type;
    a->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(a), data, len);
    header()->nlmsg_len = static_cast<uint32_t>(offset + RTA_ALIGN(a->rta_len));
  }
  void AddU32(uint16_t type, uint32_t value) { Add(type, &value, sizeof value); }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_); }

 private:
  alignas(8) unsigned char buf_[256] = {};  // the largest request is ~80 bytes
};

absl::Status KernelError(int error, const std::string& what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case ENOENT:
    case ESRCH:
      return absl::NotFoundError(message);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(absl::StrCat(message, " (needs CAP_NET_ADMIN)"));
    default:
      return absl::FailedPreconditionError(message);
  }
}

struct Destination {
  IpAddress net;
  int length = 0;
};

absl::StatusOr<Destination> ParseDestination(const std::string& prefix) {
  auto match = AddressMatch::Parse(prefix);
  auto net = IpAddress::Parse(prefix.substr(0, prefix.find('/')));
  if (!match.ok() || !net.ok() || match->is_wildcard()) {
    return absl::InvalidArgumentError(absl::StrCat("route prefix '", prefix, "': not a CIDR prefix"));
  }
  return Destination{*net, match->specificity()};
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetlinkRouteTable>> NetlinkRouteTable::Open(
    const std::string& device) {
  const unsigned ifindex = if_nametoindex(device.c_str());
  if (ifindex == 0) {
    return absl::NotFoundError(absl::StrCat("route device ", device, ": ", std::strerror(errno)));
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot open NETLINK_ROUTE: ", std::strerror(errno)));
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    const int e = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot bind NETLINK_ROUTE: ", std::strerror(e)));
  }
  return std::unique_ptr<NetlinkRouteTable>(
      new NetlinkRouteTable(fd, device, static_cast<int>(ifindex)));
}

absl::Status NetlinkRouteTable::Transact(void* message, const std::string& what) {
  auto* h = static_cast<nlmsghdr*>(message);
  h->nlmsg_seq = seq_++;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_.get(), h, h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    return absl::InternalError(absl::StrCat(what, ": send: ", std::strerror(errno)));
  }
  alignas(8) unsigned char buf[8192];
  while (true) {
    ssize_t n = recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat(what, ": recv: ", std::strerror(errno)));
    }
    int len = static_cast<int>(n);
    for (auto* r = reinterpret_cast<nlmsghdr*>(buf); NlmsgOk(r, len); r = NLMSG_NEXT(r, len)) {
      if (r->nlmsg_seq != h->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR) continue;
      // Error 0 is the acknowledgement.
      const int error = r->nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr))
                            ? -static_cast<nlmsgerr*>(NLMSG_DATA(r))->error
                            : EIO;
      return error == 0 ? absl::OkStatus() : KernelError(error, what);
    }
  }
}

absl::Status NetlinkRouteTable::RouteRequest(uint16_t type, uint16_t flags, const Route& route) {
  auto dst = ParseDestination(route.prefix);
  if (!dst.ok()) return dst.status();
  const bool v4 = dst->net.is_v4();
  const size_t bytes = v4 ? 4 : 16;
  rtmsg body{};
  body.rtm_family = v4 ? AF_INET : AF_INET6;
  body.rtm_dst_len = static_cast<unsigned char>(dst->length);
  // Tables above 255 go in RTA_TABLE only.
  body.rtm_table = static_cast<unsigned char>(route.table < 256 ? route.table : 0u);
  body.rtm_protocol = kRouteProtocol;
  body.rtm_type = RTN_UNICAST;
  // As `ip route add PREFIX dev TUN`: a link route (IPv6 routes are
  // universe-scoped); a delete matches any scope.
  body.rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE
                   : v4                 ? RT_SCOPE_LINK
                                        : RT_SCOPE_UNIVERSE;
  Request m(type, flags, &body, sizeof body);
  m.Add(RTA_DST, dst->net.bytes().data(), bytes);
  m.AddU32(RTA_OIF, static_cast<uint32_t>(ifindex_));
  m.AddU32(RTA_TABLE, route.table);
  if (!route.source.empty() && type == RTM_NEWROUTE) {
    auto src = IpAddress::Parse(route.source);
    if (!src.ok() || src->is_v4() != v4) {
      return absl::InvalidArgumentError(
          absl::StrCat("route ", route.prefix, ": source '", route.source, "' is no address of its family"));
    }
    m.Add(RTA_PREFSRC, src->bytes().data(), bytes);
  }
  return Transact(m.header(),
                  absl::StrCat(type == RTM_NEWROUTE ? "add route " : "remove route ", route.prefix,
                               " dev ", device_, " table ", route.table));
}

absl::Status NetlinkRouteTable::RuleRequest(uint16_t type, uint16_t flags, const RouteRule& rule) {
  fib_rule_hdr body{};
  body.family = rule.v6 ? AF_INET6 : AF_INET;
  body.table = static_cast<uint8_t>(rule.table < 256 ? rule.table : 0u);  // else FRA_TABLE
  body.action = FR_ACT_TO_TBL;
  body.flags = FIB_RULE_INVERT;  // "not fwmark": every packet but the engine's
  Request m(type, flags, &body, sizeof body);
  m.AddU32(FRA_FWMARK, rule.mark);
  m.AddU32(FRA_FWMASK, 0xffffffffu);
  m.AddU32(FRA_PRIORITY, rule.priority);
  m.AddU32(FRA_TABLE, rule.table);
  return Transact(m.header(), absl::StrCat(type == RTM_NEWRULE ? "add" : "remove", " rule ",
                                           rule.v6 ? "-6 " : "", "not fwmark 0x",
                                           absl::Hex(rule.mark), " lookup ", rule.table, " pref ",
                                           rule.priority));
}

absl::Status NetlinkRouteTable::ReplaceRoute(const Route& route) {
  return RouteRequest(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route);
}

absl::Status NetlinkRouteTable::DeleteRoute(const Route& route) {
  return RouteRequest(RTM_DELROUTE, 0, route);
}

absl::Status NetlinkRouteTable::AddRule(const RouteRule& rule) {
  return RuleRequest(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, rule);
}

absl::Status NetlinkRouteTable::DeleteRule(const RouteRule& rule) {
  return RuleRequest(RTM_DELRULE, 0, rule);
}

}  // namespace ikeless::agent
