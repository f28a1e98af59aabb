// IntentService over the in-memory store with fake agent sessions, shared
// by intent_service_test.cc (single records) and intent_service_plan_test.cc
// (plan/apply).
#ifndef IKELESS_CONTROLLER_INTENT_SERVICE_TEST_FIXTURE_H_
#define IKELESS_CONTROLLER_INTENT_SERVICE_TEST_FIXTURE_H_

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controller/fake_agent_session.h"
#include "controller/intent_service.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::controller::testing_fixture {

inline v1::Node Node(const std::string& name, const std::string& address, const std::string& site) {
  v1::Node n;
  n.set_name(name);
  n.add_addresses(address);
  n.add_sites(site);
  return n;
}

class IntentServiceTest : public ::testing::Test {
 protected:
  IntentServiceTest()
      : revocations_(absl::StrCat(std::getenv("TEST_TMPDIR"), "/revoked-",
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        dispatcher_(&registry_, &events_, &clock_, Dispatcher::Options()) {
    IntentService::Deps d;
    d.nodes = &store_;
    d.policies = &store_;
    d.associations = &store_;
    d.registry = &registry_;
    d.dispatcher = &dispatcher_;
    d.events = &events_;
    d.revocations = &revocations_;
    d.clock = &clock_;
    d.intent_store = &store_;
    intent_ = std::make_unique<IntentService>(d);
    EXPECT_TRUE(intent_->Load().ok());
  }

  std::shared_ptr<FakeAgentSession> Connect(const std::string& node, const std::string& address) {
    auto s = std::make_shared<FakeAgentSession>(node, std::vector<std::string>{address});
    EXPECT_TRUE(registry_.Register(s).ok());
    intent_->OnConnected(node);
    return s;
  }

  void AddMesh() {
    v1::Policy p;
    p.set_name("mesh");
    p.mutable_a()->set_address("*");
    p.mutable_b()->set_address("*");
    p.set_action(v1::POLICY_ACTION_PROTECT);
    p.mutable_lifetime()->set_hard_seconds(3600);
    ASSERT_TRUE(store_.CreatePolicy(p).ok());
    ASSERT_TRUE(intent_->PoliciesChanged().ok());
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  SessionRegistry registry_;
  EventHub events_;
  RevocationList revocations_;
  Dispatcher dispatcher_;
  std::unique_ptr<IntentService> intent_;
};

}  // namespace ikeless::controller::testing_fixture

#endif  // IKELESS_CONTROLLER_INTENT_SERVICE_TEST_FIXTURE_H_
