// Which routes the engine's TUN needs for a pushed SPD, and where.
#include "agent/route_plan.h"

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;

SpdEntry Entry(uint32_t id, std::string local, std::string remote,
               SpdEntry::Action action = SpdEntry::Action::kProtect, std::string peer = "198.18.0.2",
               std::string self = "198.18.0.1") {
  SpdEntry e;
  e.id = id;
  e.local_prefix = std::move(local);
  e.remote_prefix = std::move(remote);
  e.action = action;
  if (action == SpdEntry::Action::kProtect) {
    e.setup_peer = std::move(peer);
    e.local_address = std::move(self);
  }
  return e;
}

LaidOutSpd Laid(std::vector<SpdEntry> local, std::vector<SpdEntry> pushed) {
  LaidOutSpd spd;
  spd.entries = std::move(local);
  for (SpdEntry& e : pushed) {
    spd.pushed_ids.insert(e.id);
    spd.entries.push_back(std::move(e));
  }
  return spd;
}

RoutingOptions Options() {
  RoutingOptions o;
  o.table = 485;
  o.mark = 0x1e5;
  o.rule_priority = 100;
  return o;
}

TEST(RoutePlanTest, SitePrefixesGoToTheMainTableOnlyForPushedRules) {
  auto plan = PlanRoutes(
      Laid({Entry(1, "198.18.10.0/24", "198.18.40.0/24")},  // the operator routes these
           {Entry(5, "198.18.10.0/24", "198.18.20.0/24"),
            Entry(6, "198.18.10.0/24", "198.18.21.0/24", SpdEntry::Action::kDiscard),
            Entry(7, "198.18.10.0/24", "198.18.22.0/24", SpdEntry::Action::kBypass),
            Entry(8, "198.18.10.0/24", "198.18.20.0/24", SpdEntry::Action::kDiscard)}),
      Options());
  EXPECT_EQ(plan.routes, (std::set<Route>{{"198.18.20.0/24", kMainRouteTable, ""},
                                          {"198.18.21.0/24", kMainRouteTable, ""}}))
      << "PROTECT and DISCARD are routed into the TUN, BYPASS and local rules not, one "
         "route per prefix";
  EXPECT_TRUE(plan.rules.empty());
}

TEST(RoutePlanTest, HostToHostRulesUseTheMarkedTableWithTheirSource) {
  auto plan = PlanRoutes(
      Laid({}, {Entry(5, "198.18.0.1/32", "198.18.0.2/32"),
                Entry(6, "fd00::1/128", "fd00::2/128", SpdEntry::Action::kProtect, "fd00::2",
                      "fd00::1")}),
      Options());
  EXPECT_EQ(plan.routes, (std::set<Route>{{"198.18.0.2/32", 485, "198.18.0.1"},
                                          {"fd00::2/128", 485, "fd00::1"}}));
  EXPECT_EQ(plan.rules, (std::set<RouteRule>{{false, 0x1e5, 485, 100}, {true, 0x1e5, 485, 100}}));
}

TEST(RoutePlanTest, PrefixesCoveringMarkedDestinationsUseTheMarkedTable) {
  // The controller bypass (198.18.0.254) and the peer of entry 5
  // (198.18.0.2) lie in wider pushed prefixes: the engine's marked packets
  // to them must not be routed into the TUN.
  SpdEntry controller = Entry(1, "0.0.0.0/0", "198.18.0.254/32", SpdEntry::Action::kBypass);
  auto plan = PlanRoutes(
      Laid({controller}, {Entry(5, "198.18.10.0/24", "198.18.20.0/24"),
                          Entry(6, "198.18.10.0/24", "198.18.0.0/24", SpdEntry::Action::kDiscard),
                          Entry(7, "198.18.10.0/24", "198.18.0.128/25")}),
      Options());
  EXPECT_EQ(plan.routes, (std::set<Route>{{"198.18.20.0/24", kMainRouteTable, ""},
                                          {"198.18.0.0/24", 485, ""},
                                          {"198.18.0.128/25", 485, ""}}));
  EXPECT_EQ(plan.rules, (std::set<RouteRule>{{false, 0x1e5, 485, 100}}));
}

TEST(RoutePlanTest, NothingPushedNothingRouted) {
  auto plan = PlanRoutes(Laid({Entry(1, "198.18.0.1/32", "198.18.0.2/32")}, {}), Options());
  EXPECT_TRUE(plan.routes.empty());
  EXPECT_TRUE(plan.rules.empty());
}

}  // namespace
}  // namespace ikeless::agent
