#ifndef IKELESS_AGENT_ROUTE_PLAN_H_
#define IKELESS_AGENT_ROUTE_PLAN_H_

// Which routes the in-process ESP engine needs for the pushed SPD. The
// kernel must route protected traffic into the engine's TUN (kernel XFRM
// matches whatever the routing and needs none); for the config's own
// rules the operator routes (datapath/esp/README.md "Running it"), for
// pushed rules the agent does:
//   - every pushed PROTECT or DISCARD entry routes its remote prefix into
//     the TUN (DISCARD too: discarded traffic must never leave in clear by
//     another route);
//   - a route whose prefix overlaps an address the engine itself sends to
//     with its socket mark — a PROTECT entry's peer node (ESP) or a BYPASS
//     entry's remote prefix (the engine resends bypassed packets marked),
//     the controller's included — goes into the agent's own table,
//     consulted by an `ip rule not fwmark <mark> lookup <table>` per
//     family, so the engine's marked packets still leave on the link
//     instead of looping into the TUN. Host-to-host rules (remote prefix =
//     the peer's /32 or /128) are such routes; they carry the rule's node
//     address as preferred source, as tests/e2e/transport_test.sh did by
//     hand. Other routes go into the main table.
// Several entries with one remote prefix make one route (the first one's).
// Pure.

#include <compare>
#include <cstdint>
#include <set>
#include <string>

#include "agent/spd_layout.h"

namespace ikeless::agent {

inline constexpr uint32_t kMainRouteTable = 254;  // RT_TABLE_MAIN

// One route into the TUN.
struct Route {
  std::string prefix;      // canonical CIDR
  uint32_t table = kMainRouteTable;
  std::string source;      // preferred source address, or ""
  bool v6() const { return prefix.find(':') != std::string::npos; }
  auto operator<=>(const Route&) const = default;
};

// `ip rule add not fwmark <mark> lookup <table> pref <priority>` for one
// family.
struct RouteRule {
  bool v6 = false;
  uint32_t mark = 0;
  uint32_t table = 0;
  uint32_t priority = 0;
  auto operator<=>(const RouteRule&) const = default;
};

struct RoutingPlan {
  std::set<Route> routes;
  std::set<RouteRule> rules;
};

struct RoutingOptions {
  uint32_t table = 0x1e5;          // the agent's routing table
  uint32_t mark = 0x1e5;           // the engine's SO_MARK (esp.socket_mark)
  uint32_t rule_priority = 0x1e5;  // before main (32766)
};

RoutingPlan PlanRoutes(const LaidOutSpd& spd, const RoutingOptions& options);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_ROUTE_PLAN_H_
