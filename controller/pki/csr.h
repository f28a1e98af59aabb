#ifndef IKELESS_CONTROLLER_PKI_CSR_H_
#define IKELESS_CONTROLLER_PKI_CSR_H_

// Certificate signing requests (PKCS#10), as far as ikeless uses them: a
// subject proves it holds a private key by signing a request with it, and
// the CA takes only the public key from the request. Whatever subject or
// extensions the request asks for are ignored: the CA decides identity.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/pki/openssl_util.h"

namespace ikeless::pki {

// "-----BEGIN CERTIFICATE REQUEST-----" for `key` (signed with it, ECDSA
// with SHA-256), subject CN = `common_name`. The caller validates the name.
absl::StatusOr<std::string> MakeCsrPem(EVP_PKEY* key, absl::string_view common_name);

// The public key of a PEM request, after checking the request's signature
// (proof of possession) and that the key is EC P-256. INVALID_ARGUMENT
// naming `field` otherwise.
absl::StatusOr<EvpPkeyPtr> PublicKeyFromCsrPem(absl::string_view pem, absl::string_view field);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_CSR_H_
