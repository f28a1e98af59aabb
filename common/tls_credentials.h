#ifndef IKELESS_COMMON_TLS_CREDENTIALS_H_
#define IKELESS_COMMON_TLS_CREDENTIALS_H_

// Mutual TLS for every gRPC connection: the controller presents its
// certificate and requires and verifies one from every client; agents and
// ipsecctl present theirs. All certificates come from the controller's CA
// (tools/ikeless-ca). Identity is read from the verified peer certificate
// (controller/caller.h, controller/pki/identity.h), never from message
// bodies.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace ikeless {

// PEM files. All three empty means plain text (only with --insecure).
struct TlsFiles {
  std::string ca_file;    // the CA certificate that signed the peer's
  std::string cert_file;  // our certificate
  std::string key_file;   // our private key
  // The name the controller's certificate carries (DNS SAN); clients check
  // it instead of whatever address they dialled.
  std::string server_name = "ikeless-controller";

  bool empty() const { return ca_file.empty() && cert_file.empty() && key_file.empty(); }
};

// Makes every TLS context this process creates from now on speak TLS 1.3
// only (OpenSSL's system_default configuration; Debian's gRPC 1.51 has no
// API for it). Called by the two functions below; idempotent.
absl::Status RestrictToTls13();

// Reads the files; an error names the file and why. Client certificates are
// verified against ca_file and required, unless `client_certificate_optional`
// (enrollment: one RPC needs none; every service checks the caller itself).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, bool client_certificate_optional = false);

// Reads the files and sets the target-name override in `args`.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TlsFiles& files, grpc::ChannelArguments* args);

}  // namespace ikeless

#endif  // IKELESS_COMMON_TLS_CREDENTIALS_H_
