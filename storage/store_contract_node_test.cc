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

}  // namespace
}  // namespace ikeless::storage::store_test
