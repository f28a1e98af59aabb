#include "common/tls_credentials.h"

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/ssl.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/secret.h"

namespace ikeless {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": no file given"));
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string pem = ss.str();
  if (pem.find("-----BEGIN") == std::string::npos) {
    WipeString(&pem);
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", path, " is not a PEM file"));
  }
  return pem;
}

// Applied to every SSL_CTX at creation (OpenSSL's "system_default"). gRPC
// then sets its minimum to TLS 1.2, but "-ALL, TLSv1.3" switches TLS 1.2 off
// outright. Loading this replaces the distribution's system_default section.
constexpr char kTls13Only[] = R"(
ikeless = ikeless_modules
[ikeless_modules]
ssl_conf = ikeless_ssl
[ikeless_ssl]
system_default = ikeless_tls13
[ikeless_tls13]
Protocol = -ALL, TLSv1.3
)";

}  // namespace

absl::Status RestrictToTls13() {
  static const absl::Status* status = [] {
    // Load the system configuration first, so that it cannot replace ours
    // later, and make sure the "ssl_conf" module is known.
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
      return new absl::Status(absl::InternalError("tls: cannot initialise OpenSSL"));
    }
    OPENSSL_load_builtin_modules();
    CONF* conf = NCONF_new(nullptr);
    BIO* bio = BIO_new_mem_buf(kTls13Only, -1);
    long error_line = 0;
    bool ok = conf != nullptr && bio != nullptr && NCONF_load_bio(conf, bio, &error_line) > 0 &&
              CONF_modules_load(conf, "ikeless", 0) > 0;
    BIO_free(bio);
    NCONF_free(conf);
    return new absl::Status(ok ? absl::OkStatus()
                               : absl::InternalError("tls: cannot restrict TLS to version 1.3"));
  }();
  return *status;
}

namespace {

// The three PEM files of either side; the key is wiped when dropped.
struct Pems {
  std::string ca, cert, key;
  ~Pems() { WipeString(&key); }
};

absl::StatusOr<std::unique_ptr<Pems>> ReadPems(const TlsFiles& files) {
  if (absl::Status s = RestrictToTls13(); !s.ok()) return s;
  auto pems = std::make_unique<Pems>();
  for (auto [path, what, out] : {std::tuple{&files.ca_file, "tls CA certificate", &pems->ca},
                                 std::tuple{&files.cert_file, "tls certificate", &pems->cert},
                                 std::tuple{&files.key_file, "tls private key", &pems->key}}) {
    auto pem = ReadPem(*path, what);
    if (!pem.ok()) return pem.status();
    *out = std::move(*pem);
  }
  return pems;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, bool client_certificate_optional) {
  auto pems = ReadPems(files);
  if (!pems.ok()) return pems.status();
  grpc::SslServerCredentialsOptions o(
      client_certificate_optional ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
                                  : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  o.pem_root_certs = (*pems)->ca;
  o.pem_key_cert_pairs.push_back({(*pems)->key, (*pems)->cert});
  auto creds = grpc::SslServerCredentials(o);
  WipeString(&o.pem_key_cert_pairs[0].private_key);
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files, grpc::ChannelArguments* args) {
  auto pems = ReadPems(files);
  if (!pems.ok()) return pems.status();
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = (*pems)->ca;
  o.pem_private_key = (*pems)->key;
  o.pem_cert_chain = (*pems)->cert;
  auto creds = grpc::SslCredentials(o);
  WipeString(&o.pem_private_key);
  if (!files.server_name.empty()) args->SetSslTargetNameOverride(files.server_name);
  return creds;
}

}  // namespace ikeless
