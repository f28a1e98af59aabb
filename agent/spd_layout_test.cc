// The full SPD: local rules, the controller's bypass, pushed rules by
// (rank, key), stable ids by key, and the mapping of a pushed rule.
#include "agent/spd_layout.h"

#include "agent/spd_match.h"
#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;

SpdEntry Local(uint32_t id, std::string remote) {
  SpdEntry e;
  e.id = id;
  e.name = "local-" + std::to_string(id);
  e.local_prefix = "198.18.10.0/24";
  e.remote_prefix = std::move(remote);
  e.action = SpdEntry::Action::kBypass;
  return e;
}

v1::PushedRule Rule(std::string key, std::string remote, uint32_t rank = 0) {
  v1::PushedRule r;
  r.set_key(key);
  r.set_name("web/" + key);
  r.set_local("198.18.10.0/24");
  r.set_remote(std::move(remote));
  r.set_action(v1::POLICY_ACTION_PROTECT);
  r.set_setup_peer("198.18.0.2");
  r.set_local_address("198.18.0.1");
  r.set_rank(rank);
  return r;
}

using Rules = std::map<std::string, v1::PushedRule>;

std::vector<std::string> Names(const LaidOutSpd& spd) {
  std::vector<std::string> v;
  for (const SpdEntry& e : spd.entries) v.push_back(e.name);
  return v;
}

TEST(SpdLayoutTest, LocalFirstThenControllerThenPushedByRankAndKey) {
  SpdLayout layout({Local(1, "198.18.30.0/24"), Local(2, "198.18.31.0/24")},
                   *IpAddress::Parse("198.18.0.254"));
  EXPECT_EQ(layout.first_pushed_id(), 4u);
  EXPECT_EQ(layout.controller_entry_id(), 3u);
  Rules rules = {{"b", Rule("b", "198.18.21.0/24", 1)},
                 {"a", Rule("a", "198.18.20.0/24", 2)},
                 {"c", Rule("c", "198.18.22.0/24", 1)}};
  auto laid = layout.Plan(rules);
  ASSERT_TRUE(laid.ok()) << laid.status();
  EXPECT_EQ(Names(*laid), (std::vector<std::string>{"local-1", "local-2", "controller", "web/b",
                                                     "web/c", "web/a"}));
  const SpdEntry& controller = laid->entries[2];
  EXPECT_EQ(controller.id, 3u);
  EXPECT_EQ(controller.action, SpdEntry::Action::kBypass);
  EXPECT_EQ(controller.local_prefix, "0.0.0.0/0");
  EXPECT_EQ(controller.remote_prefix, "198.18.0.254/32");
  EXPECT_EQ(laid->pushed_ids, (std::set<uint32_t>{4, 5, 6}));
  for (size_t i = 3; i < laid->entries.size(); ++i) EXPECT_GE(laid->entries[i].id, 4u);
  EXPECT_TRUE(ValidateSpd(laid->entries).ok());
}

TEST(SpdLayoutTest, Ipv6ControllerAndNoController) {
  SpdLayout v6({}, *IpAddress::Parse("fd00::fe"));
  auto laid = v6.Plan({});
  ASSERT_TRUE(laid.ok());
  ASSERT_EQ(laid->entries.size(), 1u);
  EXPECT_EQ(laid->entries[0].id, 1u);
  EXPECT_EQ(laid->entries[0].local_prefix, "::/0");
  EXPECT_EQ(laid->entries[0].remote_prefix, "fd00::fe/128");
  SpdLayout none({}, std::nullopt);
  EXPECT_TRUE(none.Plan({})->entries.empty());
  EXPECT_EQ(none.first_pushed_id(), 1u);
  EXPECT_EQ(none.controller_entry_id(), 0u);
}

TEST(SpdLayoutTest, IdsAreStableByKeyAndNotReusedSoon) {
  SpdLayout layout({Local(1, "198.18.30.0/24")}, std::nullopt);
  Rules rules = {{"a", Rule("a", "198.18.20.0/24")}, {"b", Rule("b", "198.18.21.0/24")}};
  auto first = layout.Plan(rules);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->ids, (std::map<std::string, uint32_t>{{"a", 2}, {"b", 3}}));
  // Not committed: planning again gives the same ids.
  EXPECT_EQ(layout.Plan(rules)->ids, first->ids);
  layout.Commit(*first);

  // b goes, c comes, a changes rank (moves first): a keeps 2, c gets 4
  // (b's 3 is not taken again right away).
  rules.erase("b");
  rules["c"] = Rule("c", "198.18.22.0/24", 0);
  rules["a"] = Rule("a", "198.18.20.0/24", 5);
  auto second = layout.Plan(rules);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->ids, (std::map<std::string, uint32_t>{{"a", 2}, {"c", 4}}));
  EXPECT_EQ(Names(*second), (std::vector<std::string>{"local-1", "web/c", "web/a"}));
  layout.Commit(*second);
  rules["b"] = Rule("b", "198.18.21.0/24");
  EXPECT_EQ(layout.Plan(rules)->ids.at("b"), 5u) << "a key that comes back is new";
}

TEST(SpdLayoutTest, IdsWrapRoundBelowTheReqidSpanAndRunOut) {
  SpdLayout layout({}, std::nullopt);
  Rules rules;
  for (uint32_t i = 0; i < SpdLayout::kMaxEntryId; ++i) {
    rules["k" + std::to_string(i)] = Rule("k" + std::to_string(i), "198.18.20.0/24");
  }
  auto full = layout.Plan(rules);
  ASSERT_TRUE(full.ok()) << full.status();
  uint32_t max_id = 0;
  for (const auto& [key, id] : full->ids) max_id = std::max(max_id, id);
  EXPECT_EQ(max_id, SpdLayout::kMaxEntryId);
  EXPECT_EQ(full->entries.size(), 1u) << "the same traffic many times is one entry";
  EXPECT_EQ(full->shadowed.size(), SpdLayout::kMaxEntryId - 1);
  rules["one-more"] = Rule("one-more", "198.18.21.0/24");
  EXPECT_EQ(layout.Plan(rules).status().code(), absl::StatusCode::kResourceExhausted);

  // Near the top the allocator wraps to the first pushed id.
  SpdLayout small({}, std::nullopt);
  Rules few;
  for (uint32_t i = 0; i < SpdLayout::kMaxEntryId - 1; ++i) {
    few["k" + std::to_string(i)] = Rule("k" + std::to_string(i), "198.18.20.0/24");
  }
  small.Commit(*small.Plan(few));  // ids 1..65534; next 65535
  few.erase("k0");                 // frees the id of k0
  few["x"] = Rule("x", "198.18.21.0/24");
  few["y"] = Rule("y", "198.18.22.0/24");
  auto wrapped = small.Plan(few);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->ids.at("x"), SpdLayout::kMaxEntryId);
  EXPECT_EQ(wrapped->ids.at("y"), 1u) << "k0's id: the one free id after the wrap";
}

TEST(SpdLayoutTest, SameTrafficAsAnEarlierEntryIsLeftOut) {
  SpdEntry local = Local(1, "198.18.20.0/24");  // a local exception for a pushed rule's traffic
  SpdLayout layout({local}, std::nullopt);
  Rules rules = {{"a", Rule("a", "198.18.20.0/24")}, {"b", Rule("b", "198.18.21.0/24")}};
  auto laid = layout.Plan(rules);
  ASSERT_TRUE(laid.ok());
  EXPECT_EQ(laid->shadowed, std::vector<std::string>{"a"});
  EXPECT_EQ(Names(*laid), (std::vector<std::string>{"local-1", "web/b"}));
  EXPECT_EQ(laid->pushed_ids, std::set<uint32_t>{laid->ids.at("b")});
  EXPECT_TRUE(laid->ids.count("a")) << "a keeps its id for when it matters again";
}

TEST(SpdLayoutTest, PushedRuleMapsToAnEntry) {
  v1::PushedRule r = Rule("k", "198.18.20.0/24");
  r.set_protocol(6);
  r.set_port(443);
  SpdEntry e = EntryForRule(r, 9);
  EXPECT_EQ(e.id, 9u);
  EXPECT_EQ(e.name, "web/k");
  EXPECT_EQ(e.local_prefix, "198.18.10.0/24");
  EXPECT_EQ(e.remote_prefix, "198.18.20.0/24");
  EXPECT_EQ(e.protocol, 6u);
  EXPECT_EQ(e.port, 443u);
  EXPECT_EQ(e.action, SpdEntry::Action::kProtect);
  EXPECT_EQ(e.setup_peer, "198.18.0.2");
  EXPECT_EQ(e.local_address, "198.18.0.1");
  r.set_action(v1::POLICY_ACTION_DISCARD);
  r.clear_name();
  e = EntryForRule(r, 9);
  EXPECT_EQ(e.action, SpdEntry::Action::kDiscard);
  EXPECT_EQ(e.name, "k");
  EXPECT_TRUE(e.setup_peer.empty());
  r.set_action(v1::POLICY_ACTION_BYPASS);
  EXPECT_EQ(EntryForRule(r, 9).action, SpdEntry::Action::kBypass);
  r.set_action(v1::POLICY_ACTION_UNSPECIFIED);
  EXPECT_EQ(EntryForRule(r, 9).action, SpdEntry::Action::kProtect);
}

TEST(SpdLayoutTest, ControllerAddressOnlyFromIpLiterals) {
  EXPECT_EQ(ControllerAddressOf("198.18.0.254:50051")->ToString(), "198.18.0.254");
  EXPECT_EQ(ControllerAddressOf("[fd00::fe]:50051")->ToString(), "fd00::fe");
  EXPECT_EQ(ControllerAddressOf("ipv4:198.18.0.254:50051")->ToString(), "198.18.0.254");
  EXPECT_EQ(ControllerAddressOf("dns:///198.18.0.254:50051")->ToString(), "198.18.0.254");
  EXPECT_EQ(ControllerAddressOf("fd00::fe")->ToString(), "fd00::fe");
  EXPECT_EQ(ControllerAddressOf("198.18.0.254")->ToString(), "198.18.0.254");
  EXPECT_FALSE(ControllerAddressOf("ikeless-controller:50051").has_value());
  EXPECT_FALSE(ControllerAddressOf("dns:///ctl.example:50051").has_value());
  EXPECT_FALSE(ControllerAddressOf("").has_value());
  EXPECT_FALSE(ControllerAddressOf("unix:/run/ikeless.sock").has_value());
}

}  // namespace
}  // namespace ikeless::agent
