#ifndef IKELESS_TOOLS_IPSECCTL_FLEET_FILE_H_
#define IKELESS_TOOLS_IPSECCTL_FLEET_FILE_H_

// A fleet file: the whole intent (nodes, policies, assertions) as YAML, for
// `ipsecctl plan -f` / `apply -f`, and `ipsecctl export` writing one.
// Policy keys are the `policy add` option names without "--" and take the
// same values ("lifetime: 1h", "between: [198.18.0.0/29, '*']"), parsed by
// the same code (policy_flags.h), so a file and a command line never
// disagree. Every item remembers its line, so errors, including the
// controller's ("nodes[2] (gw-c): sites: ..."), name "FILE:LINE".
//
//   nodes:
//     - name: gw-a
//       addresses: [198.18.0.1]
//       sites: [198.18.10.0/24]
//   policies:
//     - name: mesh
//       between: [198.18.0.0/29, 198.18.0.0/29]
//       encryption: aes-gcm-16
//       lifetime: 1h
//   assertions:
//     - between: [gw-a, gw-b]
//       expect: protected        # or: unreachable
//       encryption: aes-gcm-16   # optional, protected only
//
// `nodes:` and `policies:` must both be present (`[]` for none): a file
// that forgot one would otherwise remove every node or policy.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/admin.pb.h"

namespace ikeless::ipsecctl {

struct FleetFile {
  std::string path;  // as given, for "PATH:LINE: ..."
  v1::Intent intent;
  // 1-based line of each item and key: "nodes[0]", "nodes[0].sites",
  // "policies[1].lifetime", "assertions[0]".
  std::map<std::string, int> lines;

  // `message` (a controller error starting with an item's path) with
  // "PATH:LINE: " in front, the line of the most precise path it names; the
  // message as it is if it names none.
  std::string Locate(absl::string_view message) const;
};

// INVALID_ARGUMENT "PATH:LINE: what" for YAML syntax, unknown keys, wrong
// shapes and values the policy options refuse.
absl::StatusOr<FleetFile> ParseFleetFile(absl::string_view text, const std::string& path);

// The file `export` writes: every node and policy, canonical, with the
// operator-set fields only. ParseFleetFile of it gives the same records.
std::string WriteFleetFile(const std::vector<v1::Node>& nodes,
                           const std::vector<v1::Policy>& policies);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_FLEET_FILE_H_
