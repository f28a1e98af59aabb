#ifndef IKELESS_AGENT_LIFETIME_JITTER_H_
#define IKELESS_AGENT_LIFETIME_JITTER_H_

// Rekey jitter: both ends of a pair receive the same lifetimes from the
// controller, so without jitter they would reach the soft lifetime, and
// start a rekey (FIG. 27), at the same instant. Lowering each end's soft
// lifetime by its own random amount makes that rare; when it still happens
// the controller merges the two rekeys (S9 finds the half-open row the other
// side opened).
//
// The amount is a share of the soft lifetime, not of the hard one: with
// hard 24h / soft 1h, 10 % of the hard lifetime (2.4 h) exceeded the soft
// one and most SAs rekeyed after 1 s, each rekey a new row, until the
// pair's row cap refused them (issue #12 point 1).

#include <cstdint>

#include "common/random.h"
#include "proto/policy.pb.h"

namespace ikeless::agent {

// The largest share of the soft lifetime the jitter takes; larger fractions
// are treated as this. Beyond half, an SA could rekey so early that a pair
// holds twice the rows its policy implies (controller/policy_validation.cc
// bounds hard / soft assuming the default 0.1).
inline constexpr double kMaxRekeyJitter = 0.5;

// The soft lifetime in seconds that `lifetime` means: soft_seconds, or 90 %
// of hard_seconds when soft_seconds is 0 (policy.proto), or 0 when the SA
// has no time limit.
uint64_t EffectiveSoftSeconds(const v1::Lifetime& lifetime);

// Lowers the soft lifetime S (EffectiveSoftSeconds, at most hard - 1) by a
// random amount in [0, floor(f * S)] seconds, f = `fraction` clamped to
// [0, kMaxRekeyJitter]: the result is never below (1 - f) * S (90 % with
// the default 0.1), never below 1 s and always strictly below the hard
// lifetime. Leaves lifetimes without a time limit (hard_seconds 0) or too
// short to hold a soft limit (hard_seconds 1) as they are. `fraction` <= 0
// only normalises.
void JitterSoftLifetime(v1::Lifetime* lifetime, double fraction, RandomSource& random);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_LIFETIME_JITTER_H_
