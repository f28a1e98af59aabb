#include "datapath/esp/transform.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/algorithms.h"
#include "datapath/esp/hmac.h"
#include "datapath/esp/wire.h"

namespace ikeless::datapath::esp {
namespace {

constexpr size_t kSaltSize = 4;     // RFC 4106 §4, RFC 7634 §2
constexpr size_t kAeadIvSize = 8;   // RFC 4106 §3.1, RFC 7634 §2
constexpr size_t kAeadTagSize = 16;  // ICV of AES-GCM-16 and ChaCha20-Poly1305
constexpr size_t kCbcBlock = 16;     // RFC 3602 §2.3

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }  // cleanses the key
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// The AAD of RFC 4106 §5 and RFC 7634 §2.1: SPI || seq (32-bit), or
// SPI || seq_hi || seq_lo with extended sequence numbers. Returns its size.
size_t BuildAad(const EspAad& a, uint8_t out[12]) {
  StoreBe32(out, a.spi);
  if (a.esn) {
    StoreBe64(out + 4, a.seq);
    return 12;
  }
  StoreBe32(out + 4, static_cast<uint32_t>(a.seq));
  return 8;
}

absl::StatusOr<CipherCtx> NewCipherCtx(const EVP_CIPHER* cipher, std::span<const uint8_t> key,
                                       bool encrypt) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return absl::InternalError("EVP_CIPHER_CTX_new failed");
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr, encrypt ? 1 : 0) != 1) {
    return absl::InternalError("EVP_CipherInit_ex failed");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);  // ESP pads itself (RFC 4303 §2.4)
  return ctx;
}

absl::Status CryptoError(const char* what) {
  return absl::InternalError(absl::StrCat("libcrypto: ", what, " failed"));
}

// AES-GCM-16 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634): 12-octet nonce =
// 4-octet salt from the SA || 8-octet explicit IV from the packet.
class AeadTransform final : public EspTransform {
 public:
  AeadTransform(std::string name, CipherCtx enc, CipherCtx dec, std::span<const uint8_t> salt)
      : name_(std::move(name)), enc_(std::move(enc)), dec_(std::move(dec)) {
    std::memcpy(salt_, salt.data(), kSaltSize);
  }
  ~AeadTransform() override { OPENSSL_cleanse(salt_, sizeof salt_); }

  const char* name() const override { return name_.c_str(); }
  size_t iv_size() const override { return kAeadIvSize; }
  size_t icv_size() const override { return kAeadTagSize; }
  size_t block_size() const override { return 4; }

  void MakeIv(uint64_t seq, std::span<uint8_t> iv) override { StoreBe64(iv.data(), seq); }

  absl::Status Seal(const EspAad& a, std::span<const uint8_t> iv, std::span<uint8_t> text,
                    std::span<uint8_t> icv) override {
    if (iv.size() != kAeadIvSize || icv.size() != kAeadTagSize || text.size() > INT_MAX) {
      return absl::InvalidArgumentError("bad AEAD buffer sizes");
    }
    uint8_t nonce[12], aad[12], scratch[16];
    MakeNonce(iv, nonce);
    int aad_len = static_cast<int>(BuildAad(a, aad));
    int len = 0;
    EVP_CIPHER_CTX* c = enc_.get();
    if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce) != 1) return CryptoError("init");
    if (EVP_EncryptUpdate(c, nullptr, &len, aad, aad_len) != 1) return CryptoError("aad");
    if (!text.empty() && EVP_EncryptUpdate(c, text.data(), &len, text.data(),
                                           static_cast<int>(text.size())) != 1) {
      return CryptoError("encrypt");
    }
    if (EVP_EncryptFinal_ex(c, scratch, &len) != 1) return CryptoError("final");
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize, icv.data()) != 1) {
      return CryptoError("tag");
    }
    return absl::OkStatus();
  }

  absl::Status Open(const EspAad& a, std::span<const uint8_t> iv, std::span<uint8_t> text,
                    std::span<const uint8_t> icv) override {
    if (iv.size() != kAeadIvSize || icv.size() != kAeadTagSize || text.size() > INT_MAX) {
      return absl::InvalidArgumentError("bad AEAD buffer sizes");
    }
    uint8_t nonce[12], aad[12], scratch[16];
    uint8_t tag[kAeadTagSize];
    std::memcpy(tag, icv.data(), kAeadTagSize);
    MakeNonce(iv, nonce);
    int aad_len = static_cast<int>(BuildAad(a, aad));
    int len = 0;
    EVP_CIPHER_CTX* c = dec_.get();
    if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce) != 1) return CryptoError("init");
    if (EVP_DecryptUpdate(c, nullptr, &len, aad, aad_len) != 1) return CryptoError("aad");
    if (!text.empty() && EVP_DecryptUpdate(c, text.data(), &len, text.data(),
                                           static_cast<int>(text.size())) != 1) {
      return CryptoError("decrypt");
    }
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, tag) != 1) {
      return CryptoError("tag");
    }
    if (EVP_DecryptFinal_ex(c, scratch, &len) <= 0) {
      return absl::DataLossError("ICV mismatch");
    }
    return absl::OkStatus();
  }

 private:
  void MakeNonce(std::span<const uint8_t> iv, uint8_t nonce[12]) const {
    std::memcpy(nonce, salt_, kSaltSize);
    std::memcpy(nonce + kSaltSize, iv.data(), kAeadIvSize);
  }

  std::string name_;
  CipherCtx enc_;
  CipherCtx dec_;
  uint8_t salt_[kSaltSize];
};

// AES-CBC (RFC 3602) or NULL (RFC 2410) encryption with an HMAC ICV over
// SPI || seq_lo || IV || ciphertext, plus seq_hi with ESN (RFC 4303
// §3.3.2.1: the high half is authenticated but not sent).
class CbcHmacTransform final : public EspTransform {
 public:
  CbcHmacTransform(std::string name, CipherCtx enc, CipherCtx dec, std::unique_ptr<Hmac> hmac,
                   size_t icv_size, RandomSource* random)
      : name_(std::move(name)),
        enc_(std::move(enc)),
        dec_(std::move(dec)),
        hmac_(std::move(hmac)),
        icv_size_(icv_size),
        random_(random) {}

  const char* name() const override { return name_.c_str(); }
  size_t iv_size() const override { return enc_ ? kCbcBlock : 0; }
  size_t icv_size() const override { return icv_size_; }
  size_t block_size() const override { return enc_ ? kCbcBlock : 4; }

  void MakeIv(uint64_t, std::span<uint8_t> iv) override {
    if (!iv.empty()) random_->Fill(iv.data(), iv.size());
  }

  absl::Status Seal(const EspAad& a, std::span<const uint8_t> iv, std::span<uint8_t> text,
                    std::span<uint8_t> icv) override {
    if (iv.size() != iv_size() || icv.size() != icv_size_ || text.size() % block_size() != 0 ||
        text.size() > INT_MAX) {
      return absl::InvalidArgumentError("bad CBC buffer sizes");
    }
    if (enc_) {
      int len = 0;
      EVP_CIPHER_CTX* c = enc_.get();
      if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1) {
        return CryptoError("init");
      }
      if (!text.empty() && EVP_EncryptUpdate(c, text.data(), &len, text.data(),
                                             static_cast<int>(text.size())) != 1) {
        return CryptoError("encrypt");
      }
      uint8_t scratch[kCbcBlock];
      if (EVP_EncryptFinal_ex(c, scratch, &len) != 1) return CryptoError("final");
    }
    if (!ComputeIcv(a, iv, text, icv)) return CryptoError("hmac");
    return absl::OkStatus();
  }

  absl::Status Open(const EspAad& a, std::span<const uint8_t> iv, std::span<uint8_t> text,
                    std::span<const uint8_t> icv) override {
    if (iv.size() != iv_size() || icv.size() != icv_size_ || text.size() > INT_MAX) {
      return absl::InvalidArgumentError("bad CBC buffer sizes");
    }
    // RFC 4303 §3.4.4.1: the ICV is checked before decryption.
    uint8_t expected[64];
    if (!ComputeIcv(a, iv, text, std::span<uint8_t>(expected, icv_size_))) {
      return CryptoError("hmac");
    }
    if (CRYPTO_memcmp(expected, icv.data(), icv_size_) != 0) {
      return absl::DataLossError("ICV mismatch");
    }
    if (text.size() % block_size() != 0) {
      return absl::InvalidArgumentError("ciphertext is not a multiple of the block size");
    }
    if (dec_) {
      int len = 0;
      EVP_CIPHER_CTX* c = dec_.get();
      if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1) {
        return CryptoError("init");
      }
      if (!text.empty() && EVP_DecryptUpdate(c, text.data(), &len, text.data(),
                                             static_cast<int>(text.size())) != 1) {
        return CryptoError("decrypt");
      }
      uint8_t scratch[kCbcBlock];
      if (EVP_DecryptFinal_ex(c, scratch, &len) != 1) return CryptoError("final");
    }
    return absl::OkStatus();
  }

 private:
  bool ComputeIcv(const EspAad& a, std::span<const uint8_t> iv, std::span<const uint8_t> text,
                  std::span<uint8_t> icv) {
    uint8_t header[8];
    StoreBe32(header, a.spi);
    StoreBe32(header + 4, static_cast<uint32_t>(a.seq));
    uint8_t seq_hi[4];
    StoreBe32(seq_hi, static_cast<uint32_t>(a.seq >> 32));
    return hmac_->Start() && hmac_->Update(header) && hmac_->Update(iv) && hmac_->Update(text) &&
           (!a.esn || hmac_->Update(seq_hi)) && hmac_->Finish(icv);
  }

  std::string name_;
  CipherCtx enc_;  // null for NULL encryption
  CipherCtx dec_;
  std::unique_ptr<Hmac> hmac_;
  size_t icv_size_;
  RandomSource* random_;
};

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const EVP_CIPHER* AesGcm(size_t bits) {
  switch (bits) {
    case 128: return EVP_aes_128_gcm();
    case 192: return EVP_aes_192_gcm();
    case 256: return EVP_aes_256_gcm();
  }
  return nullptr;
}

const EVP_CIPHER* AesCbc(size_t bits) {
  switch (bits) {
    case 128: return EVP_aes_128_cbc();
    case 192: return EVP_aes_192_cbc();
    case 256: return EVP_aes_256_cbc();
  }
  return nullptr;
}

bool Supported(v1::EncryptionAlgorithm e) {
  for (auto s : SupportedEncryption()) {
    if (s == e) return true;
  }
  return false;
}

bool Supported(v1::IntegrityAlgorithm i) {
  for (auto s : SupportedIntegrity()) {
    if (s == i) return true;
  }
  return false;
}

Hmac::Hash HashOf(v1::IntegrityAlgorithm i) {
  switch (i) {
    case v1::INTEGRITY_HMAC_SHA1_96: return Hmac::Hash::kSha1;
    case v1::INTEGRITY_HMAC_SHA2_384_192: return Hmac::Hash::kSha384;
    case v1::INTEGRITY_HMAC_SHA2_512_256: return Hmac::Hash::kSha512;
    default: return Hmac::Hash::kSha256;
  }
}

}  // namespace

std::vector<v1::EncryptionAlgorithm> SupportedEncryption() {
  return {v1::ENCRYPTION_AES_GCM_16, v1::ENCRYPTION_CHACHA20_POLY1305, v1::ENCRYPTION_AES_CBC,
          v1::ENCRYPTION_NULL};
}

std::vector<v1::IntegrityAlgorithm> SupportedIntegrity() {
  return {v1::INTEGRITY_NONE, v1::INTEGRITY_HMAC_SHA2_256_128, v1::INTEGRITY_HMAC_SHA2_384_192,
          v1::INTEGRITY_HMAC_SHA2_512_256, v1::INTEGRITY_HMAC_SHA1_96};
}

absl::StatusOr<std::unique_ptr<EspTransform>> MakeTransform(const v1::SaParameters& sa,
                                                            RandomSource* random) {
  if (sa.protocol() != v1::IPSEC_PROTOCOL_UNSPECIFIED && sa.protocol() != v1::IPSEC_PROTOCOL_ESP) {
    return absl::InvalidArgumentError(
        "protocol: the ESP engine implements ESP (RFC 4303) only, not AH");
  }
  // Defaults as policy.proto documents them.
  v1::EncryptionAlgorithm enc_id = sa.encryption() == v1::ENCRYPTION_UNSPECIFIED
                                       ? v1::ENCRYPTION_AES_GCM_16
                                       : sa.encryption();
  const EncryptionInfo* enc = FindEncryption(enc_id);
  if (enc == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("encryption: unknown algorithm ", enc_id));
  }
  if (!Supported(enc_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "encryption: ", enc->name, " is not supported by the ESP engine",
        enc->legacy ? " (legacy, RFC 8221)" : ""));
  }
  v1::IntegrityAlgorithm integ_id = sa.integrity();
  if (integ_id == v1::INTEGRITY_UNSPECIFIED) {
    integ_id = enc->aead ? v1::INTEGRITY_NONE : v1::INTEGRITY_HMAC_SHA2_256_128;
  }
  const IntegrityInfo* integ = FindIntegrity(integ_id);
  if (integ == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("integrity: unknown algorithm ", integ_id));
  }
  if (!Supported(integ_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "integrity: ", integ->name, " is not supported by the ESP engine",
        integ->legacy ? " (legacy, RFC 8221)" : ""));
  }

  const size_t key_bits = sa.encryption_key().size() * 8;
  bool key_ok = false;
  for (uint32_t b : enc->key_bits) key_ok = key_ok || b == key_bits;
  if (!key_ok) {
    std::vector<uint32_t> octets;
    for (uint32_t b : enc->key_bits) octets.push_back(b / 8);
    return absl::InvalidArgumentError(absl::StrCat(
        "encryption_key: ", sa.encryption_key().size(), " octets do not fit ", enc->name,
        " (needs ", absl::StrJoin(octets, " or "), ")"));
  }
  if (sa.salt().size() != enc->salt_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("salt: ", sa.salt().size(), " octets; ",
                                                   enc->name, " needs ", enc->salt_bytes, " (",
                                                   enc->rfc, ")"));
  }

  if (enc->aead) {
    if (integ_id != v1::INTEGRITY_NONE) {
      return absl::InvalidArgumentError(absl::StrCat(
          "integrity: ", enc->name, " is an AEAD and takes no separate integrity algorithm, got ",
          integ->name));
    }
    if (!sa.integrity_key().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("integrity_key: must be empty with ", enc->name));
    }
    const EVP_CIPHER* cipher = enc_id == v1::ENCRYPTION_AES_GCM_16 ? AesGcm(key_bits)
                                                                     : EVP_chacha20_poly1305();
    if (cipher == nullptr) return absl::InternalError("no cipher for key size");
    auto e = NewCipherCtx(cipher, Bytes(sa.encryption_key()), true);
    if (!e.ok()) return e.status();
    auto d = NewCipherCtx(cipher, Bytes(sa.encryption_key()), false);
    if (!d.ok()) return d.status();
    std::string name = absl::StrCat(enc->name, "/", key_bits);
    return std::unique_ptr<EspTransform>(
        new AeadTransform(std::move(name), std::move(*e), std::move(*d), Bytes(sa.salt())));
  }

  if (integ_id == v1::INTEGRITY_NONE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "integrity: ", enc->name,
        " needs an integrity algorithm (confidentiality-only ESP is refused, RFC 8221 §5)"));
  }
  if (sa.integrity_key().size() != integ->key_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("integrity_key: ", sa.integrity_key().size(),
                                                   " octets; ", integ->name, " needs ",
                                                   integ->key_bytes, " (", integ->rfc, ")"));
  }
  auto hmac = Hmac::Create(HashOf(integ_id), Bytes(sa.integrity_key()));
  if (!hmac.ok()) return hmac.status();
  CipherCtx e, d;
  std::string name;
  if (enc_id == v1::ENCRYPTION_AES_CBC) {
    if (random == nullptr) return absl::InvalidArgumentError("aes-cbc needs a random source");
    const EVP_CIPHER* cipher = AesCbc(key_bits);
    if (cipher == nullptr) return absl::InternalError("no cipher for key size");
    auto ee = NewCipherCtx(cipher, Bytes(sa.encryption_key()), true);
    if (!ee.ok()) return ee.status();
    auto dd = NewCipherCtx(cipher, Bytes(sa.encryption_key()), false);
    if (!dd.ok()) return dd.status();
    e = std::move(*ee);
    d = std::move(*dd);
    name = absl::StrCat(enc->name, "/", key_bits, "+", integ->name);
  } else {
    name = absl::StrCat(enc->name, "+", integ->name);
  }
  return std::unique_ptr<EspTransform>(new CbcHmacTransform(
      std::move(name), std::move(e), std::move(d), std::move(*hmac), integ->icv_bytes, random));
}

}  // namespace ikeless::datapath::esp
