#include "agent/lifetime_jitter.h"

#include <algorithm>
#include <cmath>

namespace ikeless::agent {

uint64_t EffectiveSoftSeconds(const v1::Lifetime& lifetime) {
  if (lifetime.soft_seconds() != 0) return lifetime.soft_seconds();
  return lifetime.hard_seconds() / 10 * 9 + lifetime.hard_seconds() % 10 * 9 / 10;
}

void JitterSoftLifetime(v1::Lifetime* lifetime, double fraction, RandomSource& random) {
  const uint64_t hard = lifetime->hard_seconds();
  if (hard <= 1) return;  // no time limit, or no room for a soft one
  // A soft limit at or past the hard one (a bad policy) still rekeys in time.
  uint64_t soft = std::max<uint64_t>(std::min(EffectiveSoftSeconds(*lifetime), hard - 1), 1);
  if (fraction > 0) {
    // floor(f * soft) <= soft / 2: the subtraction cannot wrap, and the
    // result stays >= (1 - f) * soft.
    const double f = std::min(fraction, kMaxRekeyJitter);
    const uint64_t max_jitter = static_cast<uint64_t>(std::floor(static_cast<double>(soft) * f));
    if (max_jitter > 0) soft -= random.Uniform(0, max_jitter);
  }
  lifetime->set_soft_seconds(std::max<uint64_t>(soft, 1));
}

}  // namespace ikeless::agent
