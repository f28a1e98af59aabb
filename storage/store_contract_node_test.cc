// The NodeStore contract on every backend (see store_contract_test.cc).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/store_contract_test.h"

namespace ikeless::storage::store_test {
namespace {

v1::Node MakeNode(const std::string& name, const std::string& address,
                  std::vector<std::string> sites = {}) {
  v1::Node n;
  n.set_name(name);
  n.add_addresses(address);
  for (const std::string& s : sites) n.add_sites(s);
  n.set_create_time_unix(1000);
  n.set_update_time_unix(1000);
  return n;
}

TEST_P(StoreContractTest, NodeCreateGetListUpdateDelete) {
  NodeStore& nodes = *stores_.nodes;
  v1::Node b = MakeNode("gw-b", "198.18.0.2", {"198.18.20.0/24", "fd00:20::/64"});
  b.mutable_status()->set_connected(true);  // never stored
  absl::StatusOr<v1::Node> created = nodes.CreateNode(b);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->revision(), 1u);
  EXPECT_FALSE(created->has_status());
  ASSERT_TRUE(nodes.CreateNode(MakeNode("gw-a", "198.18.0.1")).ok());
  EXPECT_EQ(nodes.CreateNode(MakeNode("gw-a", "198.18.0.9")).status().code(),
            absl::StatusCode::kAlreadyExists);

  absl::StatusOr<std::vector<v1::Node>> list = nodes.ListNodes();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name(), "gw-a");
  EXPECT_EQ((*list)[1].sites_size(), 2);
  EXPECT_EQ((*list)[1].sites(1), "fd00:20::/64");

  v1::Node changed = MakeNode("gw-b", "198.18.0.2", {"198.18.30.0/24"});
  changed.set_create_time_unix(5000);  // ignored: kept from the create
  changed.set_update_time_unix(5000);
  EXPECT_EQ(nodes.UpdateNode(changed, 7).status().code(), absl::StatusCode::kAborted);
  absl::StatusOr<v1::Node> updated = nodes.UpdateNode(changed, 1);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->revision(), 2u);
  EXPECT_EQ(updated->create_time_unix(), 1000);
  absl::StatusOr<v1::Node> got = nodes.GetNode("gw-b");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->revision(), 2u);
  ASSERT_EQ(got->sites_size(), 1);
  EXPECT_EQ(got->sites(0), "198.18.30.0/24");
  EXPECT_EQ(got->update_time_unix(), 5000);

  EXPECT_EQ(nodes.UpdateNode(MakeNode("gw-x", "198.18.0.7"), 0).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(nodes.DeleteNode("gw-b").ok());
  EXPECT_EQ(nodes.GetNode("gw-b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nodes.DeleteNode("gw-b").code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, SpdRevisionsOnlyGrow) {
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<uint64_t> r = stores_.nodes->NextSpdRevision();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GT(*r, last);
    last = *r;
  }
}

v1::Policy MakePolicy(const std::string& name, const std::string& a, int32_t priority) {
  v1::Policy p;
  p.set_name(name);
  p.mutable_a()->set_address(a);
  p.mutable_b()->set_address("*");
  p.set_priority(priority);
  p.mutable_lifetime()->set_hard_seconds(3600);
  p.set_create_time_unix(1000);
  return p;
}

TEST_P(StoreContractTest, WriteIntentPutsAndDeletesNodesAndPoliciesTogether) {
  ASSERT_TRUE(stores_.nodes->CreateNode(MakeNode("gw-a", "198.18.0.1")).ok());
  ASSERT_TRUE(stores_.nodes->CreateNode(MakeNode("gw-b", "198.18.0.2")).ok());
  ASSERT_TRUE(stores_.policies->CreatePolicy(MakePolicy("old", "198.18.0.1", 1)).ok());
  ASSERT_TRUE(stores_.policies->CreatePolicy(MakePolicy("kept", "198.18.0.2", 1)).ok());

  IntentWrite write;
  write.put_nodes.push_back(MakeNode("gw-a", "198.18.0.1", {"198.18.10.0/24"}));  // replace
  write.put_nodes.push_back(MakeNode("gw-c", "198.18.0.3"));                      // add
  write.delete_nodes.push_back("gw-b");
  v1::Policy kept = MakePolicy("kept", "198.18.0.2", 7);
  kept.set_create_time_unix(9999);  // ignored: kept from the create
  write.put_policies.push_back(kept);
  write.put_policies.push_back(MakePolicy("new", "198.18.0.3", 1));
  write.delete_policies.push_back("old");
  ASSERT_TRUE(stores_.intent->WriteIntent(write).ok());

  absl::StatusOr<std::vector<v1::Node>> nodes = stores_.nodes->ListNodes();
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].name(), "gw-a");
  EXPECT_EQ((*nodes)[0].revision(), 2u);
  ASSERT_EQ((*nodes)[0].sites_size(), 1);
  EXPECT_EQ((*nodes)[1].name(), "gw-c");
  EXPECT_EQ((*nodes)[1].revision(), 1u);

  absl::StatusOr<std::vector<v1::Policy>> policies = stores_.policies->ListPolicies();
  ASSERT_TRUE(policies.ok()) << policies.status();
  ASSERT_EQ(policies->size(), 2u);
  EXPECT_EQ((*policies)[0].name(), "kept");
  EXPECT_EQ((*policies)[0].revision(), 2u);
  EXPECT_EQ((*policies)[0].priority(), 7);
  EXPECT_EQ((*policies)[0].create_time_unix(), 1000);
  EXPECT_EQ((*policies)[1].name(), "new");
  EXPECT_EQ((*policies)[1].revision(), 1u);
  // S21 sees the written policies at once (the SQLite backend's cache).
  auto a = IpAddress::Parse("198.18.0.3");
  auto b = IpAddress::Parse("198.18.0.9");
  absl::StatusOr<std::optional<v1::Policy>> match =
      stores_.policies->MatchPolicy(*a, *b, v1::Selector());
  ASSERT_TRUE(match.ok()) << match.status();
  ASSERT_TRUE(match->has_value());
  EXPECT_EQ((*match)->name(), "new");
}

TEST_P(StoreContractTest, WriteIntentIsAllOrNothing) {
  ASSERT_TRUE(stores_.nodes->CreateNode(MakeNode("gw-a", "198.18.0.1")).ok());
  ASSERT_TRUE(stores_.policies->CreatePolicy(MakePolicy("p", "198.18.0.1", 1)).ok());
  IntentWrite write;
  write.put_nodes.push_back(MakeNode("gw-c", "198.18.0.3"));
  write.put_policies.push_back(MakePolicy("p", "198.18.0.1", 5));
  write.delete_policies.push_back("p2");  // absent: the whole write fails
  EXPECT_EQ(stores_.intent->WriteIntent(write).code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(stores_.nodes->GetNode("gw-c").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<v1::Policy> p = stores_.policies->GetPolicy("p");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->revision(), 1u);
  EXPECT_EQ(p->priority(), 1);
}

}  // namespace
}  // namespace ikeless::storage::store_test
