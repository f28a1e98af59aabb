#include "controller/pki/identity.h"

#include "common/clock.h"
#include "controller/pki/certificate_authority.h"
#include "controller/pki/certificate_builder.h"
#include "controller/pki/key_pair.h"
#include "controller/pki/openssl_util.h"
#include "controller/pki/pki_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

using test_util::MakeTempDir;
using test_util::ParseCertificateOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CaOptions options;
    options.clock = &clock_;
    auto ca = CertificateAuthority::Init(MakeTempDir() + "/ca", options);
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_.emplace(*std::move(ca));
  }

  IssuedCertificate Issue(CertificateKind kind, const std::string& name,
                          std::vector<std::string> addresses = {}) {
    CertificateRequest r;
    r.kind = kind;
    r.name = name;
    r.addresses = std::move(addresses);
    auto issued = ca_->Issue(r);
    EXPECT_TRUE(issued.ok()) << issued.status();
    return issued.ok() ? *std::move(issued) : IssuedCertificate{};
  }

  // A certificate with arbitrary SAN URIs, signed by a throwaway key.
  static std::string CertificateWithUris(std::vector<std::string> uris) {
    auto key = GenerateEcP256Key();
    EXPECT_TRUE(key.ok());
    Asn1StringPtr serial(ASN1_INTEGER_new());
    ASN1_INTEGER_set(serial.get(), 42);
    CertificateSpec spec;
    spec.common_name = "ikeless://node/cn-is-not-trusted";
    spec.uris = std::move(uris);
    spec.not_before = absl::FromUnixSeconds(1'800'000'000);
    spec.not_after = spec.not_before + absl::Hours(1);
    auto cert = BuildCertificate(spec, key->get(), serial.get(), nullptr, key->get());
    EXPECT_TRUE(cert.ok()) << cert.status();
    return *CertificateToPem(cert->get());
  }

  FakeClock clock_;
  std::optional<CertificateAuthority> ca_;
};

TEST_F(IdentityTest, NodeRoundTrip) {
  IssuedCertificate issued =
      Issue(CertificateKind::kNode, "n1", {"198.18.0.1", "FD00:0:0::1", "198.18.0.2"});
  auto id = ParsePeerIdentity(issued.certificate_pem);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kNode);
  EXPECT_EQ(PeerKindName(id->kind), "node");
  EXPECT_EQ(id->name, "n1");
  EXPECT_THAT(id->addresses, ElementsAre("198.18.0.1", "fd00::1", "198.18.0.2"));
  EXPECT_EQ(id->serial_hex, issued.serial_hex);
  EXPECT_EQ(id->not_before, issued.not_before);
  EXPECT_EQ(id->not_after, issued.not_after);
  EXPECT_EQ(id->common_name, "n1");
  EXPECT_THAT(id->dns_names, IsEmpty());
}

TEST_F(IdentityTest, DerGivesTheSameIdentityAsPem) {
  IssuedCertificate issued = Issue(CertificateKind::kNode, "n2", {"fd00::2"});
  X509Ptr cert = ParseCertificateOrDie(issued.certificate_pem);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  ASSERT_GT(len, 0);
  std::string der_bytes(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  auto id = ParsePeerIdentity(der_bytes);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kNode);
  EXPECT_EQ(id->name, "n2");
  EXPECT_THAT(id->addresses, ElementsAre("fd00::2"));
  EXPECT_EQ(id->serial_hex, issued.serial_hex);

  auto trailing = ParsePeerIdentity(der_bytes + "x");
  EXPECT_EQ(trailing.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IdentityTest, AdminRoundTrip) {
  IssuedCertificate issued = Issue(CertificateKind::kAdmin, "alice");
  auto id = ParsePeerIdentity(issued.certificate_pem);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kAdmin);
  EXPECT_EQ(id->name, "alice");
  EXPECT_THAT(id->addresses, IsEmpty());
  EXPECT_EQ(id->serial_hex, issued.serial_hex);
}

TEST_F(IdentityTest, ServerCertificateIsUnknownButShowsItsNames) {
  IssuedCertificate issued = Issue(CertificateKind::kServer, "controller");
  auto id = ParsePeerIdentity(issued.certificate_pem);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kUnknown);
  EXPECT_EQ(id->name, "");
  EXPECT_EQ(id->common_name, "controller");
  EXPECT_THAT(id->dns_names, ElementsAre("localhost"));
  EXPECT_THAT(id->addresses, ElementsAre("127.0.0.1", "::1"));
}

TEST_F(IdentityTest, ForeignUrisAndTheCommonNameAreNotIdentities) {
  auto id =
      ParsePeerIdentity(CertificateWithUris({"spiffe://example.org/node/n1", "ikeless://nodes/n1",
                                             "IKELESS://node/n1", "https://ikeless://node/n1"}));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kUnknown);
  EXPECT_EQ(id->name, "");
  EXPECT_EQ(id->serial_hex, "2a");

  id = ParsePeerIdentity(CertificateWithUris({}));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kUnknown);
}

TEST_F(IdentityTest, ForeignUriBesideAnIdentityIsIgnored) {
  auto id =
      ParsePeerIdentity(CertificateWithUris({"spiffe://example.org/x", "ikeless://admin/bob"}));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kAdmin);
  EXPECT_EQ(id->name, "bob");
}

TEST_F(IdentityTest, TwoIdentitiesAreRejected) {
  auto id = ParsePeerIdentity(CertificateWithUris({"ikeless://node/n1", "ikeless://admin/n1"}));
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(id.status().message()),
              HasSubstr("subjectAltName: more than one ikeless:// identity URI"));
}

TEST_F(IdentityTest, InvalidNameInUriIsRejected) {
  for (const char* uri : {"ikeless://node/", "ikeless://node/a/b", "ikeless://admin/a%20b"}) {
    auto id = ParsePeerIdentity(CertificateWithUris({uri}));
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << uri;
    EXPECT_THAT(std::string(id.status().message()), HasSubstr("subjectAltName URI name: ")) << uri;
  }
}

TEST_F(IdentityTest, ExpiredCertificateReportsNotAfterInThePast) {
  // A CA and certificate made "yesterday" by a clock set in the past.
  FakeClock past(absl::Now() - absl::Hours(24 * 40));
  CaOptions options;
  options.clock = &past;
  auto ca = CertificateAuthority::Init(MakeTempDir() + "/old", options);
  ASSERT_TRUE(ca.ok()) << ca.status();
  CertificateRequest r;
  r.kind = CertificateKind::kNode;
  r.name = "old";
  r.addresses = {"198.18.0.9"};
  r.validity = absl::Hours(24);
  auto issued = ca->Issue(r);
  ASSERT_TRUE(issued.ok()) << issued.status();
  auto id = ParsePeerIdentity(issued->certificate_pem);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->kind, PeerKind::kNode);
  EXPECT_LT(id->not_after, absl::Now());
  EXPECT_EQ(id->not_after, issued->not_after);
}

TEST_F(IdentityTest, PemChainYieldsTheFirstCertificate) {
  IssuedCertificate issued = Issue(CertificateKind::kNode, "leaf", {"198.18.0.3"});
  auto id = ParsePeerIdentity(issued.certificate_pem + ca_->certificate_pem());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->name, "leaf");
}

TEST_F(IdentityTest, GarbageIsRejectedNamingTheCertificate) {
  for (std::string bad : {std::string(), std::string("hello"), std::string("\x30\x03\x01", 3),
                          std::string("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                      "-----END CERTIFICATE-----\n")}) {
    auto id = ParsePeerIdentity(bad);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(id.status().message()), HasSubstr("certificate: "));
  }
}

TEST_F(IdentityTest, GeneratedKeyAndCsrEnrollThroughTheCa) {
  auto made = GenerateKeyAndCsr("n7");
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_THAT(made->private_key_pem.pem(), HasSubstr("-----BEGIN PRIVATE KEY-----"));
  EXPECT_THAT(made->csr_pem, HasSubstr("-----BEGIN CERTIFICATE REQUEST-----"));
  CertificateRequest r;
  r.kind = CertificateKind::kNode;
  r.name = "n7";
  r.addresses = {"198.18.0.7"};
  r.csr_pem = made->csr_pem;
  auto issued = ca_->Issue(r);
  ASSERT_TRUE(issued.ok()) << issued.status();
  X509Ptr cert = ParseCertificateOrDie(issued->certificate_pem);
  auto key = PrivateKeyFromPem(made->private_key_pem.pem(), "key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(X509_check_private_key(cert.get(), key->get()), 1);
  auto id = ParsePeerIdentity(issued->certificate_pem);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->name, "n7");
}

TEST_F(IdentityTest, GenerateKeyAndCsrValidatesTheName) {
  auto made = GenerateKeyAndCsr("no/slash");
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(made.status().message()), HasSubstr("name: "));
}

}  // namespace
}  // namespace ikeless::pki
