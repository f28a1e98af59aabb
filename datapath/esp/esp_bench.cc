// Throughput of the engine's per-packet path, for comparison with
// `openssl speed -evp aes-128-gcm -bytes 1400` (DESIGN.md target: >= 50 %).
// Seals and opens 1400-octet IP packets through SecurityAssociation
// (framing, IV, AEAD, replay window, trailer), one core.
//
//   bazel run -c opt //datapath/esp:esp_bench -- [seconds] [payload bytes]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/clock.h"
#include "common/random.h"
#include "datapath/esp/engine_test_fixture.h"
#include "datapath/esp/security_association.h"

namespace ikeless::datapath::esp {
namespace {

int Run(double seconds, size_t size) {
  struct Suite {
    const char* name;
    testing::SaOptions o;
  };
  testing::SaOptions gcm, gcm256, chacha, cbc;
  gcm256.key_bytes = 32;
  chacha.enc = v1::ENCRYPTION_CHACHA20_POLY1305;
  chacha.key_bytes = 32;
  cbc.enc = v1::ENCRYPTION_AES_CBC;
  cbc.integ = v1::INTEGRITY_HMAC_SHA2_256_128;
  const Suite suites[] = {{"aes-gcm-16/128", gcm},
                          {"aes-gcm-16/256", gcm256},
                          {"chacha20-poly1305", chacha},
                          {"aes-cbc/128+hmac-sha2-256-128", cbc}};
  const std::vector<uint8_t> packet =
      testing::Udp("10.1.0.1", "10.2.0.1", 1, 2, std::string(size - 28, 'x'));
  auto info = ParseIpPacket(packet);
  for (const Suite& s : suites) {
    const v1::SaParameters p = testing::Sa(0x1000, "198.18.0.1", "198.18.0.2", s.o);
    auto out = SecurityAssociation::Create(1, Direction::kOutbound, p, absl::Now(), 1,
                                           CryptoRandom::Get());
    auto in = SecurityAssociation::Create(1, Direction::kInbound, p, absl::Now(), 2,
                                          CryptoRandom::Get());
    if (!out.ok() || !in.ok()) return 1;
    std::vector<uint8_t> esp, inner;
    uint64_t n = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      for (int i = 0; i < 1000; ++i) {
        if ((*out)->Protect(packet, *info, &esp) != SecurityAssociation::ProtectResult::kOk ||
            (*in)->Unprotect(esp, &inner) != SecurityAssociation::UnprotectResult::kOk) {
          std::fprintf(stderr, "%s: packet %llu failed\n", s.name,
                       static_cast<unsigned long long>(n));
          return 1;
        }
        ++n;
      }
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::printf("%-32s %zu-octet packets: %.0f seal+open/s, %.1f MB/s (%.2f Gbit/s)\n", s.name,
                size, n / elapsed, n * size / elapsed / 1e6, n * size * 8 / elapsed / 1e9);
  }
  return 0;
}

}  // namespace
}  // namespace ikeless::datapath::esp

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const size_t size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1400;
  return ikeless::datapath::esp::Run(seconds, size < 64 ? 64 : size);
}
