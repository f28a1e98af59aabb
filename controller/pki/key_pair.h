#ifndef IKELESS_CONTROLLER_PKI_KEY_PAIR_H_
#define IKELESS_CONTROLLER_PKI_KEY_PAIR_H_

// EC P-256 key pairs, the only kind the ikeless PKI issues or accepts, and
// the PEM (PKCS#8) form of their private halves. Private key text lives
// only in PrivateKeyPem, which wipes its bytes when destroyed, so that a
// key does not linger in freed heap memory.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/pki/openssl_util.h"

namespace ikeless::pki {

// A PEM-encoded private key. Move-only; the text is wiped (OPENSSL_cleanse)
// when destroyed, assigned over, or moved from. Never log or print it.
class PrivateKeyPem {
 public:
  PrivateKeyPem() = default;
  // Takes the text; wipe any other copy the caller had.
  explicit PrivateKeyPem(std::string pem) : pem_(std::move(pem)) {}
  PrivateKeyPem(PrivateKeyPem&& other) noexcept;
  PrivateKeyPem& operator=(PrivateKeyPem&& other) noexcept;
  PrivateKeyPem(const PrivateKeyPem&) = delete;
  PrivateKeyPem& operator=(const PrivateKeyPem&) = delete;
  ~PrivateKeyPem() { Wipe(); }

  const std::string& pem() const { return pem_; }
  bool empty() const { return pem_.empty(); }
  // Overwrites the whole buffer (not only the used part) and empties it.
  void Wipe();

 private:
  std::string pem_;
};

// A fresh EC P-256 key pair from OpenSSL's CSPRNG.
absl::StatusOr<EvpPkeyPtr> GenerateEcP256Key();

// "-----BEGIN PRIVATE KEY-----" (PKCS#8, unencrypted) of `key`.
absl::StatusOr<PrivateKeyPem> PrivateKeyToPem(EVP_PKEY* key);

// Parses a PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY"). Encrypted keys
// are refused instead of prompting on the terminal. Errors name `field` and
// never quote the text.
absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(absl::string_view pem, absl::string_view field);

// OK if `key` is an EC key on P-256; else INVALID_ARGUMENT naming `field`
// and what the key is.
absl::Status CheckEcP256(EVP_PKEY* key, absl::string_view field);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_KEY_PAIR_H_
