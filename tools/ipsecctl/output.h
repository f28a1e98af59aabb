#ifndef IKELESS_TOOLS_IPSECCTL_OUTPUT_H_
#define IKELESS_TOOLS_IPSECCTL_OUTPUT_H_

// How the controller's answers look to the operator. Table mode: aligned
// columns for lists, a two-column "FIELD value" view for one object, one
// line per event; enum values by their operator names ("aes-gcm-16",
// "tunnel", "established"), times in RFC 3339 UTC, SPIs as
// "0x000013ec (5100)" (hex as `ip xfrm state` and tcpdump print them,
// decimal as the JSON carries them). JSON mode: protobuf's own JSON mapping
// with the .proto field names, so scripts see the API unchanged.
//
// Only fields of the API messages are printed; the API carries no key
// material, and nothing else from the server (metadata, trailers) is shown.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "proto/admin.pb.h"
#include "proto/policy.pb.h"

namespace ikeless::ipsecctl {

// "2026-11-27T03:56:53Z"; "-" for 0 (not set).
std::string FormatTime(int64_t unix_seconds);
// "2026-11-27T03:56:53.123456Z"; "-" for 0.
std::string FormatTimeMicros(int64_t unix_micros);
// "0x000013ec (5100)".
std::string FormatSpi(uint32_t spi);

// Lists, with a header line:
//   NAME A B SELECTOR ACTION MODE ENCRYPTION INTEGRITY LIFETIME PRIORITY REV
//   ID STATE A B [TRAFFIC] POLICY EXPIRES
//       A and B: "address id=N spi=0x... (N)"; TRAFFIC: "a_prefix <-> b_prefix",
//       a column only when some association states its inner prefixes
//   NODE ADDRESSES CONNECTED VERSION DATAPATH LAST-SEEN
//   NAME ADDRESSES SITES CONNECTED SPD SYNC RULES DATAPATH
//       SPD: "applied/pushed" revision; SYNC: yes, no, or "-" when not
//       connected
std::string PolicyTable(const v1::ListPoliciesResponse& response);
std::string AssociationTable(const v1::ListAssociationsResponse& response);
std::string AgentTable(const v1::ListAgentsResponse& response);
std::string NodeTable(const v1::ListNodesResponse& response);

// One object, every field the operator can act on, one "FIELD value" line
// each. An association's TRAFFIC line only when it states its prefixes; a
// node's status lines only when the answer has a status (Get, not Create).
std::string PolicyDetail(const v1::Policy& policy);
std::string AssociationDetail(const v1::Association& association);
std::string NodeDetail(const v1::Node& node);

// "TIME  KIND  SUBJECT  DETAIL\n", KIND padded so that consecutive lines
// of `watch` line up without buffering.
std::string EventLine(const v1::Event& event);

enum class JsonStyle {
  kIndented,  // for a person reading one answer
  kOneLine,   // one object per line, for streams (`watch`)
};

// Protobuf JSON with preserve_proto_field_names and
// always_print_primitive_fields, ending in '\n'.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, JsonStyle style);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_OUTPUT_H_
