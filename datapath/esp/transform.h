#ifndef IKELESS_DATAPATH_ESP_TRANSFORM_H_
#define IKELESS_DATAPATH_ESP_TRANSFORM_H_

// The cryptographic half of ESP (RFC 4303 §3.3.2, §3.4.2-4): sealing and
// opening the encrypted part of one packet with the SA's keys. Framing
// (header, padding, trailer) is esp_packet.h; the SA's state is
// security_association.h.
//
// Suites (all through libcrypto EVP; contexts are made once per SA):
//   AES-GCM-16, 128/192/256-bit keys            RFC 4106
//   ChaCha20-Poly1305                           RFC 7634
//   AES-CBC 128/192/256 + HMAC-SHA2/HMAC-SHA1   RFC 3602, RFC 4868, RFC 2404
//   NULL + HMAC (integrity only)                RFC 2410

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/random.h"
#include "proto/policy.pb.h"

namespace ikeless::datapath::esp {

// The packet fields an ICV covers besides the bytes on the wire.
struct EspAad {
  uint32_t spi = 0;
  uint64_t seq = 0;  // full 64-bit sequence number
  bool esn = false;  // RFC 4303 §2.2.1 extended sequence numbers
};

// Seals and opens the encrypted part of one ESP packet for one SA. Not
// thread-safe: one SA is processed by one thread at a time.
class EspTransform {
 public:
  virtual ~EspTransform() = default;

  // "aes-gcm-16/128" and the like, for logs (never key material).
  virtual const char* name() const = 0;
  virtual size_t iv_size() const = 0;   // per-packet IV on the wire
  virtual size_t icv_size() const = 0;  // RFC 4303 §2.8
  // Alignment of payload + padding + trailer (RFC 4303 §2.4): the cipher's
  // block size, at least 4.
  virtual size_t block_size() const = 0;

  // Writes the per-packet IV for sequence number `seq` into `iv`
  // (iv_size() octets). AEAD: the sequence number itself, unique per SA
  // because it never wraps (RFC 4106 §3.1, RFC 7634 §2). CBC: random
  // (RFC 3602 §3).
  virtual void MakeIv(uint64_t seq, std::span<uint8_t> iv) = 0;

  // Encrypts `text` (payload, padding, pad length, next header; a multiple
  // of block_size()) in place and writes the ICV.
  virtual absl::Status Seal(const EspAad& aad, std::span<const uint8_t> iv,
                            std::span<uint8_t> text, std::span<uint8_t> icv) = 0;

  // Verifies the ICV and decrypts `text` in place. DATA_LOSS if the ICV
  // does not match (RFC 4303 §3.4.4: the packet MUST be dropped); `text` is
  // then garbage.
  virtual absl::Status Open(const EspAad& aad, std::span<const uint8_t> iv,
                            std::span<uint8_t> text, std::span<const uint8_t> icv) = 0;
};

// Builds the transform an SA's parameters name, after checking that the
// algorithms are supported here and that key and salt sizes fit them
// (INVALID_ARGUMENT naming the field). `random` supplies CBC IVs and must
// outlive the transform.
absl::StatusOr<std::unique_ptr<EspTransform>> MakeTransform(const v1::SaParameters& sa,
                                                            RandomSource* random);

// What MakeTransform accepts (for Hello's capabilities).
std::vector<v1::EncryptionAlgorithm> SupportedEncryption();
std::vector<v1::IntegrityAlgorithm> SupportedIntegrity();

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_TRANSFORM_H_
