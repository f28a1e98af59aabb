#include "controller/caller.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "controller/pki/identity.h"

namespace ikeless::controller {

absl::StatusOr<Caller> CallerOf(const grpc::AuthContext* context, bool tls) {
  Caller caller;
  if (!tls) return caller;  // anonymous
  if (context == nullptr) return absl::UnauthenticatedError("no TLS peer");
  auto pem = context->FindPropertyValues("x509_pem_cert");
  if (pem.empty()) return absl::UnauthenticatedError("no client certificate");
  auto identity = pki::ParsePeerIdentity(absl::string_view(pem.front().data(), pem.front().size()));
  if (!identity.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate: ", identity.status().message()));
  }
  switch (identity->kind) {
    case pki::PeerKind::kNode: caller.kind = Caller::Kind::kNode; break;
    case pki::PeerKind::kAdmin: caller.kind = Caller::Kind::kAdmin; break;
    case pki::PeerKind::kUnknown: caller.kind = Caller::Kind::kUnknown; break;
  }
  caller.name = identity->name;
  caller.addresses = identity->addresses;
  caller.serial = identity->serial_hex;
  caller.not_after = identity->not_after;
  return caller;
}

}  // namespace ikeless::controller
