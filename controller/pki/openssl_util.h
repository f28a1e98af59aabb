#ifndef IKELESS_CONTROLLER_PKI_OPENSSL_UTIL_H_
#define IKELESS_CONTROLLER_PKI_OPENSSL_UTIL_H_

// Ownership of OpenSSL objects and translation of OpenSSL's error queue into
// absl::Status. Every OpenSSL object the PKI code creates is held by one of
// the unique_ptr aliases below from the moment it exists, so that no early
// return can leak it (EVP_PKEY_free also wipes private key material).

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ikeless::pki {

// Frees any OpenSSL object the PKI code owns; one overload per type.
struct OpenSslDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  // ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_IA5STRING, ASN1_TIME are all
  // ASN1_STRING underneath.
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
  void operator()(GENERAL_NAME* p) const { GENERAL_NAME_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpenSslDeleter>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, OpenSslDeleter>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslDeleter>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter>;

// Frees strings OpenSSL allocated for us (BN_bn2hex and friends).
struct OpenSslStringDeleter {
  void operator()(char* p) const { OPENSSL_free(p); }
};
using OpenSslStringPtr = std::unique_ptr<char, OpenSslStringDeleter>;

// Drains this thread's OpenSSL error queue into one status:
// "<what>: <reason of the first queued error>" (or "<what>: OpenSSL error"
// when the queue is empty). Always leaves the queue empty, so that a stale
// error never shows up in an unrelated message later.
absl::Status OpenSslError(absl::StatusCode code, absl::string_view what);

// Clears this thread's OpenSSL error queue (after a failure that was
// expected and handled, e.g. trying PEM before DER).
void ClearOpenSslErrors();

// A read-only memory BIO over `data` (no copy; `data` must outlive it).
BioPtr ReadOnlyBio(absl::string_view data);

// The bytes written so far to a memory BIO.
std::string MemoryBioContents(BIO* bio);

// PEM of a certificate ("-----BEGIN CERTIFICATE-----").
absl::StatusOr<std::string> CertificateToPem(X509* cert);

// The first certificate of a PEM text; the error names `field`.
absl::StatusOr<X509Ptr> CertificateFromPem(absl::string_view pem, absl::string_view field);

// An ASN1_TIME (UTCTime or GeneralizedTime) as absl::Time; the error
// names `field`.
absl::StatusOr<absl::Time> Asn1TimeToTime(const ASN1_TIME* t, absl::string_view field);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_OPENSSL_UTIL_H_
