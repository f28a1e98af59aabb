#include "controller/pki/key_pair.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "absl/strings/str_cat.h"

namespace ikeless::pki {
namespace {

// Refuses passphrases: without this, OpenSSL would prompt on the terminal
// for an encrypted key.
int NoPassphrase(char*, int, int, void*) { return 0; }

}  // namespace

PrivateKeyPem::PrivateKeyPem(PrivateKeyPem&& other) noexcept : pem_(std::move(other.pem_)) {
  other.Wipe();
}

PrivateKeyPem& PrivateKeyPem::operator=(PrivateKeyPem&& other) noexcept {
  if (this != &other) {
    Wipe();
    pem_ = std::move(other.pem_);
    other.Wipe();
  }
  return *this;
}

void PrivateKeyPem::Wipe() {
  // A moved-from short string keeps its old bytes in the inline buffer past
  // size(); growing to capacity() makes every byte addressable first.
  pem_.resize(pem_.capacity());
  OPENSSL_cleanse(pem_.data(), pem_.size());
  pem_.clear();
}

absl::StatusOr<EvpPkeyPtr> GenerateEcP256Key() {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "key: cannot set up EC P-256 generation");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "key: EC P-256 generation failed");
  }
  return EvpPkeyPtr(raw);
}

absl::StatusOr<PrivateKeyPem> PrivateKeyToPem(EVP_PKEY* key) {
  // The memory BIO frees its buffer with OPENSSL_clear_free.
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "key: cannot encode as PEM");
  }
  return PrivateKeyPem(MemoryBioContents(bio.get()));
}

absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(absl::string_view pem, absl::string_view field) {
  if (pem.find("-----BEGIN") == absl::string_view::npos ||
      pem.find("PRIVATE KEY-----") == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a PEM private key"));
  }
  if (pem.find("ENCRYPTED") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": encrypted private keys are not supported"));
  }
  BioPtr bio = ReadOnlyBio(pem);
  if (bio == nullptr) return OpenSslError(absl::StatusCode::kInternal, field);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(field, ": malformed private key"));
  }
  return key;
}

absl::Status CheckEcP256(EVP_PKEY* key, absl::string_view field) {
  if (!EVP_PKEY_is_a(key, "EC")) {
    const char* type = EVP_PKEY_get0_type_name(key);
    return absl::InvalidArgumentError(absl::StrCat(field, ": key must be EC P-256 (got ",
                                                   type != nullptr ? type : "unknown", ")"));
  }
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": key must be EC P-256 (curve unknown)"));
  }
  absl::string_view name(group, len);
  if (name != "prime256v1" && name != "P-256") {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": key must be EC P-256 (got EC ", name, ")"));
  }
  return absl::OkStatus();
}

}  // namespace ikeless::pki
