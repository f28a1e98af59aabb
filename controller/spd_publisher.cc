#include "controller/spd_publisher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/spd_derivation.h"

namespace ikeless::controller {

void SpdPublisher::Event(Output& out, v1::Event::Kind kind, const std::string& node,
                         std::string detail, absl::Time now) const {
  v1::Event& e = out.events.emplace_back();
  e.set_kind(kind);
  e.set_time_unix_micros(absl::ToUnixMicros(now));
  e.set_subject(node);
  e.set_detail(std::move(detail));
}

SpdPublisher::Push SpdPublisher::Snapshot(const NodeState& st) const {
  Push p;
  p.node = st.node.name();
  v1::SpdUpdate* u = p.message.mutable_spd_update();
  u->set_revision(st.revision);
  u->set_snapshot(true);
  for (const auto& [_, rule] : st.rules) *u->add_upsert() = rule;
  return p;
}

void SpdPublisher::Replace(NodeState& st, std::map<std::string, v1::PushedRule> rules,
                           uint64_t revision, absl::Time now, Output& out) {
  v1::SpdUpdate delta;
  DiffRules(st.rules, rules, &delta);
  st.rules = std::move(rules);
  Send(st, std::move(delta), revision, now, out);
}

void SpdPublisher::ReplaceToward(NodeState& st, const std::string& peer,
                                 std::vector<v1::PushedRule> toward, uint64_t revision,
                                 absl::Time now, Output& out) {
  // Only the pair with `peer` changed: edit those rules in place (a copy of
  // a 1,000-rule SPD per peer would dominate adding a node to a big mesh).
  std::map<std::string, v1::PushedRule> now_rules;
  for (v1::PushedRule& r : toward) {
    std::string key = r.key();
    now_rules.emplace(std::move(key), std::move(r));
  }
  v1::SpdUpdate delta;
  for (auto it = st.rules.begin(); it != st.rules.end();) {
    if (it->second.peer_node() == peer && now_rules.count(it->first) == 0) {
      delta.add_remove(it->first);
      it = st.rules.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [key, rule] : now_rules) {
    auto it = st.rules.find(key);
    if (it != st.rules.end() && RulesEqual(it->second, rule)) continue;
    *delta.add_upsert() = rule;
    st.rules[key] = std::move(rule);
  }
  Send(st, std::move(delta), revision, now, out);
}

void SpdPublisher::Send(NodeState& st, v1::SpdUpdate delta, uint64_t revision, absl::Time now,
                        Output& out) {
  if (delta.upsert().empty() && delta.remove().empty()) return;
  const uint64_t base = st.revision;
  st.revision = revision;
  if (connected_.count(st.node.name()) == 0) return;  // a snapshot at the next Hello
  delta.set_revision(revision);
  delta.set_base_revision(base);
  Event(out, v1::Event::SPD_PUSHED, st.node.name(),
        absl::StrCat("revision=", revision, " base=", base, " upsert=", delta.upsert_size(),
                     " remove=", delta.remove_size()),
        now);
  Push& p = out.pushes.emplace_back();
  p.node = st.node.name();
  *p.message.mutable_spd_update() = std::move(delta);
}

SpdPublisher::Output SpdPublisher::SetIntent(std::vector<v1::Node> nodes,
                                             std::vector<v1::Policy> policies,
                                             uint64_t revision, absl::Time now) {
  std::set<std::string> names;
  for (const v1::Node& n : nodes) names.insert(n.name());
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    it = names.count(it->first) == 0 ? nodes_.erase(it) : std::next(it);
  }
  // A connected node that gets its record now holds the "no record"
  // snapshot: as in PutNode it starts afresh with a snapshot, so it is left
  // out of the deltas (and their events) below.
  std::set<std::string> added_connected;
  for (v1::Node& n : nodes) {
    if (nodes_.count(n.name()) == 0 && connected_.erase(n.name()) != 0) {
      added_connected.insert(n.name());
    }
    NodeState& st = nodes_[n.name()];
    st.node = std::move(n);
  }
  Output out = SetPolicies(std::move(policies), revision, now);
  for (const std::string& name : added_connected) {
    connected_.insert(name);
    NodeState& st = nodes_[name];
    st.revision = revision;
    Event(out, v1::Event::SPD_PUSHED, name,
          absl::StrCat("revision=", revision, " snapshot rules=", st.rules.size()), now);
    out.pushes.push_back(Snapshot(st));
  }
  return out;
}

SpdPublisher::Output SpdPublisher::SetPolicies(std::vector<v1::Policy> policies,
                                               uint64_t revision, absl::Time now) {
  policies_ = std::move(policies);
  std::vector<v1::Node> all = nodes();
  Output out;
  for (auto& [name, st] : nodes_) Replace(st, DeriveSpd(st.node, all, policies_), revision, now, out);
  return out;
}

SpdPublisher::Output SpdPublisher::PutNode(const v1::Node& node, uint64_t revision,
                                           absl::Time now) {
  Output out;
  const bool is_new = nodes_.count(node.name()) == 0;
  NodeState& self = nodes_[node.name()];
  self.node = node;
  std::vector<v1::Node> all = nodes();
  for (auto& [name, st] : nodes_) {
    if (name == node.name()) continue;
    ReplaceToward(st, node.name(), RulesToward(st.node, node, policies_), revision, now, out);
  }
  if (is_new && connected_.count(node.name()) != 0) {
    // Its agent holds a snapshot of "no record": start it afresh.
    self.rules = DeriveSpd(node, all, policies_);
    self.revision = revision;
    Event(out, v1::Event::SPD_PUSHED, node.name(),
          absl::StrCat("revision=", revision, " snapshot rules=", self.rules.size()), now);
    out.pushes.push_back(Snapshot(self));
  } else {
    Replace(self, DeriveSpd(node, all, policies_), revision, now, out);
  }
  return out;
}

SpdPublisher::Output SpdPublisher::RemoveNode(const std::string& name, uint64_t revision,
                                              absl::Time now) {
  Output out;
  nodes_.erase(name);
  for (auto& [_, st] : nodes_) ReplaceToward(st, name, {}, revision, now, out);
  return out;
}

SpdPublisher::Output SpdPublisher::Connected(const std::string& name, absl::Time now) {
  Output out;
  connected_.insert(name);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) {
    // No record: the agent runs on its own rules only; tell it so.
    Push& p = out.pushes.emplace_back();
    p.node = name;
    p.message.mutable_spd_update()->set_snapshot(true);
    return out;
  }
  it->second.snapshot_refused = 0;
  Event(out, v1::Event::SPD_PUSHED, name,
        absl::StrCat("revision=", it->second.revision, " snapshot rules=", it->second.rules.size()),
        now);
  out.pushes.push_back(Snapshot(it->second));
  return out;
}

void SpdPublisher::Disconnected(const std::string& name) { connected_.erase(name); }

SpdPublisher::Output SpdPublisher::Acknowledged(const std::string& name, const v1::SpdAck& ack,
                                                absl::Time now) {
  Output out;
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return out;
  NodeState& st = it->second;
  if (ack.error().empty()) {
    // Acks come in stream order; an older one never lowers the mark.
    if (ack.revision() > st.applied || st.applied > st.revision) st.applied = ack.revision();
    st.last_error.clear();
    Event(out, v1::Event::SPD_APPLIED, name, absl::StrCat("revision=", ack.revision()), now);
    return out;
  }
  st.last_error = ack.error().substr(0, 512);
  Event(out, v1::Event::SPD_REJECTED, name,
        absl::StrCat("revision=", ack.revision(), ": ", st.last_error), now);
  // A refused delta: the agent's base differs (it restarted, or missed one);
  // a snapshot repairs that. A refused snapshot is not sent again until
  // the SPD changes, or the agent would loop.
  if (st.snapshot_refused == st.revision && st.revision != 0) return out;
  if (connected_.count(name) == 0) return out;
  st.snapshot_refused = st.revision;
  out.pushes.push_back(Snapshot(st));
  return out;
}

std::optional<v1::NodeStatus> SpdPublisher::Status(const std::string& name) const {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return std::nullopt;
  const NodeState& st = it->second;
  v1::NodeStatus s;
  s.set_connected(connected_.count(name) != 0);
  s.set_spd_revision(st.revision);
  s.set_applied_revision(st.applied);
  s.set_in_sync(s.connected() && st.applied == st.revision);
  s.set_spd_rules(static_cast<uint32_t>(st.rules.size()));
  s.set_last_error(st.last_error);
  return s;
}

std::vector<v1::Node> SpdPublisher::nodes() const {
  std::vector<v1::Node> out;
  out.reserve(nodes_.size());
  for (const auto& [_, st] : nodes_) out.push_back(st.node);
  return out;
}

const v1::Node* SpdPublisher::FindNode(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second.node;
}

const std::map<std::string, v1::PushedRule>* SpdPublisher::Rules(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second.rules;
}

}  // namespace ikeless::controller
