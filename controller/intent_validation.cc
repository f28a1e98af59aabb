#include "controller/intent_validation.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/node_validation.h"
#include "controller/policy_validation.h"

namespace ikeless::controller {
namespace {

// `status` about item `path`, with the single-record prefix ("node.",
// "policy.") dropped: the path says what it is.
absl::Status At(const std::string& path, const std::string& name, const absl::Status& status) {
  std::string message(status.message());
  for (absl::string_view prefix : {"node.", "policy."}) {
    if (absl::StartsWith(message, prefix)) message.erase(0, prefix.size());
  }
  return absl::Status(status.code(), absl::StrCat(path, name.empty() ? "" : " (" + name + ")",
                                                  ": ", message));
}

}  // namespace

absl::Status NormalizeIntent(v1::Intent* intent) {
  std::map<std::string, int> node_index;
  for (int i = 0; i < intent->nodes_size(); ++i) {
    v1::Node* node = intent->mutable_nodes(i);
    const std::string path = absl::StrCat("nodes[", i, "]");
    if (absl::Status s = NormalizeNode(node); !s.ok()) return At(path, node->name(), s);
    auto [it, added] = node_index.emplace(node->name(), i);
    if (!added) {
      return At(path, node->name(),
                absl::InvalidArgumentError(absl::StrCat("name: '", node->name(),
                                                        "' is already nodes[", it->second, "]")));
    }
  }
  // Each node against the ones before it: a clash is reported at the later
  // node (usually the one just edited), naming the earlier one.
  std::vector<v1::Node> earlier;
  for (int i = 0; i < intent->nodes_size(); ++i) {
    if (absl::Status s = CheckAgainstFleet(intent->nodes(i), earlier); !s.ok()) {
      return At(absl::StrCat("nodes[", i, "]"), intent->nodes(i).name(), s);
    }
    earlier.push_back(intent->nodes(i));
  }

  std::map<std::string, int> policy_index;
  for (int i = 0; i < intent->policies_size(); ++i) {
    v1::Policy* policy = intent->mutable_policies(i);
    const std::string path = absl::StrCat("policies[", i, "]");
    std::vector<std::string> warnings;  // legacy opt-ins: the file said so
    if (absl::Status s = NormalizePolicy(policy, &warnings); !s.ok()) {
      return At(path, policy->name(), s);
    }
    auto [it, added] = policy_index.emplace(policy->name(), i);
    if (!added) {
      return At(path, policy->name(),
                absl::InvalidArgumentError(absl::StrCat(
                    "name: '", policy->name(), "' is already policies[", it->second, "]")));
    }
  }

  for (int i = 0; i < intent->assertions_size(); ++i) {
    const v1::IntentAssertion& a = intent->assertions(i);
    const std::string path = absl::StrCat("assertions[", i, "]");
    for (const auto& [field, name] : {std::pair<const char*, const std::string*>{"a", &a.a()},
                                      std::pair<const char*, const std::string*>{"b", &a.b()}}) {
      if (node_index.count(*name) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ".", field, ": unknown node '", *name, "' (not among the file's nodes)"));
      }
    }
    if (a.a() == a.b()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": a node and itself ('", a.a(), "'): name two nodes"));
    }
    if (!v1::EncryptionAlgorithm_IsValid(a.encryption())) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".encryption: unknown algorithm ",
                                                     a.encryption()));
    }
    if (!v1::Mode_IsValid(a.mode())) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".mode: unknown mode ", a.mode()));
    }
    if (a.expect() != v1::IntentAssertion::EXPECT_PROTECTED &&
        a.expect() != v1::IntentAssertion::EXPECT_UNREACHABLE) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".expect: must be protected or unreachable"));
    }
    if (a.expect() == v1::IntentAssertion::EXPECT_UNREACHABLE &&
        (a.encryption() != v1::ENCRYPTION_UNSPECIFIED || a.mode() != v1::MODE_UNSPECIFIED)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": encryption and mode only go with protected"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ikeless::controller
