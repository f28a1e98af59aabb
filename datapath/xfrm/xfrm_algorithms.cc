#include "datapath/xfrm/xfrm_algorithms.h"

#include "absl/strings/str_cat.h"
#include "common/algorithms.h"

namespace ikeless::datapath::xfrm {

absl::StatusOr<KernelAlgorithms> KernelAlgorithmsFor(const v1::SaParameters& sa) {
  v1::EncryptionAlgorithm enc = sa.encryption() == v1::ENCRYPTION_UNSPECIFIED
                                    ? v1::ENCRYPTION_AES_GCM_16
                                    : sa.encryption();
  const EncryptionInfo* info = FindEncryption(enc);
  if (info == nullptr) return absl::InvalidArgumentError("encryption: unknown algorithm");
  KernelAlgorithms k;
  switch (enc) {
    case v1::ENCRYPTION_AES_GCM_16: k.aead = "rfc4106(gcm(aes))"; break;
    case v1::ENCRYPTION_CHACHA20_POLY1305: k.aead = "rfc7539esp(chacha20,poly1305)"; break;
    case v1::ENCRYPTION_AES_CBC: k.cipher = "cbc(aes)"; break;
    case v1::ENCRYPTION_NULL: k.cipher = "ecb(cipher_null)"; break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("encryption: ", info->name, " is not supported by either datapath"));
  }
  bool key_ok = false;
  for (uint32_t bits : info->key_bits) key_ok |= sa.encryption_key().size() * 8 == bits;
  if (!key_ok) {
    return absl::InvalidArgumentError(absl::StrCat("encryption_key: ", sa.encryption_key().size(),
                                                   " octets do not fit ", info->name));
  }
  if (info->aead) {
    k.aead_icv_bits = info->icv_bytes * 8;
    if (sa.salt().size() != info->salt_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("salt: ", info->name, " needs ", info->salt_bytes, " octets"));
    }
    if (sa.integrity() != v1::INTEGRITY_UNSPECIFIED && sa.integrity() != v1::INTEGRITY_NONE) {
      return absl::InvalidArgumentError("integrity: an AEAD cipher takes none");
    }
    return k;
  }
  v1::IntegrityAlgorithm integ = sa.integrity() == v1::INTEGRITY_UNSPECIFIED
                                     ? v1::INTEGRITY_HMAC_SHA2_256_128
                                     : sa.integrity();
  switch (integ) {
    case v1::INTEGRITY_HMAC_SHA2_256_128: k.auth = "hmac(sha256)"; break;
    case v1::INTEGRITY_HMAC_SHA2_384_192: k.auth = "hmac(sha384)"; break;
    case v1::INTEGRITY_HMAC_SHA2_512_256: k.auth = "hmac(sha512)"; break;
    case v1::INTEGRITY_HMAC_SHA1_96: k.auth = "hmac(sha1)"; break;
    case v1::INTEGRITY_NONE:
      return absl::InvalidArgumentError(
          absl::StrCat("integrity: ", info->name, " needs an integrity algorithm (RFC 8221 §5)"));
    default:
      return absl::InvalidArgumentError("integrity: not supported by either datapath");
  }
  const IntegrityInfo* ii = FindIntegrity(integ);
  if (sa.integrity_key().size() != ii->key_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("integrity_key: ", ii->name, " needs ", ii->key_bytes, " octets"));
  }
  k.auth_truncation_bits = ii->icv_bytes * 8;
  return k;
}

}  // namespace ikeless::datapath::xfrm
