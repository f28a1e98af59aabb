#include "controller/pki/certificate_authority.h"

#include <openssl/pem.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "common/clock.h"
#include "controller/pki/csr.h"
#include "controller/pki/key_pair.h"
#include "controller/pki/pki_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

using test_util::FileMode;
using test_util::HasExtension;
using test_util::MakeTempDir;
using test_util::NotAfterUnix;
using test_util::NotBeforeUnix;
using test_util::ParseCertificateOrDie;
using test_util::SanEntries;
using test_util::SubjectCommonName;
using test_util::VerifyChain;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kDay = 24 * 3600;

std::string ReadFileForTest(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CertificateAuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir() + "/ca";
    CaOptions options;
    options.clock = &clock_;
    auto ca = CertificateAuthority::Init(dir_, options);
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_.emplace(*std::move(ca));
    ca_cert_ = ParseCertificateOrDie(ca_->certificate_pem());
  }

  IssuedCertificate IssueOk(const CertificateRequest& r) {
    auto issued = ca_->Issue(r);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? *std::move(issued) : IssuedCertificate{};
  }

  int64_t Now() { return absl::ToUnixSeconds(clock_.Now()); }

  FakeClock clock_;
  std::string dir_;
  std::optional<CertificateAuthority> ca_;
  X509Ptr ca_cert_;
};

CertificateRequest NodeRequest(const std::string& name = "n1") {
  CertificateRequest r;
  r.kind = CertificateKind::kNode;
  r.name = name;
  r.addresses = {"198.18.0.1", "fd00::0001"};
  return r;
}

TEST_F(CertificateAuthorityTest, InitWritesPrivateKeyAndSelfSignedCaCertificate) {
  EXPECT_EQ(FileMode(dir_), 0700);
  EXPECT_EQ(FileMode(dir_ + "/ca.key"), 0600);
  EXPECT_EQ(FileMode(dir_ + "/ca.crt"), 0644);

  X509* ca = ca_cert_.get();
  EXPECT_EQ(SubjectCommonName(ca), "ikeless CA");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(ca), X509_get_issuer_name(ca)), 0);
  EXPECT_EQ(X509_verify(ca, X509_get0_pubkey(ca)), 1);
  EXPECT_TRUE(CheckEcP256(X509_get0_pubkey(ca), "ca").ok());
  EXPECT_EQ(X509_get_signature_nid(ca), NID_ecdsa_with_SHA256);
  bool critical = false;
  ASSERT_TRUE(HasExtension(ca, NID_basic_constraints, &critical));
  EXPECT_TRUE(critical);
  EXPECT_EQ(X509_check_ca(ca), 1);
  ASSERT_TRUE(HasExtension(ca, NID_key_usage, &critical));
  EXPECT_TRUE(critical);
  EXPECT_EQ(X509_get_key_usage(ca), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(NotBeforeUnix(ca), Now() - 300);
  EXPECT_EQ(NotAfterUnix(ca), Now() + 3650 * kDay);
  EXPECT_EQ(ca_->not_after(), absl::FromUnixSeconds(Now() + 3650 * kDay));
}

TEST_F(CertificateAuthorityTest, InitRefusesToOverwrite) {
  auto key_before = ReadFileForTest(dir_ + "/ca.key");
  auto again = CertificateAuthority::Init(dir_);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("refusing to overwrite a CA"));
  EXPECT_EQ(ReadFileForTest(dir_ + "/ca.key"), key_before);

  // Either file alone is enough to refuse.
  std::string other = MakeTempDir();
  ASSERT_EQ(rename((dir_ + "/ca.key").c_str(), (other + "/ca.key").c_str()), 0);
  EXPECT_EQ(CertificateAuthority::Init(dir_).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(CertificateAuthorityTest, InitValidatesOptions) {
  CaOptions options;
  options.common_name = "";
  auto s = CertificateAuthority::Init(MakeTempDir() + "/x", options).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("common_name: "));
  options.common_name = "ok";
  options.validity = absl::ZeroDuration();
  s = CertificateAuthority::Init(MakeTempDir() + "/x", options).status();
  EXPECT_THAT(std::string(s.message()), HasSubstr("validity: must be positive"));
}

TEST_F(CertificateAuthorityTest, LoadGivesTheSameCaAndIssuesVerifiableCertificates) {
  auto loaded = CertificateAuthority::Load(dir_, &clock_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->certificate_pem(), ca_->certificate_pem());
  EXPECT_EQ(loaded->not_after(), ca_->not_after());
  auto issued = loaded->Issue(NodeRequest());
  ASSERT_TRUE(issued.ok()) << issued.status();
  X509Ptr cert = ParseCertificateOrDie(issued->certificate_pem);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_cert_.get())), 1);
}

TEST_F(CertificateAuthorityTest, LoadRefusesAKeyOthersCanRead) {
  ASSERT_EQ(chmod((dir_ + "/ca.key").c_str(), 0644), 0);
  auto s = CertificateAuthority::Load(dir_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("ca.key: mode 0644 lets other users read the CA key"));
}

TEST_F(CertificateAuthorityTest, LoadRefusesMissingOrMismatchedFiles) {
  auto missing = CertificateAuthority::Load(MakeTempDir());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("ca.key: cannot read"));

  std::string other = MakeTempDir() + "/other";
  ASSERT_TRUE(CertificateAuthority::Init(other).ok());
  ASSERT_EQ(rename((other + "/ca.crt").c_str(), (dir_ + "/ca.crt").c_str()), 0);
  auto mismatched = CertificateAuthority::Load(dir_);
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(mismatched.status().message()), HasSubstr("does not belong to"));
}

TEST_F(CertificateAuthorityTest, NodeCertificate) {
  IssuedCertificate issued = IssueOk(NodeRequest());
  X509Ptr cert = ParseCertificateOrDie(issued.certificate_pem);
  ASSERT_NE(cert, nullptr);
  X509* c = cert.get();
  EXPECT_EQ(X509_verify(c, X509_get0_pubkey(ca_cert_.get())), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(ca_cert_.get())), 0);
  EXPECT_EQ(SubjectCommonName(c), "n1");
  EXPECT_THAT(SanEntries(c), ElementsAre("URI:ikeless://node/n1", "IP:198.18.0.1", "IP:fd00::1"));
  bool critical = false;
  ASSERT_TRUE(HasExtension(c, NID_basic_constraints, &critical));
  EXPECT_TRUE(critical);
  EXPECT_EQ(X509_check_ca(c), 0);
  ASSERT_TRUE(HasExtension(c, NID_key_usage, &critical));
  EXPECT_TRUE(critical);
  EXPECT_EQ(X509_get_key_usage(c), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(c), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_TRUE(HasExtension(c, NID_subject_key_identifier));
  EXPECT_TRUE(HasExtension(c, NID_authority_key_identifier));
  EXPECT_EQ(NotBeforeUnix(c), Now() - 300);
  EXPECT_EQ(NotAfterUnix(c), Now() + 30 * kDay);
  EXPECT_EQ(issued.not_after, absl::FromUnixSeconds(Now() + 30 * kDay));
  EXPECT_EQ(VerifyChain(c, ca_cert_.get(), X509_PURPOSE_SSL_CLIENT, Now()), X509_V_OK);
  EXPECT_NE(VerifyChain(c, ca_cert_.get(), X509_PURPOSE_SSL_SERVER, Now()), X509_V_OK);
  EXPECT_EQ(VerifyChain(c, ca_cert_.get(), X509_PURPOSE_SSL_CLIENT, Now() + 31 * kDay),
            X509_V_ERR_CERT_HAS_EXPIRED);

  // The generated private key belongs to the certificate.
  ASSERT_FALSE(issued.private_key_pem.empty());
  auto key = PrivateKeyFromPem(issued.private_key_pem.pem(), "key");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(X509_check_private_key(c, key->get()), 1);
  EXPECT_TRUE(CheckEcP256(key->get(), "key").ok());
}

TEST_F(CertificateAuthorityTest, AdminCertificate) {
  CertificateRequest r;
  r.kind = CertificateKind::kAdmin;
  r.name = "alice";
  r.validity = absl::Hours(24 * 7);
  IssuedCertificate issued = IssueOk(r);
  X509Ptr cert = ParseCertificateOrDie(issued.certificate_pem);
  X509* c = cert.get();
  EXPECT_EQ(X509_verify(c, X509_get0_pubkey(ca_cert_.get())), 1);
  EXPECT_EQ(SubjectCommonName(c), "alice");
  EXPECT_THAT(SanEntries(c), ElementsAre("URI:ikeless://admin/alice"));
  EXPECT_EQ(X509_get_extended_key_usage(c), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(NotAfterUnix(c), Now() + 7 * kDay);
  EXPECT_EQ(VerifyChain(c, ca_cert_.get(), X509_PURPOSE_SSL_CLIENT, Now()), X509_V_OK);
}

TEST_F(CertificateAuthorityTest, ServerCertificate) {
  CertificateRequest r;
  r.kind = CertificateKind::kServer;
  r.name = "controller";
  IssuedCertificate issued = IssueOk(r);
  X509Ptr cert = ParseCertificateOrDie(issued.certificate_pem);
  X509* c = cert.get();
  EXPECT_EQ(X509_verify(c, X509_get0_pubkey(ca_cert_.get())), 1);
  EXPECT_EQ(SubjectCommonName(c), "controller");
  EXPECT_THAT(SanEntries(c), ElementsAre("DNS:localhost", "IP:127.0.0.1", "IP:::1"));
  EXPECT_EQ(X509_get_extended_key_usage(c), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(NotAfterUnix(c), Now() + 365 * kDay);
  EXPECT_EQ(VerifyChain(c, ca_cert_.get(), X509_PURPOSE_SSL_SERVER, Now()), X509_V_OK);
  EXPECT_NE(VerifyChain(c, ca_cert_.get(), X509_PURPOSE_SSL_CLIENT, Now()), X509_V_OK);
  EXPECT_EQ(X509_check_host(c, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(c, "::1", 0), 1);

  r.dns_names = {"ikeless-controller", "ctl.example"};
  r.addresses = {"198.18.0.10"};
  issued = IssueOk(r);
  cert = ParseCertificateOrDie(issued.certificate_pem);
  EXPECT_THAT(SanEntries(cert.get()),
              ElementsAre("DNS:ikeless-controller", "DNS:ctl.example", "IP:198.18.0.10"));
}

TEST_F(CertificateAuthorityTest, SerialsAreUniqueAndMatchTheCertificate) {
  std::set<std::string> serials;
  for (int i = 0; i < 100; ++i) {
    IssuedCertificate issued = IssueOk(NodeRequest());
    X509Ptr cert = ParseCertificateOrDie(issued.certificate_pem);
    BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
    EXPECT_FALSE(BN_is_negative(bn.get()));
    OpenSslStringPtr hex(BN_bn2hex(bn.get()));
    EXPECT_EQ(issued.serial_hex, absl::AsciiStrToLower(hex.get()));
    serials.insert(issued.serial_hex);
  }
  EXPECT_EQ(serials.size(), 100u);
}

TEST_F(CertificateAuthorityTest, CsrKeyIsUsedAndItsIdentityIgnored) {
  auto key = GenerateEcP256Key();
  ASSERT_TRUE(key.ok());
  // A request that asks for a different identity: CN "root" and an admin URI.
  X509ReqPtr req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("root"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key->get());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
  sk_X509_EXTENSION_push(exts, X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name,
                                                    "URI:ikeless://admin/root,IP:10.0.0.1"));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  ASSERT_GT(X509_REQ_sign(req.get(), key->get(), EVP_sha256()), 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509_REQ(bio.get(), req.get()), 1);

  CertificateRequest r = NodeRequest();
  r.csr_pem = MemoryBioContents(bio.get());
  IssuedCertificate issued = IssueOk(r);
  EXPECT_TRUE(issued.private_key_pem.empty());
  X509Ptr cert = ParseCertificateOrDie(issued.certificate_pem);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key->get()), 1);
  EXPECT_EQ(SubjectCommonName(cert.get()), "n1");
  EXPECT_THAT(SanEntries(cert.get()),
              ElementsAre("URI:ikeless://node/n1", "IP:198.18.0.1", "IP:fd00::1"));
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_cert_.get())), 1);
}

TEST_F(CertificateAuthorityTest, BadCsrIsRejectedNamingTheField) {
  CertificateRequest r = NodeRequest();
  r.csr_pem = "garbage";
  auto s = ca_->Issue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("csr_pem: not a PEM certificate request"));
}

TEST_F(CertificateAuthorityTest, InvalidRequestsNameTheField) {
  CertificateRequest r = NodeRequest("bad name");
  auto s = ca_->Issue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("name: 'bad name' may use only"));

  r = NodeRequest();
  r.addresses.push_back("300.1.1.1");
  s = ca_->Issue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("addresses[2]: '300.1.1.1' is not an IPv4 or IPv6 address"));

  r = NodeRequest();
  r.validity = absl::ZeroDuration();
  EXPECT_THAT(std::string(ca_->Issue(r).status().message()),
              HasSubstr("validity: must be positive"));
}

TEST_F(CertificateAuthorityTest, ValidityMayNotOutlastTheCa) {
  CertificateRequest r = NodeRequest();
  r.validity = absl::Hours(24 * 3651);
  auto s = ca_->Issue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("after the CA certificate expires"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("validity: "));
}

TEST_F(CertificateAuthorityTest, ExpiredCaIssuesNothing) {
  clock_.Advance(absl::Hours(24 * 3650) + absl::Seconds(1));
  auto s = ca_->Issue(NodeRequest()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("the CA certificate expired at"));
}

}  // namespace
}  // namespace ikeless::pki
