#include "controller/intent_validation.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

v1::Intent TwoNodes() {
  v1::Intent intent;
  v1::Node* a = intent.add_nodes();
  a->set_name("gw-a");
  a->add_addresses("198.18.0.1");
  a->add_sites("198.18.10.0/24");
  v1::Node* b = intent.add_nodes();
  b->set_name("gw-b");
  b->add_addresses("198.18.0.2");
  b->add_sites("198.18.20.0/24");
  v1::Policy* p = intent.add_policies();
  p->set_name("mesh");
  p->mutable_a()->set_address("*");
  p->mutable_b()->set_address("*");
  p->mutable_lifetime()->set_hard_seconds(3600);
  return intent;
}

TEST(IntentValidation, GoodIntentIsNormalised) {
  v1::Intent intent = TwoNodes();
  intent.mutable_nodes(0)->set_revision(9);  // server-set: cleared
  ASSERT_TRUE(NormalizeIntent(&intent).ok());
  EXPECT_EQ(intent.nodes(0).revision(), 0u);
  EXPECT_EQ(intent.policies(0).lifetime().soft_seconds(), 3240u);  // 90 % default
}

TEST(IntentValidation, ErrorsStartWithThePathOfTheItem) {
  struct Case {
    const char* what;
    void (*edit)(v1::Intent*);
    absl::StatusCode code;
    const char* prefix;
  };
  const Case cases[] = {
      {"bad site", [](v1::Intent* i) { i->mutable_nodes(1)->set_sites(0, "198.18.20.1/24"); },
       absl::StatusCode::kInvalidArgument, "nodes[1] (gw-b): sites"},
      {"duplicate node", [](v1::Intent* i) { i->mutable_nodes(1)->set_name("gw-a"); },
       absl::StatusCode::kInvalidArgument, "nodes[1] (gw-a): name"},
      {"overlapping sites", [](v1::Intent* i) { i->mutable_nodes(1)->set_sites(0, "198.18.0.0/16"); },
       absl::StatusCode::kFailedPrecondition, "nodes[1] (gw-b): sites"},
      {"shared address", [](v1::Intent* i) { i->mutable_nodes(1)->set_addresses(0, "198.18.0.1"); },
       absl::StatusCode::kFailedPrecondition, "nodes[1] (gw-b)"},
      {"unknown cipher", [](v1::Intent* i) {
         auto* a = i->add_assertions();
         a->set_a("gw-a");
         a->set_b("gw-b");
         a->set_expect(v1::IntentAssertion::EXPECT_PROTECTED);
         a->set_encryption(static_cast<v1::EncryptionAlgorithm>(99));
       }, absl::StatusCode::kInvalidArgument, "assertions[0].encryption: unknown"},
      {"bad policy", [](v1::Intent* i) { i->mutable_policies(0)->mutable_lifetime()->set_hard_seconds(0); },
       absl::StatusCode::kInvalidArgument, "policies[0] (mesh): lifetime"},
      {"duplicate policy", [](v1::Intent* i) { *i->add_policies() = i->policies(0); },
       absl::StatusCode::kInvalidArgument, "policies[1] (mesh): name"},
      {"unknown node", [](v1::Intent* i) {
         auto* a = i->add_assertions();
         a->set_a("gw-a");
         a->set_b("gw-x");
         a->set_expect(v1::IntentAssertion::EXPECT_PROTECTED);
       }, absl::StatusCode::kInvalidArgument, "assertions[0].b: unknown node 'gw-x'"},
      {"no expectation", [](v1::Intent* i) {
         auto* a = i->add_assertions();
         a->set_a("gw-a");
         a->set_b("gw-b");
       }, absl::StatusCode::kInvalidArgument, "assertions[0].expect"},
  };
  for (const Case& c : cases) {
    v1::Intent intent = TwoNodes();
    c.edit(&intent);
    absl::Status s = NormalizeIntent(&intent);
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s;
    EXPECT_EQ(std::string(s.message()).rfind(c.prefix, 0), 0u) << c.what << ": " << s;
  }
}

}  // namespace
}  // namespace ikeless::controller
