#ifndef IKELESS_CONTROLLER_INTENT_PLAN_H_
#define IKELESS_CONTROLLER_INTENT_PLAN_H_

// What replacing the live intent with a desired one would do (`ipsecctl
// plan -f`), decided without touching anything: which nodes and policies
// are added, changed or removed, which pairs of nodes gain or lose
// protection (their derived SPD rules, spd_derivation.h), which live
// associations would be torn down or rekeyed (the same per-row verdict the
// enforcer acts on, policy_enforcer.h), and whether the intent's assertions
// hold. Apply carries out exactly the IntentWrite made here. Pure.

#include <string>
#include <vector>

#include "proto/admin.pb.h"
#include "proto/agent.pb.h"
#include "storage/association.h"
#include "storage/intent_store.h"

namespace ikeless::controller {

// A whole intent: nodes and policies, each sorted by name.
struct IntentSnapshot {
  std::vector<v1::Node> nodes;
  std::vector<v1::Policy> policies;
};

// A short digest of `live` (every field but node status), so an apply can
// refuse when the intent moved since the plan: IntentPlan.state.
std::string IntentDigest(const IntentSnapshot& live);

// The record-level difference: what to write, what to show, and what
// follows from it for the enforcer.
struct IntentDiff {
  storage::IntentWrite write;  // server-set fields as the caller sets them
  std::vector<v1::IntentChange> changes;
  std::vector<std::string> removed_nodes;   // their certificates get revoked
  std::vector<std::string> gone_addresses;  // of removed nodes and dropped addresses
};
IntentDiff DiffIntent(const IntentSnapshot& live, const IntentSnapshot& desired);

// Pairs of nodes (present in both) whose derived rules differ.
std::vector<v1::PairChange> PairChanges(const IntentSnapshot& live,
                                        const IntentSnapshot& desired);

// The rows the enforcer would tear down or rekey under `desired`.
std::vector<v1::AssociationImpact> AssociationImpacts(
    const std::vector<storage::AssociationRow>& rows, const IntentSnapshot& desired,
    const std::vector<std::string>& gone_addresses);

// Each assertion against the SPDs derived from `desired`. Assertions name
// nodes of `desired` (intent_validation.h checked that).
std::vector<v1::AssertionResult> CheckAssertions(
    const IntentSnapshot& desired, const google::protobuf::RepeatedPtrField<v1::IntentAssertion>&
                                       assertions);

// One line for a rule set between two nodes, as PairChange shows it:
// "protect mesh (aes-gcm-16/128 tunnel) 4 rules", "discard (fail closed)
// 1 rule", joined by "; ", or "none".
std::string DescribeRules(const std::vector<v1::PushedRule>& rules,
                          const std::vector<v1::Policy>& policies);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_INTENT_PLAN_H_
