#ifndef IKELESS_CONTROLLER_PKI_IDENTITY_H_
#define IKELESS_CONTROLLER_PKI_IDENTITY_H_

// Who a certificate says its holder is, read the way the controller reads
// a verified TLS peer (the x509_pem_cert property of gRPC's AuthContext):
// the kind and name come only from the subjectAltName URI
// ikeless://node/<name> or ikeless://admin/<name>, the addresses only from
// SAN IP entries. The subject CN is reported for display and never
// trusted. Parsing is pure: it does not verify the chain, the signature or
// the validity window (the TLS stack has done that); not_after is reported
// so callers can decide.
//
// Also the agent's side of enrollment: a fresh key pair and a certificate
// request for it (controller/pki/csr.h), sent to the CA, which uses only
// the request's public key.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controller/pki/key_pair.h"

namespace ikeless::pki {

enum class PeerKind { kUnknown, kNode, kAdmin };

// "unknown", "node", "admin".
absl::string_view PeerKindName(PeerKind kind);

// The identity in one certificate.
struct PeerIdentity {
  // kUnknown: no ikeless://node/ or ikeless://admin/ URI (e.g. a server
  // certificate or a foreign one). Grant such a peer nothing.
  PeerKind kind = PeerKind::kUnknown;
  std::string name;                    // from the URI; empty for kUnknown
  std::vector<std::string> addresses;  // SAN IPs, canonical, in certificate order
  std::string serial_hex;              // controller/pki/serial.h
  absl::Time not_before;
  absl::Time not_after;
  // Informational only (display, logs): never authorize on these.
  std::string common_name;
  std::vector<std::string> dns_names;
};

// Parses a PEM certificate (the first one, if there are several) or a DER
// one. INVALID_ARGUMENT naming the part ("certificate", "subjectAltName",
// ...) if it is malformed, carries more than one ikeless identity URI, or
// an identity URI with an invalid name.
absl::StatusOr<PeerIdentity> ParsePeerIdentity(absl::string_view certificate);

// A fresh key pair and a request for it.
struct KeyAndCsr {
  PrivateKeyPem private_key_pem;  // PKCS#8; keep it mode 0600
  std::string csr_pem;            // "-----BEGIN CERTIFICATE REQUEST-----"
};

// EC P-256 key and a PKCS#10 request signed with it, subject CN = `name`
// (informational: the CA decides the identity). INVALID_ARGUMENT naming
// "name" if it is not a valid node or admin name.
absl::StatusOr<KeyAndCsr> GenerateKeyAndCsr(absl::string_view name);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_IDENTITY_H_
