#ifndef IKELESS_AGENT_LIFETIME_JITTER_H_
#define IKELESS_AGENT_LIFETIME_JITTER_H_

// Rekey jitter: both ends of a pair receive the same lifetimes from the
// controller, so without jitter they would reach the soft lifetime, and
// start a rekey (FIG. 27), at the same instant. Lowering each end's soft
// lifetime by its own random amount makes that rare; when it still happens
// the controller merges the two rekeys (S9 finds the half-open row the other
// side opened).

#include <cstdint>

#include "common/random.h"
#include "proto/policy.pb.h"

namespace ikeless::agent {

// The soft lifetime in seconds that `lifetime` means: soft_seconds, or 90 %
// of hard_seconds when soft_seconds is 0 (policy.proto), or 0 when the SA
// has no time limit.
uint64_t EffectiveSoftSeconds(const v1::Lifetime& lifetime);

// Lowers the soft lifetime by a random amount in [0, fraction * hard]
// seconds, then clamps it to [1, hard - 1] so that a rekey always starts
// at least one second in and strictly before the hard lifetime. Leaves
// lifetimes without a time limit (hard_seconds 0) or too short to hold a
// soft limit (hard_seconds 1) as they are. `fraction` <= 0 only normalises.
void JitterSoftLifetime(v1::Lifetime* lifetime, double fraction, RandomSource& random);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_LIFETIME_JITTER_H_
