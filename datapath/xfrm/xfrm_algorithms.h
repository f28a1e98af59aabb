#ifndef IKELESS_DATAPATH_XFRM_XFRM_ALGORITHMS_H_
#define IKELESS_DATAPATH_XFRM_XFRM_ALGORITHMS_H_

// How each ESP algorithm of the in-process engine is named to the Linux
// crypto API in an XFRM state (the names `ip xfrm state` prints), and how the
// SA's key material is laid out for it. The same set as the engine
// (datapath/esp/transform.h), so either backend accepts what the other does.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "proto/policy.pb.h"

namespace ikeless::datapath::xfrm {

struct KernelAlgorithms {
  // AEAD (XFRMA_ALG_AEAD): "rfc4106(gcm(aes))" and the like; the kernel key
  // is the cipher key followed by the 4-octet salt (RFC 4106 §8.1,
  // RFC 7634 §2). Empty for a cipher + HMAC pair.
  std::string aead;
  uint32_t aead_icv_bits = 0;
  // Cipher (XFRMA_ALG_CRYPT) and truncated HMAC (XFRMA_ALG_AUTH_TRUNC).
  std::string cipher;
  std::string auth;
  uint32_t auth_truncation_bits = 0;
};

// INVALID_ARGUMENT naming the field for what neither backend does (DES,
// 3DES, HMAC-MD5: RFC 8221 says MUST NOT / SHOULD NOT, and the engine does
// not implement them either) or for key sizes that do not fit.
absl::StatusOr<KernelAlgorithms> KernelAlgorithmsFor(const v1::SaParameters& sa);

}  // namespace ikeless::datapath::xfrm

#endif  // IKELESS_DATAPATH_XFRM_XFRM_ALGORITHMS_H_
