// NetlinkRouteTable on this machine's kernel, in a network namespace of the
// test's own (datapath/testing/private_netns.h): routes into a device in
// the main and the agent's table, IPv4 and IPv6, the `not fwmark` rules,
// and RouteSync removing everything it made. Root only; skipped otherwise.
#include "agent/netlink_route_table.h"

#include <string>

#include "agent/route_sync.h"
#include "datapath/testing/private_netns.h"
#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using datapath::testing::Shell;

const std::string kSetup = std::string(datapath::testing::kVethSetup) +
                           " && ip -6 addr add fd00:49::1/64 dev v0 nodad";

class NetlinkRouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = datapath::testing::EnterPrivateNetns(kSetup);
    if (!why.empty()) GTEST_SKIP() << why;
    auto t = NetlinkRouteTable::Open("v0");
    ASSERT_TRUE(t.ok()) << t.status();
    table_ = std::move(*t);
  }
  std::unique_ptr<NetlinkRouteTable> table_;
};

TEST_F(NetlinkRouteTableTest, RoutesAreAddedReplacedAndRemoved) {
  const Route main4{"198.18.20.0/24", kMainRouteTable, ""};
  const Route host4{"198.18.0.2/32", 485, "198.18.49.1"};
  const Route host6{"fd00:50::2/128", 485, "fd00:49::1"};
  for (const Route& r : {main4, host4, host6}) ASSERT_TRUE(table_->ReplaceRoute(r).ok()) << r.prefix;
  ASSERT_TRUE(table_->ReplaceRoute(main4).ok()) << "a replace, not an error";
  std::string shown = Shell("ip route show table main");
  EXPECT_NE(shown.find("198.18.20.0/24 dev v0 proto 229 scope link"), std::string::npos) << shown;
  shown = Shell("ip route show table 485");
  EXPECT_NE(shown.find("198.18.0.2 dev v0 proto 229 scope link src 198.18.49.1"), std::string::npos)
      << shown;
  shown = Shell("ip -6 route show table 485");
  EXPECT_NE(shown.find("fd00:50::2 dev v0 proto 229 src fd00:49::1"), std::string::npos) << shown;

  for (const Route& r : {main4, host4, host6}) ASSERT_TRUE(table_->DeleteRoute(r).ok()) << r.prefix;
  EXPECT_EQ(table_->DeleteRoute(main4).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Shell("ip route show table 485; ip -6 route show table 485"), "");
  EXPECT_EQ(Shell("ip route show table main | grep -c 198.18.20"), "0\n");

  // Another daemon's route for the same prefix is not ours to remove.
  Shell("ip route add 198.18.21.0/24 dev v0");
  EXPECT_EQ(table_->DeleteRoute({"198.18.21.0/24", kMainRouteTable, ""}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Shell("ip route show 198.18.21.0/24 | grep -c v0"), "1\n");
  Shell("ip route del 198.18.21.0/24");
}

TEST_F(NetlinkRouteTableTest, NotFwmarkRulesPerFamily) {
  const RouteRule r4{false, 0x1e5, 485, 485};
  const RouteRule r6{true, 0x1e5, 485, 485};
  ASSERT_TRUE(table_->AddRule(r4).ok());
  ASSERT_TRUE(table_->AddRule(r6).ok());
  EXPECT_EQ(table_->AddRule(r4).code(), absl::StatusCode::kAlreadyExists);
  std::string shown = Shell("ip rule show");
  EXPECT_NE(shown.find("485:\tnot from all fwmark 0x1e5 lookup 485"), std::string::npos) << shown;
  shown = Shell("ip -6 rule show");
  EXPECT_NE(shown.find("485:\tnot from all fwmark 0x1e5 lookup 485"), std::string::npos) << shown;
  ASSERT_TRUE(table_->DeleteRule(r4).ok());
  ASSERT_TRUE(table_->DeleteRule(r6).ok());
  EXPECT_EQ(table_->DeleteRule(r4).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Shell("ip rule show | grep -c 'lookup 485'; ip -6 rule show | grep -c 'lookup 485'"),
            "0\n0\n");
}

// Unmarked packets to a host-to-host peer take the TUN route; the engine's
// marked ones the link (`ip route get` asks the kernel which).
TEST_F(NetlinkRouteTableTest, RouteSyncRoutesUnmarkedOnlyAndCleansUp) {
  // Stands for the engine's TUN.
  Shell("ip link add ikltun0 type veth peer name ikltun1 && ip link set ikltun0 up && "
        "ip link set ikltun1 up");
  auto tun = NetlinkRouteTable::Open("ikltun0");
  ASSERT_TRUE(tun.ok()) << tun.status();
  Shell("ip route add 198.18.0.0/24 dev v0");
  RoutingOptions o;
  o.table = 485;
  o.mark = 0x1e5;
  o.rule_priority = 485;
  RouteSync sync(tun->get(), o);
  RoutingPlan plan;
  plan.routes = {{"198.18.0.2/32", 485, "198.18.49.1"}};
  plan.rules = {{false, 0x1e5, 485, 485}};
  ASSERT_TRUE(sync.Apply(plan).ok());
  EXPECT_NE(Shell("ip route get 198.18.0.2").find("dev ikltun0"), std::string::npos);
  EXPECT_NE(Shell("ip route get 198.18.0.2 mark 0x1e5").find("dev v0"), std::string::npos);
  ASSERT_TRUE(sync.Clear().ok());
  EXPECT_NE(Shell("ip route get 198.18.0.2").find("dev v0"), std::string::npos);
  EXPECT_EQ(Shell("ip rule show | grep -c 'lookup 485'"), "0\n");
  Shell("ip route del 198.18.0.0/24; ip link del ikltun0");
}

}  // namespace
}  // namespace ikeless::agent
