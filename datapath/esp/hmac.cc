#include "datapath/esp/hmac.h"

#include <algorithm>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "absl/status/status.h"

namespace ikeless::datapath::esp {
namespace {

struct HashInfo {
  const char* name;
  size_t size;
};

HashInfo Info(Hmac::Hash hash) {
  switch (hash) {
    case Hmac::Hash::kSha1:
      return {"SHA1", 20};
    case Hmac::Hash::kSha256:
      return {"SHA2-256", 32};
    case Hmac::Hash::kSha384:
      return {"SHA2-384", 48};
    case Hmac::Hash::kSha512:
      return {"SHA2-512", 64};
  }
  return {"SHA2-256", 32};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Hmac>> Hmac::Create(Hash hash, std::span<const uint8_t> key) {
  HashInfo info = Info(hash);
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return absl::InternalError("libcrypto has no HMAC");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (ctx == nullptr) {
    EVP_MAC_free(mac);
    return absl::InternalError("EVP_MAC_CTX_new failed");
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(info.name), 0),
      OSSL_PARAM_construct_end()};
  // A zero-length key is legal HMAC but libcrypto wants a non-null pointer.
  static const uint8_t kEmpty[1] = {0};
  if (EVP_MAC_init(ctx, key.empty() ? kEmpty : key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return absl::InternalError("EVP_MAC_init failed");
  }
  return std::unique_ptr<Hmac>(new Hmac(mac, ctx, info.size));
}

Hmac::~Hmac() {
  EVP_MAC_CTX_free(ctx_);  // cleanses the stored key
  EVP_MAC_free(mac_);
}

bool Hmac::Start() {
  // A null key re-initialises with the key given to Create (RFC 2104 inner
  // and outer pads are kept by libcrypto).
  return EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1;
}

bool Hmac::Update(std::span<const uint8_t> data) {
  if (data.empty()) return true;
  return EVP_MAC_update(ctx_, data.data(), data.size()) == 1;
}

bool Hmac::Finish(std::span<uint8_t> out) {
  if (out.size() > digest_size_) return false;
  uint8_t full[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_MAC_final(ctx_, full, &len, sizeof full) != 1 || len != digest_size_) return false;
  std::copy(full, full + out.size(), out.begin());
  OPENSSL_cleanse(full, sizeof full);
  return true;
}

}  // namespace ikeless::datapath::esp
