#include "controller/pki/certificate_request.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Ips(const CertificateSpec& spec) {
  std::vector<std::string> out;
  for (const IpAddress& a : spec.ip_addresses) out.push_back(a.ToString());
  return out;
}

CertificateRequest Node(std::vector<std::string> addresses) {
  CertificateRequest r;
  r.kind = CertificateKind::kNode;
  r.name = "n1";
  r.addresses = std::move(addresses);
  return r;
}

absl::Status ErrorOf(const CertificateRequest& r) { return SpecForRequest(r).status(); }

TEST(SpecForRequestTest, NodeGetsUriAndCanonicalAddresses) {
  auto spec = SpecForRequest(Node({"198.18.0.1", "fd00::0001"}));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->use, CertificateUse::kClient);
  EXPECT_EQ(spec->common_name, "n1");
  EXPECT_THAT(spec->uris, ElementsAre("ikeless://node/n1"));
  EXPECT_TRUE(spec->dns_names.empty());
  EXPECT_THAT(Ips(*spec), ElementsAre("198.18.0.1", "fd00::1"));
}

TEST(SpecForRequestTest, AdminGetsUriOnly) {
  CertificateRequest r;
  r.kind = CertificateKind::kAdmin;
  r.name = "alice";
  auto spec = SpecForRequest(r);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->use, CertificateUse::kClient);
  EXPECT_THAT(spec->uris, ElementsAre("ikeless://admin/alice"));
  EXPECT_TRUE(spec->ip_addresses.empty());
}

TEST(SpecForRequestTest, ServerDefaultsAndOperatorNames) {
  CertificateRequest r;
  r.kind = CertificateKind::kServer;
  r.name = "controller";
  auto spec = SpecForRequest(r);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->use, CertificateUse::kServer);
  EXPECT_TRUE(spec->uris.empty());
  EXPECT_THAT(spec->dns_names, ElementsAre("localhost"));
  EXPECT_THAT(Ips(*spec), ElementsAre("127.0.0.1", "::1"));

  r.dns_names = {"ikeless-controller"};
  r.addresses = {"198.18.0.10"};
  spec = SpecForRequest(r);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->dns_names, ElementsAre("ikeless-controller"));
  EXPECT_THAT(Ips(*spec), ElementsAre("198.18.0.10"));

  // Only DNS names given: no default addresses are slipped in.
  r.addresses.clear();
  spec = SpecForRequest(r);
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->ip_addresses.empty());
}

TEST(SpecForRequestTest, DefaultValidityByKind) {
  CertificateRequest r;
  r.kind = CertificateKind::kNode;
  EXPECT_EQ(RequestedValidity(r), absl::Hours(24 * 30));
  r.kind = CertificateKind::kAdmin;
  EXPECT_EQ(RequestedValidity(r), absl::Hours(24 * 30));
  r.kind = CertificateKind::kServer;
  EXPECT_EQ(RequestedValidity(r), absl::Hours(24 * 365));
  r.validity = absl::Hours(5);
  EXPECT_EQ(RequestedValidity(r), absl::Hours(5));
}

TEST(SpecForRequestTest, InvalidInputsNameTheField) {
  struct Case {
    CertificateRequest request;
    const char* message;
  };
  CertificateRequest bad_name = Node({"198.18.0.1"});
  bad_name.name = "n 1";
  CertificateRequest no_name = Node({"198.18.0.1"});
  no_name.name = "";
  CertificateRequest admin_with_address;
  admin_with_address.kind = CertificateKind::kAdmin;
  admin_with_address.name = "alice";
  admin_with_address.addresses = {"198.18.0.1"};
  CertificateRequest node_with_dns = Node({"198.18.0.1"});
  node_with_dns.dns_names = {"n1.example"};
  CertificateRequest server_bad_dns;
  server_bad_dns.kind = CertificateKind::kServer;
  server_bad_dns.name = "controller";
  server_bad_dns.dns_names = {"ok.example", "bad_name"};
  CertificateRequest server_dup_dns = server_bad_dns;
  server_dup_dns.dns_names = {"a.example", "A.example"};
  std::vector<std::string> many(65);
  for (size_t i = 0; i < many.size(); ++i) many[i] = "198.18.1." + std::to_string(i);

  for (const Case& c : std::vector<Case>{
           {bad_name, "name: 'n 1' may use only letters, digits, '.', '_' and '-'"},
           {no_name, "name: must not be empty"},
           {Node({}), "addresses: a node certificate needs at least one address of the node"},
           {Node({"198.18.0.1", "bogus"}), "addresses[1]: 'bogus' is not an IPv4 or IPv6 address"},
           {Node({"198.18.0.1/24"}), "addresses[0]: '198.18.0.1/24' is not an IPv4 or IPv6"},
           {Node({"fd00::1", "fd00::0:1"}), "addresses[1]: fd00::1 is already addresses[0]"},
           {Node(many), "addresses: at most 64 entries (got 65)"},
           {admin_with_address, "addresses: admin certificates carry no addresses"},
           {node_with_dns, "dns_names: only server certificates carry DNS names"},
           {server_bad_dns, "dns_names[1]: 'bad_name' may use only letters"},
           {server_dup_dns, "dns_names[1]: A.example is already dns_names[0]"},
       }) {
    absl::Status s = ErrorOf(c.request);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace ikeless::pki
