#include "common/tls_credentials.h"

#include <fstream>
#include <sstream>

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

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, bool client_certificate_optional) {
  auto ca = ReadPem(files.ca_file, "tls CA certificate");
  if (!ca.ok()) return ca.status();
  auto cert = ReadPem(files.cert_file, "tls certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(files.key_file, "tls private key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions o(
      client_certificate_optional ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
                                  : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  o.pem_root_certs = *ca;
  o.pem_key_cert_pairs.push_back({*key, *cert});
  auto creds = grpc::SslServerCredentials(o);
  WipeString(&*key);
  WipeString(&o.pem_key_cert_pairs[0].private_key);
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files, grpc::ChannelArguments* args) {
  auto ca = ReadPem(files.ca_file, "tls CA certificate");
  if (!ca.ok()) return ca.status();
  auto cert = ReadPem(files.cert_file, "tls certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(files.key_file, "tls private key");
  if (!key.ok()) return key.status();
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = *ca;
  o.pem_private_key = *key;
  o.pem_cert_chain = *cert;
  auto creds = grpc::SslCredentials(o);
  WipeString(&*key);
  WipeString(&o.pem_private_key);
  if (!files.server_name.empty()) args->SetSslTargetNameOverride(files.server_name);
  return creds;
}

}  // namespace ikeless
