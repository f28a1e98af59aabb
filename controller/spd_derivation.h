#ifndef IKELESS_CONTROLLER_SPD_DERIVATION_H_
#define IKELESS_CONTROLLER_SPD_DERIVATION_H_

// How a node's SPD follows from policies and nodes (DESIGN.md "Policy is
// the whole configuration"; the source's FIG. 15 SPD, here derived instead
// of typed on every node). Pure.
//
// For a node N and every other node P, over each pair of their addresses
// (aN, aP) of one family, in address order, the policies that match the
// pair (storage/policy_match.h: most specific wins, per selector) decide:
//   - PROTECT: a rule aN/32 <-> aP/32 with setup_peer aP; in tunnel mode
//     also one for every pair of N's and P's sites of one family (on the
//     first address pair a policy matches only, so sites are not repeated
//     per address). Transport mode protects the addresses only.
//   - BYPASS / DISCARD: the same traffic with that action, no setup_peer.
// Fail closed: where no policy says anything about traffic between N's and
// P's sites (for any protocol), a DISCARD rule per site pair, so that it is
// never sent in clear. Node addresses are never discarded: ESP and the
// controller's own traffic run between them.
//
// Rules carry a key that names the traffic and the action (not the policy):
// a rule whose action or peer changes is a different rule, so the agent
// removes the old entry's SAs and the new entry takes its place.

#include <map>
#include <string>
#include <vector>

#include "proto/admin.pb.h"
#include "proto/agent.pb.h"
#include "proto/policy.pb.h"

namespace ikeless::controller {

// Every rule of `self`'s SPD toward `peer`, sorted by key.
std::vector<v1::PushedRule> RulesToward(const v1::Node& self, const v1::Node& peer,
                                        const std::vector<v1::Policy>& policies);

// `self`'s whole pushed SPD, by key: RulesToward every other node of
// `nodes` (the node itself is skipped by name).
std::map<std::string, v1::PushedRule> DeriveSpd(const v1::Node& self,
                                                const std::vector<v1::Node>& nodes,
                                                const std::vector<v1::Policy>& policies);

// Field by field.
bool RulesEqual(const v1::PushedRule& a, const v1::PushedRule& b);

// The stable identity of a rule: its traffic and action.
std::string RuleKey(const v1::PushedRule& rule);

// What turns `before` into `after`: rules to add or replace (in key order)
// and keys to remove. Equal rules are not sent again.
void DiffRules(const std::map<std::string, v1::PushedRule>& before,
               const std::map<std::string, v1::PushedRule>& after, v1::SpdUpdate* delta);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_SPD_DERIVATION_H_
