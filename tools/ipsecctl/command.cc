#include "tools/ipsecctl/command.h"

#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "tools/ipsecctl/duration.h"
#include "tools/ipsecctl/numbers.h"

namespace ikeless::ipsecctl {
namespace {

using Kind = Command::Kind;

// The shape of one command.
struct Grammar {
  const char* group;  // "policy"
  const char* verb;   // "add", or nullptr for a one-word command
  Kind kind;
  const char* operand;  // "NAME", "ID", or nullptr for none
  bool policy_options;
  bool address_option;  // --address into Command::address(es)
  NodeOptionSet node_options = NodeOptionSet::kNone;
};

constexpr Grammar kGrammar[] = {
    {"policy", "add", Kind::kPolicyAdd, "NAME", true, false},
    {"policy", "get", Kind::kPolicyGet, "NAME", false, false},
    {"policy", "list", Kind::kPolicyList, nullptr, false, false},
    {"policy", "update", Kind::kPolicyUpdate, "NAME", true, false},
    {"policy", "delete", Kind::kPolicyDelete, "NAME", false, false},
    {"nodes", "add", Kind::kNodesAdd, "NAME", false, false, NodeOptionSet::kCreate},
    {"nodes", "get", Kind::kNodesGet, "NAME", false, false},
    {"nodes", "list", Kind::kNodesList, nullptr, false, false},
    {"nodes", "set", Kind::kNodesSet, "NAME", false, false, NodeOptionSet::kUpdate},
    {"nodes", "remove", Kind::kNodesRemove, "NAME", false, false},
    {"assoc", "list", Kind::kAssocList, nullptr, false, true},
    {"assoc", "show", Kind::kAssocShow, "ID", false, false},
    {"assoc", "delete", Kind::kAssocDelete, "ID", false, false},
    {"agents", "list", Kind::kAgentsList, nullptr, false, false},
    {"agents", "enroll", Kind::kAgentsEnroll, "NAME", false, true, NodeOptionSet::kSites},
    {"watch", nullptr, Kind::kWatch, nullptr, false, false},
    {"plan", nullptr, Kind::kPlan, nullptr, false, false},
    {"apply", nullptr, Kind::kApply, nullptr, false, false},
    {"export", nullptr, Kind::kExport, nullptr, false, false},
};

constexpr OptionSpec kAddressSpec = {"--address", nullptr, 1, "ADDR"};
constexpr OptionSpec kTtlSpec = {"--ttl", nullptr, 1, "DURATION"};
constexpr OptionSpec kFileSpec = {"--file", "-f", 1, "FILE"};
constexpr OptionSpec kStateSpec = {"--state", nullptr, 1, "STATE"};
constexpr OptionSpec kKeepCertificatesSpec = {"--keep-certificates", nullptr, 0, "",
                                              /*boolean=*/true};

absl::Status Usage(absl::string_view about, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(about, ": ", why));
}

// Prefixes an option's error with the option it is about.
absl::Status Named(absl::string_view option, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat(option, ": ", status.message()));
}

// Help wins over every other problem on the line: someone typing
// "policy add --help" wants the usage, not a complaint about the missing NAME.
bool AsksForHelp(absl::Span<const std::string> args) {
  for (const std::string& word : args) {
    if (word == "--") return false;
    if (word == "-h" || word == "--help") return true;
  }
  return false;
}

// "add, get, list, update, delete" for an unknown verb of `group`.
std::string VerbsOf(absl::string_view group) {
  std::string out;
  for (const Grammar& g : kGrammar) {
    if (g.verb != nullptr && group == g.group)
      absl::StrAppend(&out, out.empty() ? "" : ", ", g.verb);
  }
  return out;
}

bool IsGroup(absl::string_view word) {
  for (const Grammar& g : kGrammar) {
    if (word == g.group) return true;
  }
  return false;
}

absl::Status ParseOperand(const Grammar& grammar, const std::string& text, Command* command) {
  if (grammar.kind == Kind::kAssocShow || grammar.kind == Kind::kAssocDelete) {
    auto id = ParseUnsigned(text, std::numeric_limits<uint64_t>::max());
    if (!id.ok()) return Usage(command->words, absl::StrCat("ID: ", id.status().message()));
    command->association_id = *id;
  } else {
    command->name = text;
  }
  return absl::OkStatus();
}

// Parses what follows the command words: operands and options.
absl::Status ParseArguments(const Grammar& grammar, absl::Span<const std::string> args,
                            GlobalOptions* global, Command* command) {
  std::vector<OptionSpec> specs(GlobalOptionSpecs().begin(), GlobalOptionSpecs().end());
  if (grammar.policy_options) {
    specs.insert(specs.end(), PolicyOptionSpecs().begin(), PolicyOptionSpecs().end());
  }
  absl::Span<const OptionSpec> node_specs = NodeOptionSpecs(grammar.node_options);
  specs.insert(specs.end(), node_specs.begin(), node_specs.end());
  if (grammar.address_option) specs.push_back(kAddressSpec);
  if (grammar.kind == Kind::kAgentsEnroll) specs.push_back(kTtlSpec);
  if (grammar.kind == Kind::kNodesRemove) specs.push_back(kKeepCertificatesSpec);
  if (grammar.kind == Kind::kPlan || grammar.kind == Kind::kApply) specs.push_back(kFileSpec);
  if (grammar.kind == Kind::kApply) specs.push_back(kStateSpec);

  auto split = SplitArgs(args, specs);
  if (!split.ok()) return Usage(command->words, split.status().message());

  for (const Option& option : split->options) {
    absl::Status status;
    if (IsGlobalOption(option.name)) {
      status = ApplyGlobalOption(option, global);
    } else if (option.name == kAddressSpec.name && grammar.address_option) {
      auto address = CanonicalAddress(option.values.at(0), "--address");
      status = address.status();
      if (address.ok()) {
        command->address = *address;
        command->addresses.push_back(*address);
      }
    } else if (option.name == kTtlSpec.name) {
      auto ttl = ParseDurationSeconds(option.values.at(0));
      status = ttl.status();
      if (ttl.ok()) command->ttl_seconds = *ttl;
    } else if (option.name == kKeepCertificatesSpec.name) {
      auto keep = BoolValue(option);
      if (!keep.ok()) status = Named(option.name, keep.status());
      if (keep.ok()) command->keep_certificates = *keep;
    } else if (option.name == kFileSpec.name) {
      command->file = option.values.at(0);
    } else if (option.name == kStateSpec.name) {
      command->state = option.values.at(0);
    } else if (grammar.node_options != NodeOptionSet::kNone) {
      status = ParseNodeOption(option, &command->node);
    } else {
      status = ParsePolicyOption(option, &command->edits);
    }
    if (!status.ok()) return Usage(command->words, status.message());
  }
  absl::Status combined = CheckNodeEdits(command->node);
  if (!combined.ok()) return Usage(command->words, combined.message());

  const std::vector<std::string>& operands = split->operands;
  size_t wanted = grammar.operand != nullptr ? 1 : 0;
  if (operands.size() < wanted) {
    return Usage(command->words, absl::StrCat("missing ", grammar.operand));
  }
  if (operands.size() > wanted) {
    return Usage(command->words,
                 absl::StrCat("unexpected argument '", operands[wanted].substr(0, 40), "'"));
  }
  if (wanted == 1) {
    absl::Status status = ParseOperand(grammar, operands[0], command);
    if (!status.ok()) return status;
  }

  if (grammar.kind == Kind::kAgentsEnroll && command->addresses.empty()) {
    return Usage(command->words, "missing --address (the node's addresses, for its certificate)");
  }
  if (grammar.kind == Kind::kPolicyAdd) {
    if (!command->edits.a) return Usage(command->words, "missing --between A B");
    if (!command->edits.hard_seconds) {
      command->edits.hard_seconds = kDefaultHardLifetimeSeconds;
    }
  }
  if (grammar.kind == Kind::kPolicyUpdate && command->edits.empty()) {
    return Usage(command->words, "nothing to update; give at least one policy option");
  }
  if (grammar.kind == Kind::kNodesAdd && command->node.addresses.empty()) {
    return Usage(command->words, "missing --address (the node's addresses)");
  }
  if ((grammar.kind == Kind::kPlan || grammar.kind == Kind::kApply) && command->file.empty()) {
    return Usage(command->words, "missing -f FILE (the fleet file)");
  }
  if (grammar.kind == Kind::kNodesSet && command->node.empty()) {
    return Usage(command->words, "nothing to update; give at least one node option");
  }
  return absl::OkStatus();
}

}  // namespace

std::string Command::Subject() const {
  if (!name.empty()) return absl::StrCat(words, " ", name);
  if (kind == Kind::kAssocShow || kind == Kind::kAssocDelete) {
    return absl::StrCat(words, " ", association_id);
  }
  return words;
}

absl::StatusOr<Invocation> ParseInvocation(absl::Span<const std::string> args,
                                           absl::string_view env_controller) {
  Invocation invocation;
  invocation.global = DefaultGlobalOptions(env_controller);
  Command& command = invocation.command;
  if (AsksForHelp(args)) return invocation;

  auto leading = SplitArgs(args, GlobalOptionSpecs(), /*stop_at_operand=*/true);
  if (!leading.ok()) return leading.status();
  for (const Option& option : leading->options) {
    absl::Status status = ApplyGlobalOption(option, &invocation.global);
    if (!status.ok()) return status;
  }
  const std::vector<std::string>& rest = leading->operands;
  if (rest.empty()) {
    return absl::InvalidArgumentError("missing command; run 'ipsecctl help' for usage");
  }
  const std::string& group = rest[0];
  if (group == "help") return invocation;
  if (!IsGroup(group)) {
    return Usage(group.substr(0, 40),
                 "unknown command; commands: policy, nodes, assoc, agents, watch, plan, apply, export, help");
  }

  // The verb must follow the group directly: "policy list", not
  // "policy -o json list". Options come after the command words.
  const Grammar* grammar = nullptr;
  for (const Grammar& g : kGrammar) {
    if (group != g.group) continue;
    if (g.verb == nullptr || (rest.size() > 1 && rest[1] == g.verb)) grammar = &g;
  }
  if (grammar == nullptr) {
    if (rest.size() < 2 || rest[1].empty() || rest[1][0] == '-') {
      return Usage(group, absl::StrCat("missing subcommand; one of: ", VerbsOf(group)));
    }
    return Usage(absl::StrCat(group, " ", rest[1].substr(0, 40)),
                 absl::StrCat("unknown command; ", group, " commands: ", VerbsOf(group)));
  }
  command.kind = grammar->kind;
  command.words = grammar->verb != nullptr ? absl::StrCat(group, " ", grammar->verb) : group;
  size_t consumed = grammar->verb != nullptr ? 2 : 1;
  absl::Status status = ParseArguments(*grammar, absl::MakeConstSpan(rest).subspan(consumed),
                                       &invocation.global, &command);
  if (!status.ok()) return status;
  return invocation;
}

}  // namespace ikeless::ipsecctl
