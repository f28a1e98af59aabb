#ifndef IKELESS_CONTROLLER_PKI_NAMES_H_
#define IKELESS_CONTROLLER_PKI_NAMES_H_

// The names certificates carry and how identities are spelled in them.
// Node and admin names follow the rule of the agent's Hello
// (controller/agent_service.cc): 1 to 64 of [A-Za-z0-9._-]. An identity is
// the subjectAltName URI ikeless://node/<name> or ikeless://admin/<name>;
// the subject CN repeats the name for humans and is never trusted.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ikeless::pki {

inline constexpr size_t kMaxIdentityName = 64;
inline constexpr char kNodeUriPrefix[] = "ikeless://node/";
inline constexpr char kAdminUriPrefix[] = "ikeless://admin/";
inline constexpr char kIkelessUriScheme[] = "ikeless://";

// A node, admin or controller name: 1..64 of letters, digits, '.', '_'
// and '-'. INVALID_ARGUMENT naming `field` and the reason.
absl::Status ValidateIdentityName(absl::string_view name, absl::string_view field);

// A DNS name for a server certificate (RFC 1123 host name): labels of 1..63
// letters, digits and '-' (not first or last), separated by '.', at most
// 253 characters, no trailing dot, no wildcards, and not an IP address
// (those belong in IP entries). INVALID_ARGUMENT naming `field`.
absl::Status ValidateDnsName(absl::string_view name, absl::string_view field);

// A printable rendering of untrusted text for error messages: non-printable
// bytes escaped, at most 64 characters shown.
std::string QuoteForError(absl::string_view text);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_NAMES_H_
