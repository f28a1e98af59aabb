#ifndef IKELESS_AGENT_ROUTE_TABLE_H_
#define IKELESS_AGENT_ROUTE_TABLE_H_

// The kernel's routing, as the agent's route keeper (agent/route_sync.h)
// changes it: routes into the engine's TUN and the `ip rule`s that let the
// engine's own marked packets go around them. The rtnetlink implementation
// is agent/netlink_route_table.h; tests use a fake.

#include "absl/status/status.h"
#include "agent/route_plan.h"

namespace ikeless::agent {

class RouteTable {
 public:
  virtual ~RouteTable() = default;
  // Adds the route into the TUN, or replaces the one for the same
  // (table, prefix).
  virtual absl::Status ReplaceRoute(const Route& route) = 0;
  // NOT_FOUND if there is no such route of ours.
  virtual absl::Status DeleteRoute(const Route& route) = 0;
  // ALREADY_EXISTS if the very same rule is there.
  virtual absl::Status AddRule(const RouteRule& rule) = 0;
  // NOT_FOUND if there is no such rule.
  virtual absl::Status DeleteRule(const RouteRule& rule) = 0;
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_ROUTE_TABLE_H_
