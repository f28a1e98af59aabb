#include "controller/authorization.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "controller/revocation_list.h"

namespace ikeless::controller {

absl::Status CheckStanding(const Caller& caller, const RevocationList* revocations,
                           absl::Time now) {
  if (caller.kind == Caller::Kind::kAnonymous) return absl::OkStatus();
  if (caller.not_after <= now) {
    return absl::UnauthenticatedError(absl::StrCat("certificate of '", caller.name,
                                                   "' expired at ", absl::FormatTime(caller.not_after)));
  }
  if (revocations != nullptr &&
      (revocations->IsRevoked(caller.serial) || revocations->IsNameRevoked(caller.name))) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate serial ", caller.serial, " of '", caller.name, "' is revoked"));
  }
  return absl::OkStatus();
}

absl::Status AuthorizeAdmin(const Caller& caller) {
  switch (caller.kind) {
    case Caller::Kind::kAnonymous:
    case Caller::Kind::kAdmin:
      return absl::OkStatus();
    case Caller::Kind::kNode:
      return absl::PermissionDeniedError(absl::StrCat(
          "node certificate '", caller.name, "' may not use PolicyService; use an admin certificate"));
    case Caller::Kind::kUnknown:
      break;
  }
  return absl::PermissionDeniedError("the client certificate names no ikeless admin");
}

absl::Status AuthorizeHello(const Caller& caller, const std::string& node_name,
                            const std::vector<std::string>& addresses) {
  if (caller.kind == Caller::Kind::kAnonymous) return absl::OkStatus();
  if (caller.kind != Caller::Kind::kNode) {
    return absl::PermissionDeniedError(
        "only a node certificate may open an agent session");
  }
  if (node_name != caller.name) {
    return absl::PermissionDeniedError(absl::StrCat("hello.node_name: '", node_name,
                                                    "' but the certificate is for node '",
                                                    caller.name, "'"));
  }
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (std::find(caller.addresses.begin(), caller.addresses.end(), addresses[i]) ==
        caller.addresses.end()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "hello.addresses[", i, "]: ", addresses[i], " is not in the certificate of node '",
          caller.name, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ikeless::controller
