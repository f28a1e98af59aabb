#ifndef IKELESS_COMMON_ALGORITHMS_H_
#define IKELESS_COMMON_ALGORITHMS_H_

// Facts about each ESP algorithm: its operator-facing name, key and salt
// sizes, whether it is an AEAD, and its RFC 8221 standing. One table that the
// controller (validation, key generation), the CLI and the datapath share.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/policy.pb.h"

namespace ikeless {

struct EncryptionInfo {
  v1::EncryptionAlgorithm id;
  const char* name;                 // "aes-gcm-16"
  bool aead;
  std::vector<uint32_t> key_bits;   // allowed sizes, first = default
  uint32_t salt_bytes;              // RFC 4106 §8.1 / RFC 7634 §2: 4
  uint32_t iv_bytes;                // per packet, on the wire
  uint32_t block_bytes;             // padding alignment (RFC 4303 §2.4)
  uint32_t icv_bytes;               // AEAD tag; 0 for non-AEAD
  bool legacy;                      // RFC 8221 MUST NOT / SHOULD NOT
  const char* rfc;
};

struct IntegrityInfo {
  v1::IntegrityAlgorithm id;
  const char* name;                 // "hmac-sha2-256-128"
  uint32_t key_bytes;
  uint32_t icv_bytes;               // truncated output on the wire
  bool legacy;
  const char* rfc;
};

const EncryptionInfo* FindEncryption(v1::EncryptionAlgorithm id);
const EncryptionInfo* FindEncryption(absl::string_view name);
const IntegrityInfo* FindIntegrity(v1::IntegrityAlgorithm id);
const IntegrityInfo* FindIntegrity(absl::string_view name);

// "aes-gcm-16, chacha20-poly1305, ..." for error messages and --help.
std::string EncryptionNames();
std::string IntegrityNames();

}  // namespace ikeless

#endif  // IKELESS_COMMON_ALGORITHMS_H_
