// RunCommand for `plan -f`, `apply -f` and `export` against the scripted
// PolicyService of run_test_fixture.h: the file is checked before any call,
// the plan is printed, a failing assertion or a controller error about an
// item names the file's line, and export writes a file plan can read.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tools/ipsecctl/fleet_file.h"
#include "tools/ipsecctl/run.h"
#include "tools/ipsecctl/run_test_fixture.h"

namespace ikeless::ipsecctl {
namespace {

using testing_fixture::RunTest;

constexpr char kFleet[] = R"(nodes:
  - name: gw-a
    addresses: [198.18.0.1]
    sites: [198.18.10.0/24]
  - name: gw-b
    addresses: [198.18.0.2]
    sites: [198.18.20.0/24]
policies:
  - name: mesh
    between: [198.18.0.0/29, 198.18.0.0/29]
assertions:
  - between: [gw-a, gw-b]
    expect: protected
)";

class IntentRunTest : public RunTest {
 protected:
  std::string File(const std::string& name, const std::string& text) {
    std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
    std::ofstream(path) << text;
    return path;
  }
  void Answer(const v1::IntentPlan& plan, grpc::Status status = grpc::Status::OK) {
    absl::MutexLock lock(&service_.mu);
    service_.plan = plan;
    service_.status = status;
  }
  std::vector<std::string> Calls() {
    absl::MutexLock lock(&service_.mu);
    return service_.calls;
  }
  v1::ApplyIntentRequest Sent() {
    absl::MutexLock lock(&service_.mu);
    return service_.apply;
  }
};

v1::IntentPlan SomePlan(bool assertion_ok) {
  v1::IntentPlan plan;
  plan.set_state("00112233aabbccdd-44556677eeff0011");
  v1::IntentChange* c = plan.add_changes();
  c->set_kind(v1::IntentChange::POLICY);
  c->set_op(v1::IntentChange::CHANGE);
  c->set_name("mesh");
  c->add_fields("encryption");
  v1::AssociationImpact* a = plan.add_associations();
  a->set_id(7);
  a->set_action(v1::AssociationImpact::REKEY);
  a->set_a("198.18.0.1");
  a->set_b("198.18.0.2");
  a->set_reason("policy mesh revision 2 changed SA parameters");
  v1::AssertionResult* r = plan.add_assertions();
  r->set_ok(assertion_ok);
  r->set_detail(assertion_ok ? "protect mesh 2 rules" : "198.18.0.1/32 <-> 198.18.0.2/32 is not protected");
  return plan;
}

TEST_F(IntentRunTest, PlanPrintsTheChangesAndTheApplyCommand) {
  const std::string path = File("fleet.yaml", kFleet);
  Answer(SomePlan(true));
  Result r = Run(absl::StrCat("plan -f ", path));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("~ policy mesh (encryption)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rekey 7 198.18.0.1 <-> 198.18.0.2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(absl::StrCat("ok   ", path, ":12: assertions[0]")), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(absl::StrCat("ipsecctl apply -f ", path,
                                    " --state 00112233aabbccdd-44556677eeff0011")),
            std::string::npos)
      << r.out;
  EXPECT_EQ(Sent().intent().nodes_size(), 2);
}

TEST_F(IntentRunTest, FailingAssertionExitsOneNamingTheLine) {
  const std::string path = File("fleet.yaml", kFleet);
  Answer(SomePlan(false));
  Result r = Run(absl::StrCat("plan -f ", path));
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.out.find("FAIL "), std::string::npos) << r.out;  // the plan is still shown
  EXPECT_EQ(r.err, absl::StrCat("ipsecctl: plan: FAILED_PRECONDITION: ", path,
                                ":12: assertions[0]: does not hold: 198.18.0.1/32 <-> "
                                "198.18.0.2/32 is not protected\n"));
}

TEST_F(IntentRunTest, ApplySendsTheStateAndLocatesTheControllersError) {
  const std::string path = File("fleet.yaml", kFleet);
  Answer(v1::IntentPlan(),
         grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      "nodes[1] (gw-b): sites: 198.18.20.0/24 overlaps 198.18.16.0/20 of node 'x'"));
  Result r = Run(absl::StrCat("apply -f ", path, " --state abc-def"));
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(Sent().expected_state(), "abc-def");
  EXPECT_NE(r.err.find(absl::StrCat(path, ":7: nodes[1] (gw-b): sites:")), std::string::npos)
      << r.err;
}

TEST_F(IntentRunTest, ApplyWarningsFailTheCommandAfterPrintingThePlan) {
  const std::string path = File("fleet.yaml", kFleet);
  v1::IntentPlan plan = SomePlan(true);
  plan.set_applied(true);
  plan.add_warnings("revoking node:gw-c: disk full");
  Answer(plan);
  Result r = Run(absl::StrCat("apply -f ", path));
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.out.find("WARNING: revoking node:gw-c: disk full"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("applied, but: revoking node:gw-c"), std::string::npos) << r.err;
}

TEST_F(IntentRunTest, BadFileMakesNoCall) {
  const std::string path = File("bad.yaml", "nodes: []\npolicies:\n  - name: p\n    oops: 1\n");
  Result r = Run(absl::StrCat("apply -f ", path));
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find(absl::StrCat(path, ":4: policies[0]: unknown key 'oops'")),
            std::string::npos)
      << r.err;
  r = Run("plan -f /nonexistent/fleet.yaml");
  EXPECT_NE(r.err.find("/nonexistent/fleet.yaml: cannot read"), std::string::npos) << r.err;
  r = Run(absl::StrCat("plan -f ", std::getenv("TEST_TMPDIR")));
  EXPECT_NE(r.err.find("not a file"), std::string::npos) << r.err;
  EXPECT_TRUE(Calls().empty());
}

TEST_F(IntentRunTest, ExportWritesAFilePlanReads) {
  {
    absl::MutexLock lock(&service_.mu);
    v1::Node n;
    n.set_name("gw-a");
    n.add_addresses("198.18.0.1");
    n.add_sites("198.18.10.0/24");
    service_.nodes = {n};
    service_.policy.set_name("mesh");
    service_.policy.mutable_a()->set_address("*");
    service_.policy.mutable_b()->set_address("*");
    service_.policy.mutable_lifetime()->set_hard_seconds(3600);
  }
  Result r = Run("export");
  ASSERT_EQ(r.code, 0) << r.err;
  auto file = ParseFleetFile(r.out, "exported.yaml");
  ASSERT_TRUE(file.ok()) << file.status() << "\n" << r.out;
  ASSERT_EQ(file->intent.nodes_size(), 1);
  EXPECT_EQ(file->intent.nodes(0).sites(0), "198.18.10.0/24");
  ASSERT_EQ(file->intent.policies_size(), 1);
  EXPECT_EQ(file->intent.policies(0).a().address(), "*");
}

}  // namespace
}  // namespace ikeless::ipsecctl
