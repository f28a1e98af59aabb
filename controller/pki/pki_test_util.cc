#include "controller/pki/pki_test_util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "gtest/gtest.h"

namespace ikeless::pki::test_util {

std::string MakeTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/pki.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return pattern;
}

int FileMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_mode & 07777;
}

X509Ptr ParseCertificateOrDie(const std::string& pem) {
  auto cert = CertificateFromPem(pem, "test certificate");
  if (!cert.ok()) {
    ADD_FAILURE() << cert.status();
    return nullptr;
  }
  return *std::move(cert);
}

std::vector<std::string> SanEntries(X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    int type = 0;
    auto* value = static_cast<ASN1_STRING*>(
        GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names.get(), i), &type));
    std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      ASN1_STRING_length(value));
    if (type == GEN_URI) {
      out.push_back("URI:" + bytes);
    } else if (type == GEN_DNS) {
      out.push_back("DNS:" + bytes);
    } else if (type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = {0};
      inet_ntop(bytes.size() == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
      out.push_back(std::string("IP:") + text);
    } else {
      out.push_back("OTHER");
    }
  }
  return out;
}

std::string SubjectCommonName(X509* cert) {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

bool HasExtension(X509* cert, int nid, bool* critical) {
  int i = X509_get_ext_by_NID(cert, nid, -1);
  if (i < 0) return false;
  if (critical != nullptr) *critical = X509_EXTENSION_get_critical(X509_get_ext(cert, i)) != 0;
  return true;
}

static int64_t ToUnix(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return -1;
  return timegm(&tm);
}

int64_t NotBeforeUnix(X509* cert) { return ToUnix(X509_get0_notBefore(cert)); }
int64_t NotAfterUnix(X509* cert) { return ToUnix(X509_get0_notAfter(cert)); }

int VerifyChain(X509* leaf, X509* ca, int purpose, int64_t at_unix) {
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), static_cast<time_t>(at_unix));
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  int err = X509_STORE_CTX_get_error(ctx.get());
  ClearOpenSslErrors();
  return err;
}

}  // namespace ikeless::pki::test_util
