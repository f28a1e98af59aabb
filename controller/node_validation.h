#ifndef IKELESS_CONTROLLER_NODE_VALIDATION_H_
#define IKELESS_CONTROLLER_NODE_VALIDATION_H_

// Checks a node record an operator submitted before it reaches the node
// store. Errors are INVALID_ARGUMENT naming the field and the reason, one
// line (`ipsecctl` prints them as they are).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/admin.pb.h"

namespace ikeless::controller {

// Validates `node` in place: the name follows the certificate rule
// ([A-Za-z0-9._-], at most 64), 1..64 addresses and 0..256 sites in
// canonical spelling (sites as CIDR with the network address: host bits
// set is an error), no duplicates, no two sites of the node overlapping,
// description at most 256 bytes. Server-set fields (revision, times,
// status) are cleared.
absl::Status NormalizeNode(v1::Node* node);

// The fleet-wide rules against every other node (`others` may contain a
// node of the same name: it is skipped, so an update checks against the
// rest): no address owned by two nodes, no site overlapping another node's
// site (a packet must have one gateway to go to). FAILED_PRECONDITION
// naming both nodes.
absl::Status CheckAgainstFleet(const v1::Node& node, const std::vector<v1::Node>& others);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_NODE_VALIDATION_H_
