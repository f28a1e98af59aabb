// docs/examples/fleet.yaml, which the README shows, is a valid fleet file:
// it parses, the controller's checks accept it, and its assertions hold.
#include <fstream>
#include <sstream>

#include "controller/intent_plan.h"
#include "controller/intent_validation.h"
#include "gtest/gtest.h"
#include "tools/ipsecctl/fleet_file.h"

namespace ikeless {
namespace {

TEST(FleetExample, ParsesValidatesAndItsAssertionsHold) {
  std::ifstream in("docs/examples/fleet.yaml");
  ASSERT_TRUE(in) << "docs/examples/fleet.yaml not found in the runfiles";
  std::stringstream text;
  text << in.rdbuf();
  auto file = ipsecctl::ParseFleetFile(text.str(), "fleet.yaml");
  ASSERT_TRUE(file.ok()) << file.status();
  v1::Intent intent = file->intent;
  ASSERT_TRUE(controller::NormalizeIntent(&intent).ok());
  controller::IntentSnapshot desired;
  desired.nodes.assign(intent.nodes().begin(), intent.nodes().end());
  desired.policies.assign(intent.policies().begin(), intent.policies().end());
  auto results = controller::CheckAssertions(desired, intent.assertions());
  ASSERT_EQ(results.size(), 2u);
  for (const v1::AssertionResult& r : results) EXPECT_TRUE(r.ok()) << r.index() << ": " << r.detail();
  // Applied to an empty controller it adds every node and policy.
  controller::IntentDiff diff = controller::DiffIntent({}, desired);
  EXPECT_EQ(diff.write.put_nodes.size(), 4u);
  EXPECT_EQ(diff.write.put_policies.size(), 2u);
}

}  // namespace
}  // namespace ikeless
