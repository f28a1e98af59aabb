#ifndef IKELESS_STORAGE_KEY_SEALER_H_
#define IKELESS_STORAGE_KEY_SEALER_H_

// Envelope encryption of key material at rest (DESIGN.md "Security"): the
// association table's SA parameters are sealed with AES-256-GCM under a
// key-encryption key (KEK) kept in a separate file (storage/kek_file.h), so
// a copy of the database without that file holds no usable key.
//
// Sealed format, version 1 (33 bytes more than the plaintext):
//   offset 0        1 byte    version, 0x01
//   offset 1        4 bytes   KEK id: the first 4 bytes of SHA-256(KEK)
//   offset 5       12 bytes   nonce, random
//   offset 17       n bytes   ciphertext
//   offset 17 + n  16 bytes   GCM tag
// The authenticated data is bytes 0..4 followed by the caller's context, so
// neither the header nor the blob's place (the context names it) can be
// changed without Open failing.
//
// The KEK id lets a wrong KEK be reported as such instead of as a generic
// authentication failure. 32 bits of a hash of a 256-bit random key give
// nothing useful to an attacker.
//
// Version bytes are kept in 0x01..0x07 because a serialized protobuf message
// can never start with one (it would be the tag of field number 0): that is
// how LooksSealed tells a sealed blob from a plaintext one without guessing.
//
// Nonce limit: random 96-bit nonces keep the chance of a repeat below 2^-32
// for 2^32 seals under one KEK (NIST SP 800-38D, 8.3). At the target rate of
// 20,000 setups/s (two seals each) that is about 30 hours flat out. A repeat
// only matters if an attacker holds both blobs; a stolen database holds only
// live rows (secure_delete zeroes the rest), far fewer than 2^32, but an
// archive of every WAL frame ever written could hold more. Version 2 can
// widen the nonce if such archives are kept.

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/random.h"
#include "storage/kek_file.h"

namespace ikeless::storage {

// Seals and opens small secrets under one KEK. Immutable once made; Seal and
// Open may be called from any thread if the RandomSource may.
class KeySealer {
 public:
  static constexpr uint8_t kVersion = 0x01;
  static constexpr size_t kIdBytes = 4;
  static constexpr size_t kNonceBytes = 12;
  static constexpr size_t kTagBytes = 16;
  static constexpr size_t kHeaderBytes = 1 + kIdBytes;
  static constexpr size_t kOverhead = kHeaderBytes + kNonceBytes + kTagBytes;

  // The KEK from the file at `path` (see kek_file.h for its format and
  // checks), created with a new random key if missing and
  // `create_if_missing`. `random` makes the key of a new file and every
  // nonce; it must outlive the sealer.
  static absl::StatusOr<std::unique_ptr<KeySealer>> FromKeyFile(const std::string& path,
                                                                bool create_if_missing,
                                                                RandomSource* random);
  // A KEK given as its 32 bytes (tests, tools). INVALID_ARGUMENT otherwise.
  static absl::StatusOr<std::unique_ptr<KeySealer>> FromKey(absl::string_view kek,
                                                            RandomSource* random);

  ~KeySealer();  // wipes the KEK
  KeySealer(const KeySealer&) = delete;
  KeySealer& operator=(const KeySealer&) = delete;

  // `plaintext` sealed for `context` (e.g. "ikeless/association/7/a_to_b").
  // Fails only if OpenSSL does (INTERNAL).
  absl::StatusOr<std::string> Seal(absl::string_view plaintext, absl::string_view context) const;
  // The plaintext of `sealed`, which must have been sealed under this KEK
  // for the same `context`. The caller wipes the result (WipeString).
  // DATA_LOSS: not sealed, truncated, altered, or sealed for another
  // context. FAILED_PRECONDITION: sealed under another KEK (the message
  // names both ids) or in a format version this build does not know.
  absl::StatusOr<std::string> Open(absl::string_view sealed, absl::string_view context) const;

  // The KEK id as 8 hex digits, e.g. "1a2b3c4d". Safe to log and to show.
  const std::string& id() const { return id_hex_; }

  // Whether `blob` is in a sealed format (any version) rather than a
  // serialized protobuf message; see the note on version bytes above.
  static bool LooksSealed(absl::string_view blob);
  // The id of the KEK `blob` was sealed under, if it is long enough to say.
  static std::optional<std::string> SealedKeyId(absl::string_view blob);

 private:
  KeySealer(const KekBytes& kek, EVP_CIPHER* cipher, RandomSource* random);

  KekBytes kek_;
  std::array<uint8_t, kIdBytes> id_;
  std::string id_hex_;
  // AES-256-GCM, fetched once: an implicit fetch on every call costs a
  // provider lookup under a lock.
  EVP_CIPHER* cipher_;
  RandomSource* random_;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_KEY_SEALER_H_
