// FIG. 18 S35 -> S41 on a real kernel: the agent, configured with `xfrm {}`,
// programs kernel XFRM through the datapath factory; a real first packet
// makes the kernel send ACQUIRE, and the setup client sends the controller
// an SaRequest for that SPD rule. Runs in a network namespace of the test's
// own; root only, skipped otherwise.
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "agent/agent_core.h"
#include "agent/config.h"
#include "agent/datapath_factory.h"
#include "agent/fake_controller_link.h"
#include "common/clock.h"
#include "common/random.h"
#include "datapath/testing/private_netns.h"
#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

constexpr char kConfig[] = R"(
node_name: "gw-a"
controller: "127.0.0.1:1"
insecure: true
addresses: "198.18.49.1"
xfrm {}
spd { name: "dns" local: "198.18.49.0/24" remote: "198.18.50.0/24" action: BYPASS protocol: 17 port: 53 }
spd { name: "to-b" local: "198.18.49.0/24" remote: "198.18.50.0/24" setup_peer: "198.18.50.1" }
)";

TEST(AgentXfrm, S35_S41_FirstPacketReachesTheSetupClient) {
  const std::string& why = datapath::testing::EnterPrivateNetns(
      std::string(datapath::testing::kVethSetup) + " && ip route add 198.18.50.0/24 dev v0");
  if (!why.empty()) GTEST_SKIP() << why;
  auto config = ParseConfig(kConfig, "test.conf");
  ASSERT_TRUE(config.ok()) << config.status();
  auto dp = MakeDatapath(config->config);
  ASSERT_TRUE(dp.ok()) << dp.status();
  EXPECT_EQ((*dp)->capabilities().datapath(), "xfrm");
  FakeControllerLink link;
  FakeClock clock;
  FakeRandom random(3);
  AgentCore core({}, config->spd, dp->get(), &link, &clock, &random);
  ASSERT_TRUE(core.Start().ok());

  // DNS is BYPASS: no request for it.
  datapath::testing::SendUdp("198.18.49.1", "198.18.50.1", 53);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_TRUE(link.requests().empty());

  datapath::testing::SendUdp("198.18.49.1", "198.18.50.1", 9);
  absl::Time deadline = absl::Now() + absl::Seconds(3);
  while (link.requests().empty() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  auto requests = link.requests();
  ASSERT_EQ(requests.size(), 1u) << "the kernel's ACQUIRE did not reach the setup client";
  EXPECT_EQ(requests[0].source(), "198.18.49.1");  // S41: request source = our node address
  EXPECT_EQ(requests[0].peer(), "198.18.50.1");    // FIG. 15 "opposite party for setting request"
  EXPECT_GE(requests[0].spi(), 256u);
  EXPECT_NE(requests[0].id(), 0u);
}

}  // namespace
}  // namespace ikeless::agent
