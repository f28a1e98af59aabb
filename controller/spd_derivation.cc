#include "controller/spd_derivation.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "google/protobuf/util/message_differencer.h"
#include "storage/policy_match.h"

namespace ikeless::controller {
namespace {

// Selectors from the most specific (protocol and port) to "any": the order
// in which an SPD must list them (first match wins).
uint32_t Rank(const v1::Selector& s) {
  if (s.protocol() != 0 && s.port() != 0) return 0;
  return s.protocol() != 0 ? 1 : 2;
}

v1::PolicyAction ActionOf(const v1::Policy& p) {
  return p.action() == v1::POLICY_ACTION_UNSPECIFIED ? v1::POLICY_ACTION_PROTECT : p.action();
}

std::string HostPrefix(const std::string& address) {
  return absl::StrCat(address, address.find(':') == std::string::npos ? "/32" : "/128");
}

bool SameFamily(const std::string& a, const std::string& b) {
  return (a.find(':') == std::string::npos) == (b.find(':') == std::string::npos);
}

// The policy governing each selector between two addresses: for every
// selector some matching policy names, the best policy for it, kept only
// where that policy is the one naming the selector (otherwise the rule of
// the policy's own selector covers that traffic already).
std::vector<const v1::Policy*> Governing(const std::vector<v1::Policy>& policies,
                                         const IpAddress& a, const IpAddress& b) {
  std::vector<const v1::Policy*> out;
  std::set<std::pair<uint32_t, uint32_t>> seen;
  for (const v1::Policy& p : policies) {
    if (!storage::PolicyMatches(p, a, b, p.selector())) continue;
    if (!seen.insert({p.selector().protocol(), p.selector().port()}).second) continue;
    const v1::Policy* best = storage::BestPolicy(policies, a, b, p.selector());
    if (best == nullptr || best->selector().protocol() != p.selector().protocol() ||
        best->selector().port() != p.selector().port()) {
      continue;
    }
    out.push_back(best);
  }
  std::sort(out.begin(), out.end(), [](const v1::Policy* x, const v1::Policy* y) {
    return std::make_tuple(Rank(x->selector()), x->selector().protocol(), x->selector().port()) <
           std::make_tuple(Rank(y->selector()), y->selector().protocol(), y->selector().port());
  });
  return out;
}

v1::PushedRule MakeRule(const v1::Node& peer, const v1::Policy* policy, v1::PolicyAction action,
                        const std::string& local, const std::string& remote,
                        const std::string& local_address, const std::string& peer_address,
                        const v1::Selector& selector) {
  v1::PushedRule r;
  r.set_local(local);
  r.set_remote(remote);
  r.set_protocol(selector.protocol());
  r.set_port(selector.port());
  r.set_action(action);
  if (action == v1::POLICY_ACTION_PROTECT) {
    r.set_setup_peer(peer_address);
    r.set_local_address(local_address);
  }
  r.set_rank(Rank(selector));
  r.set_policy(policy != nullptr ? policy->name() : "");
  r.set_peer_node(peer.name());
  r.set_name(absl::StrCat(policy != nullptr ? policy->name() : "fail-closed", "/", peer.name()));
  r.set_key(RuleKey(r));
  return r;
}

}  // namespace

std::string RuleKey(const v1::PushedRule& r) {
  return absl::StrCat(v1::PolicyAction_Name(r.action()), "|", r.local_address(), ">",
                      r.setup_peer(), "|", r.local(), ">", r.remote(), "|", r.protocol(), "/",
                      r.port());
}

std::vector<v1::PushedRule> RulesToward(const v1::Node& self, const v1::Node& peer,
                                        const std::vector<v1::Policy>& policies) {
  std::map<std::string, v1::PushedRule> rules;
  auto add = [&](v1::PushedRule r) { rules.emplace(r.key(), std::move(r)); };
  bool sites_done = false;      // site rules come from the first matched address pair
  bool sites_covered = false;   // some policy says what happens to all site traffic
  for (const std::string& mine : self.addresses()) {
    for (const std::string& theirs : peer.addresses()) {
      if (!SameFamily(mine, theirs)) continue;
      auto a = IpAddress::Parse(mine);
      auto b = IpAddress::Parse(theirs);
      if (!a.ok() || !b.ok() || *a == *b) continue;
      std::vector<const v1::Policy*> governing = Governing(policies, *a, *b);
      if (governing.empty()) continue;
      for (const v1::Policy* p : governing) {
        const v1::PolicyAction action = ActionOf(*p);
        add(MakeRule(peer, p, action, HostPrefix(mine), HostPrefix(theirs), mine, theirs,
                     p->selector()));
        if (sites_done || p->mode() == v1::MODE_TRANSPORT) continue;
        for (const std::string& s : self.sites()) {
          for (const std::string& t : peer.sites()) {
            if (!SameFamily(s, t)) continue;
            add(MakeRule(peer, p, action, s, t, mine, theirs, p->selector()));
          }
        }
        if (Rank(p->selector()) == 2) sites_covered = true;
      }
      sites_done = true;
    }
  }
  if (!sites_covered) {
    // Fail closed: known sites that no policy lets talk are discarded.
    for (const std::string& s : self.sites()) {
      for (const std::string& t : peer.sites()) {
        if (!SameFamily(s, t)) continue;
        add(MakeRule(peer, nullptr, v1::POLICY_ACTION_DISCARD, s, t, "", "", v1::Selector()));
      }
    }
  }
  std::vector<v1::PushedRule> out;
  out.reserve(rules.size());
  for (auto& [_, r] : rules) out.push_back(std::move(r));
  return out;
}

std::map<std::string, v1::PushedRule> DeriveSpd(const v1::Node& self,
                                                const std::vector<v1::Node>& nodes,
                                                const std::vector<v1::Policy>& policies) {
  std::map<std::string, v1::PushedRule> out;
  for (const v1::Node& peer : nodes) {
    if (peer.name() == self.name()) continue;
    for (v1::PushedRule& r : RulesToward(self, peer, policies)) {
      std::string key = r.key();
      out.emplace(std::move(key), std::move(r));
    }
  }
  return out;
}

bool RulesEqual(const v1::PushedRule& a, const v1::PushedRule& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

void DiffRules(const std::map<std::string, v1::PushedRule>& before,
               const std::map<std::string, v1::PushedRule>& after, v1::SpdUpdate* delta) {
  for (const auto& [key, rule] : after) {
    auto it = before.find(key);
    if (it != before.end() && RulesEqual(it->second, rule)) {
      continue;
    }
    *delta->add_upsert() = rule;
  }
  for (const auto& [key, _] : before) {
    if (after.count(key) == 0) delta->add_remove(key);
  }
}

}  // namespace ikeless::controller
