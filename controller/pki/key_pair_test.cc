#include "controller/pki/key_pair.h"

#include <openssl/pem.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(PrivateKeyPemTest, MovingLeavesTheSourceEmptyAndWipeEmpties) {
  PrivateKeyPem a(std::string(300, 'k'));
  PrivateKeyPem b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): defined to be empty
  EXPECT_EQ(b.pem(), std::string(300, 'k'));
  PrivateKeyPem c;
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.pem().size(), 300u);
  c.Wipe();
  EXPECT_TRUE(c.empty());
}

TEST(KeyPairTest, GeneratesP256AndRoundTripsThroughPem) {
  auto key = GenerateEcP256Key();
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(CheckEcP256(key->get(), "key").ok());
  auto pem = PrivateKeyToPem(key->get());
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_THAT(pem->pem(), StartsWith("-----BEGIN PRIVATE KEY-----"));
  auto back = PrivateKeyFromPem(pem->pem(), "key");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), back->get()), 1);
}

TEST(KeyPairTest, TwoKeysDiffer) {
  auto a = GenerateEcP256Key();
  auto b = GenerateEcP256Key();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(EVP_PKEY_eq(a->get(), b->get()), 1);
}

TEST(KeyPairTest, CheckEcP256RejectsOtherKeysNamingTheField) {
  EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_NE(ed, nullptr);
  auto s = CheckEcP256(ed.get(), "csr_pem");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("csr_pem: key must be EC P-256 (got ED25519)"));

  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  ASSERT_EQ(EVP_PKEY_keygen_init(ctx.get()), 1);
  ASSERT_EQ(EVP_PKEY_CTX_set_group_name(ctx.get(), "P-384"), 1);
  EVP_PKEY* raw = nullptr;
  ASSERT_EQ(EVP_PKEY_generate(ctx.get(), &raw), 1);
  EvpPkeyPtr p384(raw);
  s = CheckEcP256(p384.get(), "ca.key");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("ca.key: key must be EC P-256 (got EC secp384r1)"));
}

TEST(KeyPairTest, ParseErrorsNameTheFieldWithoutQuotingTheKey) {
  auto garbage = PrivateKeyFromPem("hello", "ca.key");
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(garbage.status().message(), "ca.key: not a PEM private key");

  std::string broken = "-----BEGIN PRIVATE KEY-----\nTUlJQ0FB\n-----END PRIVATE KEY-----\n";
  auto malformed = PrivateKeyFromPem(broken, "ca.key");
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(malformed.status().message()),
              StartsWith("ca.key: malformed private key"));
  EXPECT_THAT(std::string(malformed.status().message()), ::testing::Not(HasSubstr("TUlJ")));
}

TEST(KeyPairTest, RefusesEncryptedKeysInsteadOfPrompting) {
  auto key = GenerateEcP256Key();
  ASSERT_TRUE(key.ok());
  BioPtr bio(BIO_new(BIO_s_mem()));
  static char pass[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key->get(), EVP_aes_256_cbc(), pass,
                                          sizeof pass - 1, nullptr, nullptr),
            1);
  auto parsed = PrivateKeyFromPem(MemoryBioContents(bio.get()), "key");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()),
              HasSubstr("encrypted private keys are not supported"));
}

}  // namespace
}  // namespace ikeless::pki
