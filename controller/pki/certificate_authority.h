#ifndef IKELESS_CONTROLLER_PKI_CERTIFICATE_AUTHORITY_H_
#define IKELESS_CONTROLLER_PKI_CERTIFICATE_AUTHORITY_H_

// The ikeless certificate authority: one self-signed EC P-256 CA that
// issues every certificate the system trusts. It decides identity: a node
// certificate says ikeless://node/<name> and lists the node's addresses
// (the controller grants a node SAs only for pairs that include one of
// them, DESIGN.md "Security"), an admin certificate says
// ikeless://admin/<name>, a server certificate names the controller's DNS
// names and addresses. controller/pki/identity.h reads them back.
//
// On disk (a directory the operator keeps offline): ca.key, the private
// key, mode 0600, PKCS#8 PEM, unencrypted; ca.crt, the CA certificate.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "controller/pki/certificate_request.h"
#include "controller/pki/key_pair.h"
#include "controller/pki/openssl_util.h"

namespace ikeless::pki {

inline constexpr absl::Duration kDefaultCaValidity = absl::Hours(24 * 3650);
// notBefore is this far before the issuing moment, so that a peer whose
// clock is a little behind still accepts a certificate issued just now.
inline constexpr absl::Duration kBackdate = absl::Minutes(5);

// What Issue returns.
struct IssuedCertificate {
  std::string certificate_pem;
  // Set only when the CA generated the key pair (empty csr_pem).
  PrivateKeyPem private_key_pem;
  std::string serial_hex;  // serial.h
  absl::Time not_before;
  absl::Time not_after;
};

// How Init makes a new CA.
struct CaOptions {
  // The CA's subject CN: 1..64 printable ASCII characters.
  std::string common_name = "ikeless CA";
  absl::Duration validity = kDefaultCaValidity;
  Clock* clock = nullptr;          // nullptr: SystemClock
  RandomSource* random = nullptr;  // nullptr: CryptoRandom (serials)
};

// A loaded CA: its key and certificate in memory. Move-only. Issue is
// const and safe to call from several threads.
class CertificateAuthority {
 public:
  static constexpr char kKeyFile[] = "ca.key";
  static constexpr char kCertificateFile[] = "ca.crt";

  // Creates `dir` (mode 0700) if it does not exist, then a new key pair and
  // self-signed certificate as dir/ca.key (0600) and dir/ca.crt (0644).
  // ALREADY_EXISTS if either file exists: a CA is never overwritten.
  static absl::StatusOr<CertificateAuthority> Init(const std::string& dir,
                                                   const CaOptions& options = {});

  // Reads dir/ca.key and dir/ca.crt. FAILED_PRECONDITION if the key is
  // readable by group or others, the two do not belong together, or the
  // certificate is not a CA's.
  static absl::StatusOr<CertificateAuthority> Load(const std::string& dir, Clock* clock = nullptr,
                                                   RandomSource* random = nullptr);

  // Validates `request` (INVALID_ARGUMENT naming the field), then issues a
  // certificate valid from now - kBackdate to now + validity.
  // FAILED_PRECONDITION if the CA certificate has expired.
  absl::StatusOr<IssuedCertificate> Issue(const CertificateRequest& request) const;

  // The CA certificate, for distribution as the trust anchor.
  const std::string& certificate_pem() const { return certificate_pem_; }
  absl::Time not_after() const { return not_after_; }

  CertificateAuthority(CertificateAuthority&&) = default;
  CertificateAuthority& operator=(CertificateAuthority&&) = default;

 private:
  CertificateAuthority(EvpPkeyPtr key, X509Ptr certificate, std::string certificate_pem,
                       absl::Time not_after, Clock* clock, RandomSource* random);

  EvpPkeyPtr key_;
  X509Ptr certificate_;
  std::string certificate_pem_;
  absl::Time not_after_;
  Clock* clock_;
  RandomSource* random_;
};

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_CERTIFICATE_AUTHORITY_H_
