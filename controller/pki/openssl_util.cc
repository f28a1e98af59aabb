#include "controller/pki/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace ikeless::pki {

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  unsigned long first = ERR_get_error();
  ClearOpenSslErrors();
  if (first == 0) return absl::Status(code, absl::StrCat(what, ": OpenSSL error"));
  const char* reason = ERR_reason_error_string(first);
  return absl::Status(code, absl::StrCat(what, ": ", reason != nullptr ? reason : "OpenSSL error"));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

BioPtr ReadOnlyBio(absl::string_view data) {
  // BIO_new_mem_buf takes an int length; callers bound their inputs far
  // below INT_MAX (file_io.h reads at most 1 MiB), and an oversized view is
  // truncated rather than wrapped.
  int len = data.size() > INT_MAX ? INT_MAX : static_cast<int>(data.size());
  return BioPtr(BIO_new_mem_buf(data.data(), len));
}

std::string MemoryBioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return std::string();
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "certificate: cannot encode as PEM");
  }
  return MemoryBioContents(bio.get());
}

absl::StatusOr<X509Ptr> CertificateFromPem(absl::string_view pem, absl::string_view field) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a PEM certificate (no BEGIN CERTIFICATE line)"));
  }
  BioPtr bio = ReadOnlyBio(pem);
  if (bio == nullptr) return OpenSslError(absl::StatusCode::kInternal, field);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(field, ": malformed PEM certificate"));
  }
  return cert;
}

absl::StatusOr<absl::Time> Asn1TimeToTime(const ASN1_TIME* t, absl::string_view field) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(field, ": malformed time"));
  }
  return absl::FromTimeT(timegm(&tm));
}

}  // namespace ikeless::pki
