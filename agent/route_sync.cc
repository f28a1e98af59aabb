#include "agent/route_sync.h"

#include <set>
#include <utility>
#include <vector>

#include "common/log.h"

namespace ikeless::agent {
namespace {

// The kernel's identity of a route: one per (table, prefix).
std::pair<uint32_t, std::string> SlotOf(const Route& r) { return {r.table, r.prefix}; }

void Note(absl::Status& first, const absl::Status& s) {
  if (first.ok() && !s.ok()) first = s;
}

}  // namespace

RouteSync::RouteSync(RouteTable* table, RoutingOptions options)
    : table_(table), options_(options) {}

void RouteSync::OnSpdApplied(const LaidOutSpd& spd) {
  absl::Status s = Apply(PlanRoutes(spd, options_));
  if (!s.ok()) LogError("routes_out_of_step").Kv("reason", s.message());
}

absl::Status RouteSync::Apply(const RoutingPlan& plan) {
  absl::MutexLock l(&mu_);
  absl::Status first;
  for (const RouteRule& rule : plan.rules) {
    if (installed_.rules.count(rule) != 0) continue;
    absl::Status s = table_->AddRule(rule);
    // The same rule from an earlier run of ours that ended without cleaning up.
    if (s.ok() || absl::IsAlreadyExists(s)) {
      installed_.rules.insert(rule);
      LogInfo("route_rule_added")
          .Kv("family", rule.v6 ? "ipv6" : "ipv4")
          .Kv("table", rule.table)
          .Kv("priority", rule.priority);
    } else {
      LogError("route_rule_failed").Kv("table", rule.table).Kv("reason", s.message());
      Note(first, s);
    }
  }
  std::set<std::pair<uint32_t, std::string>> planned;
  for (const Route& r : plan.routes) {
    planned.insert(SlotOf(r));
    if (installed_.routes.count(r) != 0) continue;
    absl::Status s = table_->ReplaceRoute(r);
    if (!s.ok()) {
      LogError("route_failed").Kv("prefix", r.prefix).Kv("table", r.table).Kv("reason", s.message());
      Note(first, s);
      continue;
    }
    // A replaced route (same slot, other source) is no longer there.
    std::erase_if(installed_.routes, [&](const Route& old) { return SlotOf(old) == SlotOf(r); });
    installed_.routes.insert(r);
    LogInfo("route_added").Kv("prefix", r.prefix).Kv("table", r.table).Kv("source", r.source);
  }
  std::vector<Route> stale;
  for (const Route& r : installed_.routes) {
    if (plan.routes.count(r) == 0 && planned.count(SlotOf(r)) == 0) stale.push_back(r);
  }
  for (const Route& r : stale) {
    absl::Status s = table_->DeleteRoute(r);
    if (s.ok() || absl::IsNotFound(s)) {
      installed_.routes.erase(r);
      LogInfo("route_removed").Kv("prefix", r.prefix).Kv("table", r.table);
    } else {
      LogError("route_remove_failed").Kv("prefix", r.prefix).Kv("reason", s.message());
      Note(first, s);
    }
  }
  std::vector<RouteRule> unused;
  for (const RouteRule& rule : installed_.rules) {
    if (plan.rules.count(rule) == 0) unused.push_back(rule);
  }
  for (const RouteRule& rule : unused) {
    absl::Status s = table_->DeleteRule(rule);
    if (s.ok() || absl::IsNotFound(s)) {
      installed_.rules.erase(rule);
      LogInfo("route_rule_removed").Kv("family", rule.v6 ? "ipv6" : "ipv4").Kv("table", rule.table);
    } else {
      LogError("route_rule_remove_failed").Kv("table", rule.table).Kv("reason", s.message());
      Note(first, s);
    }
  }
  return first;
}

absl::Status RouteSync::Clear() { return Apply(RoutingPlan{}); }

RoutingPlan RouteSync::installed() const {
  absl::MutexLock l(&mu_);
  return installed_;
}

}  // namespace ikeless::agent
