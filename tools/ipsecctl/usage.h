#ifndef IKELESS_TOOLS_IPSECCTL_USAGE_H_
#define IKELESS_TOOLS_IPSECCTL_USAGE_H_

// The text `ipsecctl help` prints. Algorithm names come from
// common/algorithms.h, so a new algorithm shows up here without an edit.

#include <string>

namespace ikeless::ipsecctl {

std::string UsageText();

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_USAGE_H_
