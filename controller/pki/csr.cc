#include "controller/pki/csr.h"

#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "controller/pki/key_pair.h"

namespace ikeless::pki {

absl::StatusOr<std::string> MakeCsrPem(EVP_PKEY* key, absl::string_view common_name) {
  auto fail = [] {
    return OpenSslError(absl::StatusCode::kInternal, "certificate request: cannot build");
  };
  X509ReqPtr req(X509_REQ_new());
  if (req == nullptr || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) return fail();
  X509_NAME* name = X509_REQ_get_subject_name(req.get());  // owned by req
  if (name == nullptr ||
      X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key) != 1 ||
      X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) {
    return fail();
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) return fail();
  return MemoryBioContents(bio.get());
}

absl::StatusOr<EvpPkeyPtr> PublicKeyFromCsrPem(absl::string_view pem, absl::string_view field) {
  if (pem.find("-----BEGIN CERTIFICATE REQUEST-----") == absl::string_view::npos &&
      pem.find("-----BEGIN NEW CERTIFICATE REQUEST-----") == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": not a PEM certificate request (no BEGIN CERTIFICATE REQUEST line)"));
  }
  BioPtr bio = ReadOnlyBio(pem);
  if (bio == nullptr) return OpenSslError(absl::StatusCode::kInternal, field);
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (req == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(field, ": malformed certificate request"));
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());  // owned by req
  if (key == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(field, ": unreadable public key"));
  }
  absl::Status s = CheckEcP256(key, field);
  if (!s.ok()) return s;
  if (X509_REQ_verify(req.get(), key) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": signature does not verify with the request's own key"));
  }
  if (EVP_PKEY_up_ref(key) != 1) return OpenSslError(absl::StatusCode::kInternal, field);
  return EvpPkeyPtr(key);
}

}  // namespace ikeless::pki
