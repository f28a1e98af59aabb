#include "datapath/xfrm/xfrm_algorithms.h"

#include "gtest/gtest.h"

namespace ikeless::datapath::xfrm {
namespace {

v1::SaParameters Sa(v1::EncryptionAlgorithm e, size_t key, size_t salt,
                    v1::IntegrityAlgorithm i = v1::INTEGRITY_UNSPECIFIED, size_t ikey = 0) {
  v1::SaParameters sa;
  sa.set_encryption(e);
  sa.set_encryption_key(std::string(key, 'k'));
  sa.set_salt(std::string(salt, 's'));
  sa.set_integrity(i);
  sa.set_integrity_key(std::string(ikey, 'i'));
  return sa;
}

TEST(XfrmAlgorithms, AeadNamesAndIcv) {
  auto gcm = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_GCM_16, 32, 4));
  ASSERT_TRUE(gcm.ok()) << gcm.status();
  EXPECT_EQ(gcm->aead, "rfc4106(gcm(aes))");
  EXPECT_EQ(gcm->aead_icv_bits, 128u);
  EXPECT_TRUE(gcm->cipher.empty());
  auto chacha = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_CHACHA20_POLY1305, 32, 4));
  ASSERT_TRUE(chacha.ok()) << chacha.status();
  EXPECT_EQ(chacha->aead, "rfc7539esp(chacha20,poly1305)");
  // Unspecified means AES-GCM-16 (policy.proto).
  auto dflt = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_UNSPECIFIED, 16, 4));
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->aead, "rfc4106(gcm(aes))");
}

TEST(XfrmAlgorithms, CipherWithTruncatedHmac) {
  struct Case {
    v1::IntegrityAlgorithm id;
    size_t key;
    const char* name;
    uint32_t trunc;
  };
  for (const Case& c : {Case{v1::INTEGRITY_HMAC_SHA2_256_128, 32, "hmac(sha256)", 128},
                        Case{v1::INTEGRITY_HMAC_SHA2_384_192, 48, "hmac(sha384)", 192},
                        Case{v1::INTEGRITY_HMAC_SHA2_512_256, 64, "hmac(sha512)", 256},
                        Case{v1::INTEGRITY_HMAC_SHA1_96, 20, "hmac(sha1)", 96}}) {
    auto k = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_CBC, 16, 0, c.id, c.key));
    ASSERT_TRUE(k.ok()) << c.name << ": " << k.status();
    EXPECT_EQ(k->cipher, "cbc(aes)");
    EXPECT_EQ(k->auth, c.name);
    EXPECT_EQ(k->auth_truncation_bits, c.trunc);
  }
  auto null = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_NULL, 0, 0, v1::INTEGRITY_HMAC_SHA1_96, 20));
  ASSERT_TRUE(null.ok()) << null.status();
  EXPECT_EQ(null->cipher, "ecb(cipher_null)");
}

TEST(XfrmAlgorithms, ErrorsNameTheField) {
  auto bad_key = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_GCM_16, 15, 4));
  EXPECT_EQ(bad_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_key.status().message().find("encryption_key"), std::string::npos);
  auto bad_salt = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_GCM_16, 16, 3));
  EXPECT_NE(bad_salt.status().message().find("salt"), std::string::npos);
  auto aead_with_hmac =
      KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_GCM_16, 16, 4, v1::INTEGRITY_HMAC_SHA1_96, 20));
  EXPECT_NE(aead_with_hmac.status().message().find("integrity"), std::string::npos);
  auto cbc_alone = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_CBC, 16, 0, v1::INTEGRITY_NONE));
  EXPECT_NE(cbc_alone.status().message().find("integrity"), std::string::npos);
  auto short_ikey =
      KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_CBC, 16, 0, v1::INTEGRITY_HMAC_SHA2_256_128, 31));
  EXPECT_NE(short_ikey.status().message().find("integrity_key"), std::string::npos);
  auto des = KernelAlgorithmsFor(Sa(v1::ENCRYPTION_DES_CBC, 8, 0, v1::INTEGRITY_HMAC_SHA1_96, 20));
  EXPECT_EQ(des.status().code(), absl::StatusCode::kInvalidArgument);
  auto md5 =
      KernelAlgorithmsFor(Sa(v1::ENCRYPTION_AES_CBC, 16, 0, v1::INTEGRITY_HMAC_MD5_96, 16));
  EXPECT_EQ(md5.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ikeless::datapath::xfrm
