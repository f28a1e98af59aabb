#ifndef IKELESS_CONTROLLER_PKI_CERTIFICATE_REQUEST_H_
#define IKELESS_CONTROLLER_PKI_CERTIFICATE_REQUEST_H_

// What an operator (or the controller, at enrollment) asks the CA for, and
// the check that turns a request into the names a certificate will carry.
// The identity model (DESIGN.md "Security"):
//   node:   CN = name, SAN URI ikeless://node/<name>, one SAN IP per node
//           address, extendedKeyUsage clientAuth, default 30 days;
//   admin:  CN = name, SAN URI ikeless://admin/<name>, clientAuth, 30 days;
//   server: CN = name, SAN DNS names and IPs (default localhost, 127.0.0.1,
//           ::1), serverAuth, default 1 year.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/pki/certificate_builder.h"

namespace ikeless::pki {

enum class CertificateKind { kNode, kAdmin, kServer };

// "node", "admin", "server".
absl::string_view CertificateKindName(CertificateKind kind);

inline constexpr absl::Duration kDefaultClientValidity = absl::Hours(24 * 30);  // node, admin
inline constexpr absl::Duration kDefaultServerValidity = absl::Hours(24 * 365);
// Bounds on SAN entries, as for a node's Hello.
inline constexpr size_t kMaxSanEntries = 64;

// What to issue. The CA validates everything here.
struct CertificateRequest {
  CertificateKind kind = CertificateKind::kNode;
  // Node, admin or controller name (names.h); the CN, and for node and
  // admin the name in the SAN URI.
  std::string name;
  // IPv4/IPv6 addresses in any spelling common/address.h accepts; the
  // certificate carries them canonical. Node: at least one; admin: none;
  // server: any. No duplicates.
  std::vector<std::string> addresses;
  // Server only. A server request with neither addresses nor DNS names gets
  // "localhost", 127.0.0.1 and ::1.
  std::vector<std::string> dns_names;
  // Unset: kDefaultClientValidity or kDefaultServerValidity. Must be
  // positive and must not outlast the CA certificate.
  std::optional<absl::Duration> validity;
  // A PEM PKCS#10 request from the subject: only its public key (EC P-256)
  // is used, after its signature is checked; its subject and extensions are
  // ignored. Empty: the CA generates the key pair and returns the private
  // key as well.
  std::string csr_pem;
};

// Checks `request` and returns the spec of its certificate without times:
// use, common name, SAN URIs, DNS names and canonical IP addresses (server
// defaults applied). INVALID_ARGUMENT naming the field ("name",
// "addresses[1]", "dns_names", ...) and the reason. Does not look at
// validity or csr_pem (the CA checks those).
absl::StatusOr<CertificateSpec> SpecForRequest(const CertificateRequest& request);

// request.validity or the default for its kind.
absl::Duration RequestedValidity(const CertificateRequest& request);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_CERTIFICATE_REQUEST_H_
