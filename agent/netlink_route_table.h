#ifndef IKELESS_AGENT_NETLINK_ROUTE_TABLE_H_
#define IKELESS_AGENT_NETLINK_ROUTE_TABLE_H_

// RouteTable over rtnetlink (NETLINK_ROUTE): RTM_NEWROUTE with
// NLM_F_REPLACE and RTM_DELROUTE for routes into one device (the engine's
// TUN), RTM_NEWRULE / RTM_DELRULE for `not fwmark` rules; IPv4 and IPv6.
// Routes carry the protocol kRouteProtocol, so `ip route` shows whose they
// are and a delete never takes another daemon's route for the same prefix.
// The agent's I/O edge for routes; one request at a time (RouteSync
// serialises).

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/route_table.h"
#include "common/scoped_fd.h"

namespace ikeless::agent {

// rtm_protocol of our routes (0x1e5's low byte; unused by iproute2's list).
inline constexpr uint8_t kRouteProtocol = 0xe5;

class NetlinkRouteTable final : public RouteTable {
 public:
  // Opens the socket; routes go out of `device`, which must exist.
  // PERMISSION_DENIED-style errors say that CAP_NET_ADMIN is needed.
  static absl::StatusOr<std::unique_ptr<NetlinkRouteTable>> Open(const std::string& device);

  absl::Status ReplaceRoute(const Route& route) override;
  absl::Status DeleteRoute(const Route& route) override;
  absl::Status AddRule(const RouteRule& rule) override;
  absl::Status DeleteRule(const RouteRule& rule) override;

 private:
  NetlinkRouteTable(int fd, std::string device, int ifindex)
      : fd_(fd), device_(std::move(device)), ifindex_(ifindex) {}
  absl::Status RouteRequest(uint16_t type, uint16_t flags, const Route& route);
  absl::Status RuleRequest(uint16_t type, uint16_t flags, const RouteRule& rule);
  // Sends one request and waits for its acknowledgement; errors start
  // with `what`.
  absl::Status Transact(void* message, const std::string& what);

  ScopedFd fd_;
  const std::string device_;
  const int ifindex_;
  uint32_t seq_ = 1;
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_NETLINK_ROUTE_TABLE_H_
