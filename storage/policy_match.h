#ifndef IKELESS_STORAGE_POLICY_MATCH_H_
#define IKELESS_STORAGE_POLICY_MATCH_H_

// Which policy applies to a pair of addresses (S21). Pure; shared by every
// PolicyStore backend.
//
// A policy matches the unordered pair {source, peer} if its endpoints a and
// b contain them in either order, and its selector covers the request's
// (each non-zero policy field equals the request's). Among matches the most
// specific wins:
//   1. the larger sum of both endpoints' prefix lengths (a single address
//      is /32 or /128; the wildcard "*" counts -1, below 0.0.0.0/0), so an
//      exact pair beats a prefix pair beats FIG. 30's "all other
//      combinations";
//   2. then the more specific selector (protocol and port set beats
//      protocol only beats neither);
//   3. then the higher priority;
//   4. then the smaller name, so the answer never depends on storage order.

#include <optional>
#include <vector>

#include "common/address.h"
#include "proto/policy.pb.h"

namespace ikeless::storage {

// True if `policy` covers traffic between `source` and `peer` with
// `selector`. Policies with unparsable endpoints never match.
bool PolicyMatches(const v1::Policy& policy, const IpAddress& source,
                   const IpAddress& peer, const v1::Selector& selector);

// The best match among `policies`, or nullptr.
const v1::Policy* BestPolicy(const std::vector<v1::Policy>& policies,
                             const IpAddress& source, const IpAddress& peer,
                             const v1::Selector& selector);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_POLICY_MATCH_H_
