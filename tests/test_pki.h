// Certificates for tests that run the controller with mutual TLS
// (mtls_test, ipsecctl_tls_test): files under TEST_TMPDIR issued by a CA
// made with controller/pki.
#ifndef IKELESS_TESTS_TEST_PKI_H_
#define IKELESS_TESTS_TEST_PKI_H_

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/tls_credentials.h"
#include "controller/pki/certificate_authority.h"
#include "gtest/gtest.h"

namespace ikeless::testing_pki {

inline std::string Dir(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

inline void Write(const std::string& path, const std::string& data) {
  std::ofstream(path) << data;
}

// Files for one identity: <dir>/<name>.crt and .key.
inline TlsFiles Issue(const pki::CertificateAuthority& ca, const std::string& ca_file,
                      pki::CertificateKind kind, const std::string& name,
                      std::vector<std::string> addresses, std::vector<std::string> dns = {},
                      std::optional<absl::Duration> validity = std::nullopt) {
  pki::CertificateRequest req;
  req.kind = kind;
  req.name = name;
  req.addresses = std::move(addresses);
  req.dns_names = std::move(dns);
  req.validity = validity;
  auto issued = ca.Issue(req);
  EXPECT_TRUE(issued.ok()) << issued.status();
  TlsFiles files;
  files.ca_file = ca_file;
  files.cert_file = Dir(name + ".crt");
  files.key_file = Dir(name + ".key");
  Write(files.cert_file, issued->certificate_pem);
  Write(files.key_file, issued->private_key_pem.pem());
  return files;
}

}  // namespace ikeless::testing_pki

#endif  // IKELESS_TESTS_TEST_PKI_H_
