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
  uint64_t soft = std::min(EffectiveSoftSeconds(*lifetime), hard - 1);
  if (fraction > 0) {
    const double span = std::floor(static_cast<double>(hard) * std::min(fraction, 1.0));
    const uint64_t max_jitter = static_cast<uint64_t>(span);
    const uint64_t jitter = max_jitter == 0 ? 0 : random.Uniform(0, max_jitter);
    soft = soft > jitter ? soft - jitter : 0;
  }
  lifetime->set_soft_seconds(std::max<uint64_t>(soft, 1));
}

}  // namespace ikeless::agent
