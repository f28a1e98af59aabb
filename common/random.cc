#include "common/random.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

#include "common/log.h"

namespace ikeless {

uint64_t RandomSource::Uint64() {
  uint64_t v;
  uint8_t b[8];
  Fill(b, sizeof b);
  std::memcpy(&v, b, sizeof v);
  return v;
}

uint64_t RandomSource::Uniform(uint64_t lo, uint64_t hi) {
  const uint64_t span = hi - lo;
  if (span == UINT64_MAX) return Uint64();
  const uint64_t n = span + 1;
  // Rejection sampling: no modulo bias.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t v;
  do {
    v = Uint64();
  } while (v >= limit);
  return lo + v % n;
}

void CryptoRandom::Fill(uint8_t* out, size_t n) {
  if (n == 0) return;
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    LogError("csprng_failed").Kv("bytes", uint64_t{n});
    std::abort();
  }
}

CryptoRandom* CryptoRandom::Get() {
  static CryptoRandom* r = new CryptoRandom;
  return r;
}

void FakeRandom::Fill(uint8_t* out, size_t n) {
  absl::MutexLock l(&mu_);
  for (size_t i = 0; i < n; i += 8) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    std::memcpy(out + i, &z, n - i < 8 ? n - i : 8);
  }
}

}  // namespace ikeless
