#include "controller/node_validation.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

v1::Node Node(const std::string& name, std::vector<std::string> addresses,
              std::vector<std::string> sites = {}) {
  v1::Node n;
  n.set_name(name);
  for (auto& a : addresses) n.add_addresses(a);
  for (auto& s : sites) n.add_sites(s);
  return n;
}

std::string Error(v1::Node n) {
  absl::Status s = NormalizeNode(&n);
  return s.ok() ? "" : std::string(s.message());
}

TEST(NodeValidation, CanonicalAddressesAndCidrSites) {
  v1::Node n = Node("gw-a", {"fd00:0::0001", "198.18.0.1"}, {"198.18.10.0/24", "fd00:10::/64", "198.18.11.7"});
  n.set_revision(9);
  n.mutable_status()->set_connected(true);
  ASSERT_TRUE(NormalizeNode(&n).ok());
  EXPECT_EQ(n.addresses(0), "fd00::1");
  EXPECT_EQ(n.sites(2), "198.18.11.7/32");
  EXPECT_EQ(n.revision(), 0u);
  EXPECT_FALSE(n.has_status());
}

TEST(NodeValidation, ErrorsNameTheField) {
  EXPECT_NE(Error(Node("gw a", {"198.18.0.1"})).find("node.name"), std::string::npos);
  EXPECT_EQ(Error(Node("gw-a", {})), "node.addresses: name at least one address");
  EXPECT_NE(Error(Node("gw-a", {"198.18.0.1", "nope"})).find("node.addresses[1]"), std::string::npos);
  EXPECT_NE(Error(Node("gw-a", {"198.18.0.1", "198.18.0.1"})).find("listed twice"), std::string::npos);
  EXPECT_NE(Error(Node("gw-a", {"198.18.0.1"}, {"198.18.10.1/24"})).find("node.sites[0]"),
            std::string::npos);
  EXPECT_NE(Error(Node("gw-a", {"198.18.0.1"}, {"*"})).find("not '*'"), std::string::npos);
  EXPECT_EQ(Error(Node("gw-a", {"198.18.0.1"}, {"198.18.0.0/16", "198.18.10.0/24"})),
            "node.sites[1]: 198.18.10.0/24 overlaps 198.18.0.0/16");
}

TEST(NodeValidation, FleetRulesNameTheOtherNode) {
  std::vector<v1::Node> fleet = {Node("gw-a", {"198.18.0.1"}, {"198.18.10.0/24"}),
                                 Node("gw-b", {"198.18.0.2"}, {"198.18.20.0/24"})};
  EXPECT_TRUE(CheckAgainstFleet(Node("gw-c", {"198.18.0.3"}, {"198.18.30.0/24"}), fleet).ok());
  // An update of gw-a is checked against the others only.
  EXPECT_TRUE(CheckAgainstFleet(Node("gw-a", {"198.18.0.1"}, {"198.18.10.0/23"}), fleet).ok());
  absl::Status s = CheckAgainstFleet(Node("gw-c", {"198.18.0.2"}), fleet);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "node.addresses: 198.18.0.2 belongs to node 'gw-b' already");
  s = CheckAgainstFleet(Node("gw-c", {"198.18.0.3"}, {"198.18.20.128/25"}), fleet);
  EXPECT_EQ(s.message(), "node.sites: 198.18.20.128/25 overlaps 198.18.20.0/24 of node 'gw-b'");
}

}  // namespace
}  // namespace ikeless::controller
