#include "agent/route_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "common/address.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;

struct Prefix {
  IpAddress net;
  int length = 0;
};

std::optional<Prefix> ParsePrefix(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  auto net = IpAddress::Parse(cidr.substr(0, slash));
  if (!net.ok()) return std::nullopt;
  Prefix p{*net, net->bits()};
  if (slash != std::string::npos) {
    auto m = AddressMatch::Parse(cidr);
    if (!m.ok()) return std::nullopt;
    p.length = m->specificity();
  }
  return p;
}

bool Overlap(const Prefix& a, const Prefix& b) {
  return a.net.is_v4() == b.net.is_v4() &&
         a.net.SharesPrefix(b.net, std::min(a.length, b.length));
}

std::string HostPrefix(const std::string& address) {
  return address + (address.find(':') == std::string::npos ? "/32" : "/128");
}

}  // namespace

RoutingPlan PlanRoutes(const LaidOutSpd& spd, const RoutingOptions& options) {
  // What the engine sends with its mark: ESP to peers, bypassed packets.
  std::vector<Prefix> marked;
  for (const SpdEntry& e : spd.entries) {
    std::optional<Prefix> p;
    if (e.action == SpdEntry::Action::kProtect && !e.setup_peer.empty()) {
      p = ParsePrefix(e.setup_peer);
    } else if (e.action == SpdEntry::Action::kBypass) {
      p = ParsePrefix(e.remote_prefix);
    }
    if (p.has_value()) marked.push_back(*p);
  }
  RoutingPlan plan;
  std::map<std::string, Route> by_prefix;  // the first entry's route wins
  for (const SpdEntry& e : spd.entries) {
    if (spd.pushed_ids.count(e.id) == 0 || e.action == SpdEntry::Action::kBypass) continue;
    if (by_prefix.count(e.remote_prefix) != 0) continue;
    std::optional<Prefix> p = ParsePrefix(e.remote_prefix);
    if (!p.has_value()) continue;  // PushedSpd let no such prefix through
    Route r;
    r.prefix = e.remote_prefix;
    const bool hidden = std::any_of(marked.begin(), marked.end(),
                                    [&](const Prefix& m) { return Overlap(*p, m); });
    if (hidden) {
      r.table = options.table;
      if (e.action == SpdEntry::Action::kProtect && !e.local_address.empty() &&
          e.local_prefix == HostPrefix(e.local_address)) {
        r.source = e.local_address;  // host to host: the node's own packets
      }
      plan.rules.insert({r.v6(), options.mark, options.table, options.rule_priority});
    }
    by_prefix.emplace(e.remote_prefix, r);
  }
  for (auto& [prefix, r] : by_prefix) plan.routes.insert(std::move(r));
  return plan;
}

}  // namespace ikeless::agent
