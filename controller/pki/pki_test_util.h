#ifndef IKELESS_CONTROLLER_PKI_PKI_TEST_UTIL_H_
#define IKELESS_CONTROLLER_PKI_PKI_TEST_UTIL_H_

// Test helpers for the PKI: a fresh temporary directory per test, and a
// reading of certificates straight from OpenSSL, independent of identity.h
// (which is itself under test), so that tests check what is actually in
// the DER.

#include <string>
#include <vector>

#include "controller/pki/openssl_util.h"

namespace ikeless::pki::test_util {

// A new empty directory under $TEST_TMPDIR (or /tmp).
std::string MakeTempDir();

// The permission bits of `path`, or -1.
int FileMode(const std::string& path);

// Parses PEM; fails the test (ADD_FAILURE) and returns null if malformed.
X509Ptr ParseCertificateOrDie(const std::string& pem);

// subjectAltName entries as "URI:...", "DNS:...", "IP:<canonical>", in
// certificate order; empty if there is none.
std::vector<std::string> SanEntries(X509* cert);

// The subject CN.
std::string SubjectCommonName(X509* cert);

// True if the certificate has the extension `nid`; `critical` receives its
// criticality.
bool HasExtension(X509* cert, int nid, bool* critical = nullptr);

// Seconds since the epoch of notBefore / notAfter.
int64_t NotBeforeUnix(X509* cert);
int64_t NotAfterUnix(X509* cert);

// Verifies `leaf` against `ca` as trust anchor at time `at_unix`, for the
// purpose `purpose` (X509_PURPOSE_SSL_CLIENT / _SSL_SERVER). Returns the
// X509_V_ERR code (X509_V_OK on success).
int VerifyChain(X509* leaf, X509* ca, int purpose, int64_t at_unix);

}  // namespace ikeless::pki::test_util

#endif  // IKELESS_CONTROLLER_PKI_PKI_TEST_UTIL_H_
