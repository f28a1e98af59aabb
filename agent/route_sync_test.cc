// RouteSync against a fake routing table: the diff, its order, failures
// retried, and the clean-up on exit.
#include "agent/route_sync.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;
using Strings = std::vector<std::string>;

// A kernel routing table for tests: one route per (table, prefix), rules
// as a set; records every call; fails the next call on request.
class FakeRouteTable final : public RouteTable {
 public:
  absl::Status ReplaceRoute(const Route& r) override {
    calls.push_back(absl::StrCat("replace ", r.prefix, " t", r.table, " ", r.source));
    if (absl::Status s = Next(); !s.ok()) return s;
    routes[{r.table, r.prefix}] = r;
    return absl::OkStatus();
  }
  absl::Status DeleteRoute(const Route& r) override {
    calls.push_back(absl::StrCat("delete ", r.prefix, " t", r.table));
    if (absl::Status s = Next(); !s.ok()) return s;
    return routes.erase({r.table, r.prefix}) ? absl::OkStatus() : absl::NotFoundError("no route");
  }
  absl::Status AddRule(const RouteRule& r) override {
    calls.push_back(absl::StrCat("add-rule v", r.v6 ? 6 : 4));
    if (absl::Status s = Next(); !s.ok()) return s;
    return rules.insert(r).second ? absl::OkStatus() : absl::AlreadyExistsError("File exists");
  }
  absl::Status DeleteRule(const RouteRule& r) override {
    calls.push_back(absl::StrCat("delete-rule v", r.v6 ? 6 : 4));
    if (absl::Status s = Next(); !s.ok()) return s;
    return rules.erase(r) ? absl::OkStatus() : absl::NotFoundError("no rule");
  }
  absl::Status Next() {
    absl::Status s = fail_next;
    fail_next = absl::OkStatus();
    return s;
  }

  std::map<std::pair<uint32_t, std::string>, Route> routes;
  std::set<RouteRule> rules;
  Strings calls;
  absl::Status fail_next;
};

const RouteRule kRule4{false, 0x1e5, 485, 485};
const RouteRule kRule6{true, 0x1e5, 485, 485};

TEST(RouteSyncTest, AddsRulesBeforeRoutesAndRemovesRoutesBeforeRules) {
  FakeRouteTable table;
  RouteSync sync(&table, RoutingOptions());
  RoutingPlan plan;
  plan.routes = {{"198.18.0.2/32", 485, "198.18.0.1"}, {"198.18.20.0/24", kMainRouteTable, ""}};
  plan.rules = {kRule4};
  ASSERT_TRUE(sync.Apply(plan).ok());
  EXPECT_EQ(table.calls, (Strings{"add-rule v4", "replace 198.18.0.2/32 t485 198.18.0.1",
                                  "replace 198.18.20.0/24 t254 "}));
  EXPECT_EQ(table.routes.size(), 2u);
  EXPECT_EQ(table.rules.size(), 1u);

  table.calls.clear();
  ASSERT_TRUE(sync.Apply(plan).ok());
  EXPECT_TRUE(table.calls.empty()) << "nothing changed, nothing sent";

  RoutingPlan next;
  next.routes = {{"198.18.20.0/24", kMainRouteTable, ""}, {"fd00:20::/64", kMainRouteTable, ""}};
  ASSERT_TRUE(sync.Apply(next).ok());
  EXPECT_EQ(table.calls, (Strings{"replace fd00:20::/64 t254 ", "delete 198.18.0.2/32 t485",
                                  "delete-rule v4"}));
  EXPECT_TRUE(table.rules.empty());
  EXPECT_EQ(sync.installed().routes, next.routes);
}

TEST(RouteSyncTest, ASourceChangeReplacesInPlace) {
  FakeRouteTable table;
  RouteSync sync(&table, RoutingOptions());
  RoutingPlan a;
  a.routes = {{"198.18.0.2/32", 485, "198.18.0.1"}};
  ASSERT_TRUE(sync.Apply(a).ok());
  RoutingPlan b;
  b.routes = {{"198.18.0.2/32", 485, "198.18.0.9"}};
  table.calls.clear();
  ASSERT_TRUE(sync.Apply(b).ok());
  EXPECT_EQ(table.calls, Strings{"replace 198.18.0.2/32 t485 198.18.0.9"})
      << "no delete: it would take the new route";
  EXPECT_EQ(table.routes.at({485, "198.18.0.2/32"}).source, "198.18.0.9");
  EXPECT_EQ(sync.installed().routes, b.routes);
}

TEST(RouteSyncTest, FailuresAreRetriedOnTheNextApplyAndLeftoverRulesAdopted) {
  FakeRouteTable table;
  table.rules.insert(kRule6);  // ours, from an earlier run that did not clean up
  table.rules.insert(kRule4);  // someone else's: never touched
  RouteSync sync(&table, RoutingOptions());
  ASSERT_TRUE(sync.Apply(RoutingPlan{{}, {kRule6}}).ok()) << "ALREADY_EXISTS is adopted";
  EXPECT_EQ(sync.installed().rules, std::set<RouteRule>{kRule6});

  RoutingPlan plan;
  plan.routes = {{"198.18.20.0/24", kMainRouteTable, ""}, {"fd00::2/128", 485, ""}};
  plan.rules = {kRule6};
  table.fail_next = absl::FailedPreconditionError("add route 198.18.20.0/24: Network is down");
  absl::Status s = sync.Apply(plan);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(sync.installed().routes, (std::set<Route>{{"fd00::2/128", 485, ""}}))
      << "the failed route is not counted as made; the next one still went in";
  table.calls.clear();
  ASSERT_TRUE(sync.Apply(plan).ok());
  EXPECT_EQ(table.calls, Strings{"replace 198.18.20.0/24 t254 "}) << "only the missing one again";
  EXPECT_EQ(sync.installed().routes, plan.routes);

  ASSERT_TRUE(sync.Clear().ok());
  EXPECT_TRUE(table.routes.empty());
  EXPECT_EQ(table.rules, std::set<RouteRule>{kRule4}) << "only what it made is removed";
  EXPECT_TRUE(sync.installed().routes.empty());
  EXPECT_TRUE(sync.installed().rules.empty());
}

TEST(RouteSyncTest, FollowsTheAppliedSpd) {
  FakeRouteTable table;
  RoutingOptions o;
  o.table = 485;
  RouteSync sync(&table, o);
  LaidOutSpd spd;
  SpdEntry e;
  e.id = 3;
  e.local_prefix = "198.18.0.1/32";
  e.remote_prefix = "198.18.0.2/32";
  e.setup_peer = "198.18.0.2";
  e.local_address = "198.18.0.1";
  spd.entries = {e};
  spd.pushed_ids = {3};
  sync.OnSpdApplied(spd);
  ASSERT_EQ(table.routes.size(), 1u);
  EXPECT_EQ(table.routes.begin()->second.source, "198.18.0.1");
  EXPECT_EQ(table.rules.size(), 1u);
  sync.OnSpdApplied(LaidOutSpd{});
  EXPECT_TRUE(table.routes.empty());
  EXPECT_TRUE(table.rules.empty());
}

}  // namespace
}  // namespace ikeless::agent
