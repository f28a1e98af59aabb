#include "storage/policy_match.h"

#include <tuple>

namespace ikeless::storage {
namespace {

bool SelectorCovers(const v1::Selector& policy, const v1::Selector& request) {
  if (policy.protocol() != 0 && policy.protocol() != request.protocol()) return false;
  if (policy.port() != 0 && policy.port() != request.port()) return false;
  return true;
}

int SelectorSpecificity(const v1::Selector& s) {
  return (s.protocol() != 0 ? 1 : 0) + (s.port() != 0 ? 1 : 0);
}

// -2 if the policy does not match, else the sum of prefix lengths.
int AddressSpecificity(const v1::Policy& policy, const IpAddress& source,
                       const IpAddress& peer) {
  auto a = AddressMatch::Parse(policy.a().address());
  auto b = AddressMatch::Parse(policy.b().address());
  if (!a.ok() || !b.ok()) return -3;
  bool forward = a->Contains(source) && b->Contains(peer);
  bool reverse = a->Contains(peer) && b->Contains(source);
  if (!forward && !reverse) return -3;
  return a->specificity() + b->specificity();
}

}  // namespace

bool PolicyMatches(const v1::Policy& policy, const IpAddress& source,
                   const IpAddress& peer, const v1::Selector& selector) {
  return SelectorCovers(policy.selector(), selector) &&
         AddressSpecificity(policy, source, peer) > -3;
}

const v1::Policy* BestPolicy(const std::vector<v1::Policy>& policies,
                             const IpAddress& source, const IpAddress& peer,
                             const v1::Selector& selector) {
  const v1::Policy* best = nullptr;
  std::tuple<int, int, int> best_key;
  for (const v1::Policy& p : policies) {
    if (!SelectorCovers(p.selector(), selector)) continue;
    int spec = AddressSpecificity(p, source, peer);
    if (spec <= -3) continue;
    std::tuple<int, int, int> key{spec, SelectorSpecificity(p.selector()), p.priority()};
    if (best == nullptr || key > best_key ||
        (key == best_key && p.name() < best->name())) {
      best = &p;
      best_key = key;
    }
  }
  return best;
}

}  // namespace ikeless::storage
