// The Hello's report: each association once, setups by (id, SPI), and no
// report at all rather than one the controller would refuse.
#include "agent/hello_builder.h"

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

v1::Hello Identity() {
  v1::Hello h;
  h.set_node_name("gw-a");
  h.add_addresses("198.18.0.1");
  h.set_agent_version("test");
  return h;
}

SetupInfo InFlight(uint64_t id, uint32_t spi) {
  SetupInfo s;
  s.request_id = id;
  s.spi = spi;
  return s;
}

TEST(HelloBuilder, ReportsEachAssociationOnceAndEverySetup) {
  v1::Hello h = BuildHello(Identity(), {7, 3, 7, 0, 3}, {InFlight(2, 5000), InFlight(1, 4000)});
  EXPECT_EQ(h.node_name(), "gw-a");
  EXPECT_EQ(h.addresses(0), "198.18.0.1");
  EXPECT_TRUE(h.reconcile());
  ASSERT_EQ(h.installed_associations_size(), 2);
  EXPECT_EQ(h.installed_associations(0), 3u);
  EXPECT_EQ(h.installed_associations(1), 7u);
  ASSERT_EQ(h.in_flight_size(), 2);
  EXPECT_EQ(h.in_flight(0).request_id(), 1u);
  EXPECT_EQ(h.in_flight(0).spi(), 4000u);
  EXPECT_EQ(h.in_flight(1).request_id(), 2u);
}

TEST(HelloBuilder, AFreshAgentReportsThatItHasNothing) {
  v1::Hello h = BuildHello(Identity(), {}, {});
  EXPECT_TRUE(h.reconcile());  // "nothing", not "unknown"
  EXPECT_EQ(h.installed_associations_size(), 0);
}

TEST(HelloBuilder, TooMuchToReportSendsNoReport) {
  std::vector<uint64_t> ids;
  for (uint64_t i = 1; i <= kMaxHelloReport + 1; ++i) ids.push_back(i);
  v1::Hello h = BuildHello(Identity(), ids, {});
  EXPECT_FALSE(h.reconcile());
  EXPECT_EQ(h.installed_associations_size(), 0);
  ids.pop_back();
  EXPECT_TRUE(BuildHello(Identity(), ids, {}).reconcile());
  // A stale report in the identity is never passed on.
  v1::Hello stale = Identity();
  stale.set_reconcile(true);
  stale.add_installed_associations(99);
  ids.push_back(kMaxHelloReport + 1);
  v1::Hello again = BuildHello(stale, ids, {});
  EXPECT_FALSE(again.reconcile());
  EXPECT_EQ(again.installed_associations_size(), 0);
}

}  // namespace
}  // namespace ikeless::agent
