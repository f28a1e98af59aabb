#include "controller/pki/csr.h"

#include <openssl/pem.h>

#include "controller/pki/key_pair.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(CsrTest, RoundTripGivesTheKeysPublicHalf) {
  auto key = GenerateEcP256Key();
  ASSERT_TRUE(key.ok());
  auto csr = MakeCsrPem(key->get(), "n1");
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_THAT(*csr, StartsWith("-----BEGIN CERTIFICATE REQUEST-----"));
  auto pub = PublicKeyFromCsrPem(*csr, "csr_pem");
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(EVP_PKEY_eq(pub->get(), key->get()), 1);
}

TEST(CsrTest, RejectsNonRequestsNamingTheField) {
  auto s = PublicKeyFromCsrPem("not a csr", "csr_pem").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("csr_pem: not a PEM certificate request"));
  s = PublicKeyFromCsrPem(
          "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
          "csr_pem")
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("csr_pem: malformed certificate request"));
}

TEST(CsrTest, RejectsRequestWhoseSignatureDoesNotVerify) {
  auto key = GenerateEcP256Key();
  ASSERT_TRUE(key.ok());
  // Sign with one key but carry another: no proof of possession.
  auto other = GenerateEcP256Key();
  ASSERT_TRUE(other.ok());
  X509ReqPtr req(X509_REQ_new());
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), other->get()), 1);
  ASSERT_GT(X509_REQ_sign(req.get(), key->get(), EVP_sha256()), 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509_REQ(bio.get(), req.get()), 1);
  auto s = PublicKeyFromCsrPem(MemoryBioContents(bio.get()), "csr_pem").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("csr_pem: signature does not verify"));
}

TEST(CsrTest, RejectsNonP256Keys) {
  EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_NE(ed, nullptr);
  X509ReqPtr req(X509_REQ_new());
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), ed.get()), 1);
  ASSERT_GT(X509_REQ_sign(req.get(), ed.get(), nullptr), 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509_REQ(bio.get(), req.get()), 1);
  auto s = PublicKeyFromCsrPem(MemoryBioContents(bio.get()), "csr_pem").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("csr_pem: key must be EC P-256"));
}

}  // namespace
}  // namespace ikeless::pki
