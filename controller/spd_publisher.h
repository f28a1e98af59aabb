#ifndef IKELESS_CONTROLLER_SPD_PUBLISHER_H_
#define IKELESS_CONTROLLER_SPD_PUBLISHER_H_

// What the controller has pushed to every node's SPD and what each agent
// acknowledged: the intent (nodes and policies) in memory, each node's
// derived rules (controller/spd_derivation.h) and revisions. Pure: it
// returns the SpdUpdate messages to send, the shell (intent_service.h)
// sends them.
//
// Revisions come from the caller (NodeStore::NextSpdRevision, so they only
// grow, also across restarts). A node whose SPD changes takes the new
// revision; if connected it gets a delta whose base is its previous
// revision; on (re)connection it gets a snapshot. A node change recomputes
// only the pairs with that node, so adding node 1,001 to a 1,000-node mesh
// costs each peer one small delta, not a snapshot.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "proto/admin.pb.h"
#include "proto/agent.pb.h"
#include "proto/policy.pb.h"

namespace ikeless::controller {

class SpdPublisher {
 public:
  struct Push {
    std::string node;
    v1::ControllerMessage message;
  };
  struct Output {
    std::vector<Push> pushes;
    std::vector<v1::Event> events;
  };

  // Replaces the whole intent; every node's SPD is derived anew.
  Output SetIntent(std::vector<v1::Node> nodes, std::vector<v1::Policy> policies,
                   uint64_t revision, absl::Time now);
  // Policies changed (full recompute: any pair may be affected).
  Output SetPolicies(std::vector<v1::Policy> policies, uint64_t revision, absl::Time now);
  // A node was added or changed: its own SPD and its pairs with every other
  // node are derived anew.
  Output PutNode(const v1::Node& node, uint64_t revision, absl::Time now);
  // A node was removed: its peers lose their rules toward it.
  Output RemoveNode(const std::string& name, uint64_t revision, absl::Time now);

  // The node's agent said Hello: a snapshot of its SPD (an empty one at
  // revision 0 for a node without a record).
  Output Connected(const std::string& name, absl::Time now);
  void Disconnected(const std::string& name);
  // SpdAck: a refusal makes a snapshot follow (once per revision).
  Output Acknowledged(const std::string& name, const v1::SpdAck& ack, absl::Time now);

  // Status for `ipsecctl nodes list`; nullopt for a node without a record.
  std::optional<v1::NodeStatus> Status(const std::string& name) const;
  const std::vector<v1::Policy>& policies() const { return policies_; }
  std::vector<v1::Node> nodes() const;
  const v1::Node* FindNode(const std::string& name) const;
  // The node's pushed rules (for tests and status), by key.
  const std::map<std::string, v1::PushedRule>* Rules(const std::string& name) const;

 private:
  struct NodeState {
    v1::Node node;
    std::map<std::string, v1::PushedRule> rules;  // by key
    uint64_t revision = 0;  // of `rules`
    uint64_t applied = 0;   // acknowledged by the agent
    std::string last_error;
    uint64_t snapshot_refused = 0;  // revision of a refused snapshot
  };

  // `name`'s rules are now `rules`: takes `revision` if they differ and
  // pushes the delta when connected.
  void Replace(NodeState& st, std::map<std::string, v1::PushedRule> rules, uint64_t revision,
               absl::Time now, Output& out);
  // The same for the rules toward one peer only.
  void ReplaceToward(NodeState& st, const std::string& peer, std::vector<v1::PushedRule> toward,
                     uint64_t revision, absl::Time now, Output& out);
  // Takes `revision` for a non-empty delta and queues it when connected.
  void Send(NodeState& st, v1::SpdUpdate delta, uint64_t revision, absl::Time now, Output& out);
  Push Snapshot(const NodeState& st) const;
  void Event(Output& out, v1::Event::Kind kind, const std::string& node, std::string detail,
             absl::Time now) const;

  std::map<std::string, NodeState> nodes_;  // by name
  std::vector<v1::Policy> policies_;
  std::set<std::string> connected_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_SPD_PUBLISHER_H_
