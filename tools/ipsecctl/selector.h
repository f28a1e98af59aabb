#ifndef IKELESS_TOOLS_IPSECCTL_SELECTOR_H_
#define IKELESS_TOOLS_IPSECCTL_SELECTOR_H_

// Traffic selectors (v1::Selector: IP protocol and port) as one short word,
// the same spelling for --selector and for the SELECTOR column:
//   any, tcp, udp, icmp, icmpv6, tcp/22, udp/53, proto/47 (or just 47).
// A port needs tcp or udp: those are the protocols with ports here.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/policy.pb.h"

namespace ikeless::ipsecctl {

absl::StatusOr<v1::Selector> ParseSelector(absl::string_view spec);

// Inverse of ParseSelector. A selector no spec can express (a port with a
// protocol other than tcp/udp, from a newer controller) prints as
// "proto/N port P" so that nothing is hidden.
std::string FormatSelector(const v1::Selector& selector);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_SELECTOR_H_
