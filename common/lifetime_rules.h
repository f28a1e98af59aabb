#ifndef IKELESS_COMMON_LIFETIME_RULES_H_
#define IKELESS_COMMON_LIFETIME_RULES_H_

// The rules an SA lifetime of a policy must follow, shared by the
// controller's policy validation (controller/policy_validation.cc) and
// ipsecctl's own checks (tools/ipsecctl), so both say the same.

#include <algorithm>
#include <cstdint>

namespace ikeless {

// The shortest hard lifetime in seconds. An SA must live long enough for
// its rekey to be requested, relayed by the controller to the peer (which
// for kernel XFRM installs first and is waited on up to 1 s,
// controller/dispatcher.h), installed on both ends, and for traffic to
// move to the new pair before the old one dies, with the agent's rekey
// starting at a whole-second soft lifetime it has lowered by up to 10 %.
// Below 8 s that leaves the exchange a second or two; 8 s (soft 4 s) is
// also the shortest lifetime our tests run rekeys under traffic with no
// loss (tests/vm/guest.sh on kernel XFRM, tests/e2e/tunnel_test.sh 10 s).
inline constexpr uint64_t kMinHardLifetimeSeconds = 8;

// A soft limit (time, bytes or packets) must be at least hard / this. Each
// soft expiry is a rekey, and each rekey a new row that the controller
// keeps until the old SA's hard expiry (and its successor keys' time,
// DECISIONS 33). Superseded rows no longer count against the per-pair cap
// (RequestProcessor::Options::max_rows_per_pair), so they cannot lock a
// pair out, but they are rows: with soft >= hard / 32 and the agent's 10 %
// jitter a rule keeps at most ceil(32 / 0.9) + 1 = 37 rows plus one per
// successor key. Ordinary policies pass (24 h/1 h is 1/24); 1 h/25 s
// (1/144) would keep 150 rows for every pair.
inline constexpr uint64_t kMaxSoftLifetimesPerHard = 32;

// Successor keys (DECISIONS 33): the seconds an inbound successor of
// generation g, and the controller's row, are kept beyond g soft lifetimes
// plus the hard one. Each local switch may come late by the datapath's
// make-before-break delay (up to 1 s) and a timer tick, so 2 s a
// generation, and the two ends install an association a few seconds apart
// at most (the controller waits up to 1 s for an XFRM peer; a resent
// Distribution comes later still), so 10 s once.
inline uint64_t SuccessorSlackSeconds(uint64_t generation) { return 10 + 2 * generation; }

// The soft limit the controller derives when a policy gives none: 90 % of
// the hard one, at least 1 below it, 0 without a hard one.
inline uint64_t DerivedSoftLimit(uint64_t hard) {
  if (hard <= 1) return hard;
  return hard - std::max<uint64_t>(1, hard / 10);
}

}  // namespace ikeless

#endif  // IKELESS_COMMON_LIFETIME_RULES_H_
