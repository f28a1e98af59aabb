#include "tools/ipsecctl/grpc_errors.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "tools/ipsecctl/table.h"

namespace ikeless::ipsecctl {
namespace {

// What to check when a TLS connection fails (issue #11, point 6).
std::string TlsHint(absl::string_view message, const GlobalOptions& global) {
  if (absl::StrContains(message, "CERTIFICATE_VERIFY_FAILED") ||
      absl::StrContains(message, "certificate verify failed")) {
    return absl::StrCat(" (the controller's certificate was not accepted: is --tls-ca the CA "
                        "that signed it, and does it name '", global.tls.server_name,
                        "'? see --tls-server-name)");
  }
  return absl::StrCat(
      " (if the controller is running, the TLS handshake failed: check that --tls-ca is the "
      "controller's CA, that --tls-cert/--tls-key are an admin certificate of that CA that "
      "has not expired or been revoked, and that the controller's certificate names '",
      global.tls.server_name, "' (--tls-server-name))");
}

}  // namespace

absl::Status ControllerError(const grpc::Status& status, const GlobalOptions& global) {
  auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = absl::StrReplaceAll(status.error_message(), {{"\n", " "}, {"\r", " "}});
  if (code == absl::StatusCode::kUnavailable) {
    message = absl::StrCat("controller at ", global.controller,
                           message.empty() ? " is unavailable" : ": ", message);
    if (!global.tls.empty()) absl::StrAppend(&message, TlsHint(message, global));
  } else if (code == absl::StatusCode::kDeadlineExceeded) {
    message = absl::StrCat("controller at ", global.controller, " did not answer within ",
                           absl::FormatDuration(global.timeout));
  }
  return absl::Status(code, SanitizeCell(message));
}

std::unique_ptr<grpc::ClientContext> CallContext(const GlobalOptions& global) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + global.timeout));
  return context;
}

}  // namespace ikeless::ipsecctl
