#ifndef IKELESS_DATAPATH_XFRM_XFRM_STAT_H_
#define IKELESS_DATAPATH_XFRM_XFRM_STAT_H_

// The kernel's XFRM drop counters (/proc/net/xfrm_stat, per network
// namespace; Documentation/networking/xfrm_proc.rst) under the reason names
// the agent reports, the ESP engine's where the reason is the same.

#include "absl/strings/string_view.h"
#include "datapath/datapath.h"

namespace ikeless::datapath {

// Parses the file's "Name <spaces> value" lines; unknown names go to
// "other". Lines that do not parse are skipped.
DropCounts ParseXfrmStat(absl::string_view text);

// Reads /proc/net/xfrm_stat; empty if the kernel has none (no
// CONFIG_XFRM_STATISTICS).
DropCounts ReadXfrmStat();

}  // namespace ikeless::datapath

#endif  // IKELESS_DATAPATH_XFRM_XFRM_STAT_H_
