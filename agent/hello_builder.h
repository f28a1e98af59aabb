#ifndef IKELESS_AGENT_HELLO_BUILDER_H_
#define IKELESS_AGENT_HELLO_BUILDER_H_

// The Hello an agent sends at each (re)connect: who it is, plus what this
// agent process holds, so that the controller can reconcile its rows with
// it (issue #12, controller/association_reconciler.h): the association ids
// of every installed SA and the (request id, SPI) of every setup in flight
// (S43). A restarted agent reports nothing it had before; one that merely
// reconnected reports everything it uses.

#include <cstdint>
#include <vector>

#include "agent/setup_client.h"
#include "proto/agent.pb.h"

namespace ikeless::agent {

// The controller's bound per list (kMaxHelloReportEntries there).
inline constexpr size_t kMaxHelloReport = 4096;

// `identity` with the report. `association_ids` may repeat (one per SA) and
// hold 0 (not yet known): each nonzero id is reported once. If either list
// would exceed kMaxHelloReport, no report is sent (reconcile = false: the
// controller then retires nothing) and a warning is logged.
v1::Hello BuildHello(const v1::Hello& identity, const std::vector<uint64_t>& association_ids,
                     const std::vector<SetupInfo>& in_flight);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_HELLO_BUILDER_H_
