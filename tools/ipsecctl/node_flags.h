#ifndef IKELESS_TOOLS_IPSECCTL_NODE_FLAGS_H_
#define IKELESS_TOOLS_IPSECCTL_NODE_FLAGS_H_

// The node options of `nodes add`, `nodes set` and (--site) `agents
// enroll`: their specs for the tokeniser, their syntax checks, and the edit
// they make to a v1::Node. Addresses and site prefixes are checked and made
// canonical here, before any RPC; whether a site overlaps another node's is
// the controller's to say (DESIGN.md "Policy is the whole configuration").

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/admin.pb.h"
#include "tools/ipsecctl/cli_args.h"

namespace ikeless::ipsecctl {

// What the operator asked to change on a node, and nothing else. Each
// list option may be repeated; a list given replaces the node's list.
struct NodeEdits {
  std::vector<std::string> addresses;     // --address, canonical; given: replaces
  std::vector<std::string> sites;         // --site, canonical CIDR; given: replaces
  bool no_sites = false;                  // --no-sites: the node protects no site
  std::vector<std::string> add_sites;     // --add-site
  std::vector<std::string> remove_sites;  // --remove-site
  std::optional<std::string> description;

  // True if no option was given.
  bool empty() const;
};

// Which node options a command accepts.
enum class NodeOptionSet {
  kNone,
  kSites,   // agents enroll: --site
  kCreate,  // nodes add: --address, --site, --description
  kUpdate,  // nodes set: kCreate's, --add-site, --remove-site, --no-sites
};

// Specs of the options in `set`, for SplitArgs.
absl::Span<const OptionSpec> NodeOptionSpecs(NodeOptionSet set);

// "198.18.10.0/24" or "fd00:10::/64" in canonical CIDR form; a single
// address is the /32 or /128 prefix of that host (as the agent's config
// reads sites). Not "*": a site is a network, not "everything".
absl::StatusOr<std::string> CanonicalSite(absl::string_view text);

// Checks one option's values and records it in `edits`. Errors are
// INVALID_ARGUMENT and start with the option's name:
// "--site: '198.18.0.1/24' has host bits set; ...". A value given twice to
// one option is an error.
absl::Status ParseNodeOption(const Option& option, NodeEdits* edits);

// The checks that need every option: --no-sites alone among the site
// options, --site (a whole list) not mixed with --add-site/--remove-site,
// no prefix both added and removed.
absl::Status CheckNodeEdits(const NodeEdits& edits);

// Applies `edits` to `node` (as read from the controller): given lists
// replace, --remove-site then --add-site edit the site list (adding a site
// the node has is a no-op). NOT_FOUND, naming the prefix, if --remove-site
// names a site the node does not have; `node` is then unchanged.
absl::Status ApplyNodeEdits(const NodeEdits& edits, v1::Node* node);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_NODE_FLAGS_H_
