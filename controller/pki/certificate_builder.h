#ifndef IKELESS_CONTROLLER_PKI_CERTIFICATE_BUILDER_H_
#define IKELESS_CONTROLLER_PKI_CERTIFICATE_BUILDER_H_

// Assembles and signs one X.509 v3 certificate from a spec: the OpenSSL
// mechanics only. Policy (who may get which names, how long) is decided by
// CertificateAuthority before a spec is built; nothing here validates
// names.
//
// Extensions by use:
//   kCa:     basicConstraints critical CA:TRUE, pathlen:0;
//            keyUsage critical keyCertSign, cRLSign; subjectKeyIdentifier.
//   kClient: basicConstraints critical CA:FALSE; keyUsage critical
//            digitalSignature; extendedKeyUsage clientAuth;
//            subjectKeyIdentifier; authorityKeyIdentifier.
//   kServer: as kClient with extendedKeyUsage serverAuth.
// subjectAltName (non-critical: the subject CN is non-empty) lists the
// URIs, DNS names and IP addresses of the spec, in that order; it is
// omitted when all three are empty. Signature: ECDSA with SHA-256.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/address.h"
#include "controller/pki/openssl_util.h"

namespace ikeless::pki {

enum class CertificateUse { kCa, kClient, kServer };

// The contents of one certificate.
struct CertificateSpec {
  CertificateUse use = CertificateUse::kClient;
  std::string common_name;
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<IpAddress> ip_addresses;
  absl::Time not_before;
  absl::Time not_after;
};

// Builds a certificate for `subject_key` (only its public half is used),
// numbered `serial`, issued by `issuer` and signed with `issuer_key`. A
// null `issuer` makes it self-signed: the issuer name is the subject's and
// `issuer_key` must be `subject_key`.
absl::StatusOr<X509Ptr> BuildCertificate(const CertificateSpec& spec, EVP_PKEY* subject_key,
                                         const ASN1_INTEGER* serial, X509* issuer,
                                         EVP_PKEY* issuer_key);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_CERTIFICATE_BUILDER_H_
