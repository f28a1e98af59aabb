#ifndef IKELESS_TOOLS_IPSECCTL_NAMES_H_
#define IKELESS_TOOLS_IPSECCTL_NAMES_H_

// Operator-facing names of the API's enum values: "tunnel", "esp",
// "half-open", "association-established". They are derived from the proto
// enum names (prefix dropped, lower case, '_' -> '-') so a value added to the
// .proto gets a name here without an edit. Algorithms are the exception:
// their names come from common/algorithms.h, the table the controller and
// datapath share.
//
// Every function returns "-" for the UNSPECIFIED (0) value, which means "the
// controller's default" or "not known", and "unknown(N)" for a number this
// build does not know (a newer controller). ActionName is the exception:
// an unspecified action is PROTECT by definition, so it prints "protect".

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/admin.pb.h"
#include "proto/policy.pb.h"

namespace ikeless::ipsecctl {

std::string ProtocolName(v1::IpsecProtocol protocol);
std::string ModeName(v1::Mode mode);
std::string EncryptionName(v1::EncryptionAlgorithm encryption);
std::string IntegrityName(v1::IntegrityAlgorithm integrity);
std::string StateName(v1::Association::State state);
std::string EventKindName(v1::Event::Kind kind);
std::string ActionName(v1::PolicyAction action);  // "protect", "bypass", "discard"

// Parsers for the option values. The error lists the valid names.
absl::StatusOr<v1::IpsecProtocol> ParseProtocol(absl::string_view text);
absl::StatusOr<v1::Mode> ParseMode(absl::string_view text);
absl::StatusOr<v1::EncryptionAlgorithm> ParseEncryption(absl::string_view text);
absl::StatusOr<v1::IntegrityAlgorithm> ParseIntegrity(absl::string_view text);
absl::StatusOr<v1::PolicyAction> ParseAction(absl::string_view text);

// "esp, ah", "tunnel, transport" and "protect, bypass, discard", for the
// usage text.
std::string ProtocolNames();
std::string ModeNames();
std::string ActionNames();

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_NAMES_H_
