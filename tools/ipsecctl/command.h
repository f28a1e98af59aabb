#ifndef IKELESS_TOOLS_IPSECCTL_COMMAND_H_
#define IKELESS_TOOLS_IPSECCTL_COMMAND_H_

// The grammar of ipsecctl: which commands exist, which operands and options
// each takes. ParseInvocation turns argv into a checked Command, or into
// the one usage error that makes ipsecctl exit 2, before any RPC is made.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tools/ipsecctl/cli_args.h"
#include "tools/ipsecctl/node_flags.h"
#include "tools/ipsecctl/policy_flags.h"

namespace ikeless::ipsecctl {

// One command, parsed and syntax-checked, ready to run.
struct Command {
  enum class Kind {
    kHelp,
    kPolicyAdd,
    kPolicyGet,
    kPolicyList,
    kPolicyUpdate,
    kPolicyDelete,
    kNodesAdd,
    kNodesGet,
    kNodesList,
    kNodesSet,
    kNodesRemove,
    kAssocList,
    kAssocShow,
    kAssocDelete,
    kAgentsList,
    kAgentsEnroll,
    kWatch,
    kPlan,
    kApply,
    kExport,
  };

  Kind kind = Kind::kHelp;
  std::string words;            // "policy add": names the command in errors
  std::string name;             // policy and nodes commands with NAME
  PolicyEdits edits;            // policy add / update
  NodeEdits node;               // nodes add / set; agents enroll: --site
  bool keep_certificates = false;  // nodes remove --keep-certificates
  std::string address;          // assoc list --address; canonical; "" = all
  uint64_t association_id = 0;  // assoc show / delete ID
  std::vector<std::string> addresses;  // agents enroll: every --address
  uint64_t ttl_seconds = 0;            // agents enroll --ttl; 0 = the controller's 1 h
  std::string file;                    // plan / apply -f: the fleet file
  std::string state;                   // apply --state: from the plan

  // What an error line is about: "policy add web", "assoc show 7",
  // "policy list", "nodes set gw-a".
  std::string Subject() const;
};

// A whole command line.
struct Invocation {
  GlobalOptions global;
  Command command;
};

// Parses the words after argv[0]. Global options may come before the
// command (as documented) or among its arguments. "-h"/"--help" anywhere,
// or the command "help", yields Kind::kHelp. For `policy add` without
// --lifetime the edits carry kDefaultHardLifetimeSeconds; `nodes add`
// needs an --address, `nodes set` at least one node option. Errors are
// INVALID_ARGUMENT, one line, starting with what they are about:
// "policy add: --lifetime: '0' ...".
absl::StatusOr<Invocation> ParseInvocation(absl::Span<const std::string> args,
                                           absl::string_view env_controller);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_COMMAND_H_
