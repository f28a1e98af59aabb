#ifndef IKELESS_COMMON_RANDOM_H_
#define IKELESS_COMMON_RANDOM_H_

// Randomness injected into logic that decides: keys, SPIs, request ids,
// jitter. Production uses the OpenSSL CSPRNG; tests use a seeded fake.

#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace ikeless {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with `n` random bytes. Must not fail silently: aborts if the
  // system CSPRNG is broken (keys must never be predictable).
  virtual void Fill(uint8_t* out, size_t n) = 0;

  uint64_t Uint64();
  // Uniform in [lo, hi] (inclusive), hi >= lo.
  uint64_t Uniform(uint64_t lo, uint64_t hi);
};

// OpenSSL's RAND_bytes. Thread-safe.
class CryptoRandom final : public RandomSource {
 public:
  void Fill(uint8_t* out, size_t n) override;
  static CryptoRandom* Get();
};

// Deterministic bytes from a seed (splitmix64); for tests only.
class FakeRandom final : public RandomSource {
 public:
  explicit FakeRandom(uint64_t seed = 1) : state_(seed) {}
  void Fill(uint8_t* out, size_t n) override;

 private:
  absl::Mutex mu_;
  uint64_t state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless

#endif  // IKELESS_COMMON_RANDOM_H_
