#include "storage/key_sealer.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/secret.h"

namespace ikeless::storage {
namespace {

constexpr size_t kNonceOffset = KeySealer::kHeaderBytes;
constexpr size_t kCiphertextOffset = kNonceOffset + KeySealer::kNonceBytes;
// EVP lengths are ints; SA parameters are a few hundred bytes.
constexpr size_t kMaxPlaintext = INT_MAX - KeySealer::kOverhead;

// Owns one EVP_CIPHER_CTX; freeing it also wipes the expanded key.
struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// OpenSSL's reason for the last failure, and a clean error queue: a stale
// entry would be misread by the next TLS call on this thread.
absl::Status OpensslError(absl::string_view what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  char reason[256] = "unknown error";
  if (e != 0) ERR_error_string_n(e, reason, sizeof reason);
  return absl::InternalError(absl::StrCat("openssl: ", what, ": ", reason));
}

const uint8_t* Bytes(absl::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Feeds the authenticated data (header, then context) into `ctx`.
bool AddAad(EVP_CIPHER_CTX* ctx, const uint8_t* header, absl::string_view context, bool encrypt) {
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  int len = 0;
  if (update(ctx, nullptr, &len, header, KeySealer::kHeaderBytes) != 1) return false;
  return context.empty() ||
         update(ctx, nullptr, &len, Bytes(context), static_cast<int>(context.size())) == 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeySealer>> KeySealer::FromKeyFile(const std::string& path,
                                                                  bool create_if_missing,
                                                                  RandomSource* random) {
  KekBytes kek{};
  absl::Status s = LoadKekFile(path, create_if_missing, random, &kek);
  if (!s.ok()) {
    OPENSSL_cleanse(kek.data(), kek.size());
    return s;
  }
  absl::StatusOr<std::unique_ptr<KeySealer>> sealer =
      FromKey(absl::string_view(reinterpret_cast<const char*>(kek.data()), kek.size()), random);
  OPENSSL_cleanse(kek.data(), kek.size());
  return sealer;
}

absl::StatusOr<std::unique_ptr<KeySealer>> KeySealer::FromKey(absl::string_view kek,
                                                              RandomSource* random) {
  if (kek.size() != kKekBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key-encryption key must be ", kKekBytes, " bytes, not ", kek.size()));
  }
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) return OpensslError("fetch AES-256-GCM");
  KekBytes bytes;
  std::memcpy(bytes.data(), kek.data(), kKekBytes);
  std::unique_ptr<KeySealer> sealer(new KeySealer(bytes, cipher, random));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return sealer;
}

KeySealer::KeySealer(const KekBytes& kek, EVP_CIPHER* cipher, RandomSource* random)
    : kek_(kek), cipher_(cipher), random_(random) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(kek_.data(), kek_.size(), digest);
  std::memcpy(id_.data(), digest, kIdBytes);
  id_hex_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(id_.data()), id_.size()));
}

KeySealer::~KeySealer() {
  OPENSSL_cleanse(kek_.data(), kek_.size());
  EVP_CIPHER_free(cipher_);
}

bool KeySealer::LooksSealed(absl::string_view blob) {
  return !blob.empty() && static_cast<uint8_t>(blob[0]) >= 0x01 &&
         static_cast<uint8_t>(blob[0]) <= 0x07;
}

std::optional<std::string> KeySealer::SealedKeyId(absl::string_view blob) {
  if (!LooksSealed(blob) || blob.size() < kHeaderBytes) return std::nullopt;
  return absl::BytesToHexString(blob.substr(1, kIdBytes));
}

absl::StatusOr<std::string> KeySealer::Seal(absl::string_view plaintext,
                                            absl::string_view context) const {
  if (plaintext.size() > kMaxPlaintext || context.size() > INT_MAX) {
    return absl::InvalidArgumentError("too large to seal");
  }
  const int n = static_cast<int>(plaintext.size());
  std::string out(kOverhead + plaintext.size(), '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kVersion;
  std::memcpy(p + 1, id_.data(), kIdBytes);
  random_->Fill(p + kNonceOffset, kNonceBytes);
  uint8_t* ciphertext = p + kCiphertextOffset;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), cipher_, kek_.data(), p + kNonceOffset, nullptr) != 1 ||
      !AddAad(ctx.get(), p, context, /*encrypt=*/true) ||
      (n > 0 && EVP_EncryptUpdate(ctx.get(), ciphertext, &len, Bytes(plaintext), n) != 1) ||
      len != n || EVP_EncryptFinal_ex(ctx.get(), ciphertext + n, &len) != 1 || len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagBytes, ciphertext + n) != 1) {
    return OpensslError("AES-256-GCM seal");
  }
  return out;
}

absl::StatusOr<std::string> KeySealer::Open(absl::string_view sealed,
                                            absl::string_view context) const {
  if (!LooksSealed(sealed)) {
    return absl::DataLossError("data is not sealed (it has no seal format version byte)");
  }
  if (static_cast<uint8_t>(sealed[0]) != kVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("data was sealed in format version ", static_cast<int>(sealed[0]),
                     ", which this build does not know; was it written by a newer build?"));
  }
  if (sealed.size() < kOverhead) {
    return absl::DataLossError(absl::StrCat("sealed data is truncated (", sealed.size(),
                                            " bytes, at least ", kOverhead, " expected)"));
  }
  if (std::memcmp(sealed.data() + 1, id_.data(), kIdBytes) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("database was sealed with another key-encryption key (id ",
                     *SealedKeyId(sealed), "; the key-encryption key given has id ", id_hex_, ")"));
  }
  if (context.size() > INT_MAX || sealed.size() - kOverhead > kMaxPlaintext) {
    return absl::InvalidArgumentError("too large to open");
  }
  const uint8_t* p = Bytes(sealed);
  const int n = static_cast<int>(sealed.size() - kOverhead);
  // Sized once, so no reallocation leaves a copy of the plaintext behind.
  std::string out(static_cast<size_t>(n), '\0');
  auto* plaintext = reinterpret_cast<uint8_t*>(out.data());
  // The tag is passed through a copy: EVP_CTRL_AEAD_SET_TAG takes a
  // non-const pointer.
  uint8_t tag[kTagBytes];
  std::memcpy(tag, p + kCiphertextOffset + n, kTagBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), cipher_, kek_.data(), p + kNonceOffset, nullptr) != 1 ||
      !AddAad(ctx.get(), p, context, /*encrypt=*/false) ||
      (n > 0 && EVP_DecryptUpdate(ctx.get(), plaintext, &len, p + kCiphertextOffset, n) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) != 1) {
    WipeString(&out);
    return OpensslError("AES-256-GCM open");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext + n, &len) != 1) {
    // Unauthenticated plaintext must not be used or left in memory.
    WipeString(&out);
    ERR_clear_error();
    return absl::DataLossError(absl::StrCat(
        "sealed data failed authentication: it was altered, or it was sealed for another place"
        " than \"",
        context, "\" (moved from another row or column)"));
  }
  return out;
}

}  // namespace ikeless::storage
