// RunCommand for policies, associations, agents and watch against the
// scripted PolicyService of run_test_fixture.h: what is sent, what is
// printed, and the one-line errors.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tools/ipsecctl/run.h"
#include "tools/ipsecctl/run_test_fixture.h"

namespace ikeless::ipsecctl {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing_fixture::RunTest;

v1::Policy StoredPolicy() {
  v1::Policy p;
  p.set_name("web");
  p.mutable_a()->set_address("198.18.0.0/24");
  p.mutable_b()->set_address("*");
  p.set_mode(v1::MODE_TUNNEL);
  p.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  p.set_integrity(v1::INTEGRITY_NONE);
  p.mutable_lifetime()->set_hard_seconds(3600);
  p.mutable_lifetime()->set_soft_seconds(3000);
  p.set_priority(4);
  p.set_description("front ends");
  p.set_revision(7);
  p.set_create_time_unix(1800000000);
  p.set_update_time_unix(1800000100);
  return p;
}

TEST_F(RunTest, PolicyAddSendsTheOptionsAndPrintsTheCreatedPolicy) {
  Result r =
      Run("policy add web --between 198.18.0.0/24 * --encryption aes-cbc --integrity "
          "hmac-sha2-256-128 --selector tcp/443");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  absl::MutexLock lock(&service_.mu);
  const v1::Policy& sent = service_.create.policy();
  EXPECT_EQ(sent.name(), "web");
  EXPECT_EQ(sent.a().address(), "198.18.0.0/24");
  EXPECT_EQ(sent.b().address(), "*");
  EXPECT_EQ(sent.encryption(), v1::ENCRYPTION_AES_CBC);
  EXPECT_EQ(sent.selector().port(), 443u);
  EXPECT_EQ(sent.lifetime().hard_seconds(), 3600u);  // the default for add
  EXPECT_EQ(sent.mode(), v1::MODE_UNSPECIFIED);      // left to the controller
  EXPECT_EQ(sent.action(), v1::POLICY_ACTION_UNSPECIFIED);  // the controller's PROTECT
  EXPECT_NE(r.out.find("NAME                   web\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ACTION                 protect\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ENCRYPTION             aes-cbc\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REVISION               1\n"), std::string::npos) << r.out;
}

TEST_F(RunTest, PolicyActionIsSentAndShown) {
  Result add = Run("policy add dmz --between 198.18.9.0/24 * --action discard");
  EXPECT_EQ(add.code, kExitOk) << add.err;
  EXPECT_NE(add.out.find("ACTION                 discard\n"), std::string::npos) << add.out;
  {
    absl::MutexLock lock(&service_.mu);
    EXPECT_EQ(service_.create.policy().action(), v1::POLICY_ACTION_DISCARD);
    service_.policy = StoredPolicy();
  }
  Result update = Run("policy update web --action=bypass");
  EXPECT_EQ(update.code, kExitOk) << update.err;
  {
    absl::MutexLock lock(&service_.mu);
    EXPECT_EQ(service_.update.policy().action(), v1::POLICY_ACTION_BYPASS);
    EXPECT_EQ(service_.update.policy().priority(), 4);  // the rest as read
    service_.policy.set_action(v1::POLICY_ACTION_BYPASS);
  }
  Result list = Run("policy list");
  EXPECT_EQ(list.code, kExitOk) << list.err;
  std::string header = list.out.substr(0, list.out.find('\n'));
  size_t column = header.find("ACTION");
  ASSERT_NE(column, std::string::npos) << header;
  EXPECT_EQ(list.out.substr(header.size() + 1 + column, 7), "bypass ") << list.out;
  Result json = Run("policy get web -o json");
  EXPECT_NE(json.out.find("\"action\": \"POLICY_ACTION_BYPASS\""), std::string::npos)
      << json.out;
}

TEST_F(RunTest, PolicyUpdateChangesOnlyTheGivenOptionsAtTheRevisionRead) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.policy = StoredPolicy();
  }
  Result r = Run("-o json policy update web --lifetime 2h --description=");
  EXPECT_EQ(r.code, kExitOk) << r.err;

  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.calls, (std::vector<std::string>{"GetPolicy", "UpdatePolicy"}));
  EXPECT_EQ(service_.name, "web");
  EXPECT_EQ(service_.update.expected_revision(), 7u);
  v1::Policy expected = StoredPolicy();
  expected.mutable_lifetime()->set_hard_seconds(7200);
  expected.set_description("");
  expected.clear_revision();
  expected.clear_create_time_unix();
  expected.clear_update_time_unix();
  std::string diff;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(expected, service_.update.policy())) << diff;
  // The answer is printed as the JSON of the returned policy.
  v1::Policy printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &printed).ok()) << r.out;
  EXPECT_EQ(printed.revision(), 8u);
  EXPECT_EQ(printed.lifetime().hard_seconds(), 7200u);
}

TEST_F(RunTest, ConcurrentUpdateIsReportedAsAborted) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.policy = StoredPolicy();
    service_.update_status = grpc::Status(grpc::StatusCode::ABORTED, "policy web is at revision 8");
  }
  Result r = Run("policy update web --priority 1");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ipsecctl: policy update web: ABORTED: policy web is at revision 8 (revision 7 "
            "changed while updating; run the update again)\n");
}

TEST_F(RunTest, PolicyUpdateOfAMissingPolicyStopsAfterTheRead) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no policy named web");
  }
  Result r = Run("policy update web --priority 1");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "ipsecctl: policy update web: NOT_FOUND: no policy named web\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.calls, std::vector<std::string>{"GetPolicy"});
}

TEST_F(RunTest, ControllerRejectionIsOneLineWithTheCodeName) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "lifetime.soft_seconds must be below hard_seconds");
  }
  Result r = Run("policy add web --between * * --soft-lifetime 2h");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ipsecctl: policy add web: INVALID_ARGUMENT: lifetime.soft_seconds must be below "
            "hard_seconds\n");
}

TEST_F(RunTest, MultiLineServerMessageStaysOneLine) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.status = grpc::Status(grpc::StatusCode::INTERNAL, "first\nsecond\x1b[0m");
  }
  Result r = Run("policy list");
  EXPECT_EQ(r.err, "ipsecctl: policy list: INTERNAL: first second?[0m\n");
}

TEST_F(RunTest, UnreachableControllerNamesTheAddress) {
  // Nothing listens here any more.
  std::string address = address_;
  server_->Shutdown();
  Result r = Run("policy list", address);
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  std::string prefix =
      absl::StrCat("ipsecctl: policy list: UNAVAILABLE: controller at ", address, ": ");
  EXPECT_EQ(r.err.substr(0, prefix.size()), prefix) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(RunTest, SlowControllerHitsTheTimeout) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.hang = true;
  }
  Result r = Run("--timeout 0.2 agents list");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, absl::StrCat("ipsecctl: agents list: DEADLINE_EXCEEDED: controller at ",
                                address_, " did not answer within 200ms\n"));
}

TEST_F(RunTest, ListsPrintTheResponseObjectInJson) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.policy = StoredPolicy();
  }
  Result r = Run("policy list -o json");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  v1::ListPoliciesResponse printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &printed).ok()) << r.out;
  ASSERT_EQ(printed.policies_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(printed.policies(0), StoredPolicy()));
  EXPECT_NE(r.out.find("\"policies\""), std::string::npos);
}

TEST_F(RunTest, TablesForListsAndShow) {
  Result agents = Run("agents list");
  EXPECT_EQ(agents.code, kExitOk) << agents.err;
  EXPECT_EQ(agents.out.substr(0, agents.out.find('\n')),
            "NODE      ADDRESSES  CONNECTED  VERSION  DATAPATH  LAST-SEEN");
  Result assoc = Run("assoc list --address 198.18.1.1");
  EXPECT_EQ(assoc.code, kExitOk) << assoc.err;
  EXPECT_NE(assoc.out.find("42  half-open  198.18.1.1 id=1001 spi=0x000013ec (5100)  "
                           "198.18.2.1 id=- spi=-  mesh    -\n"),
            std::string::npos)
      << assoc.out;
  Result show = Run("assoc show 42");
  EXPECT_EQ(show.code, kExitOk) << show.err;
  EXPECT_EQ(show.out.substr(0, show.out.find('\n', show.out.find('\n') + 1) + 1),
            "ID             42\nSTATE          established\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.list_associations.address(), "198.18.1.1");
  EXPECT_EQ(service_.get_association.id(), 42u);
}

TEST_F(RunTest, AssocShowStatesInnerPrefixesWhenSetAndJsonAlways) {
  Result bare = Run("assoc show 42");
  EXPECT_EQ(bare.code, kExitOk) << bare.err;
  EXPECT_EQ(bare.out.find("TRAFFIC"), std::string::npos) << bare.out;
  Result bare_json = Run("assoc show 42 -o json");
  EXPECT_NE(bare_json.out.find("\"a_prefix\": \"\""), std::string::npos) << bare_json.out;
  EXPECT_NE(bare_json.out.find("\"b_prefix\": \"\""), std::string::npos) << bare_json.out;
  {
    absl::MutexLock lock(&service_.mu);
    service_.association.set_a_prefix("198.18.10.0/24");
    service_.association.set_b_prefix("198.18.20.0/24");
  }
  Result set = Run("assoc show 42");
  EXPECT_NE(set.out.find("TRAFFIC        198.18.10.0/24 <-> 198.18.20.0/24\n"), std::string::npos)
      << set.out;
  Result json = Run("assoc show 42 -o json");
  EXPECT_NE(json.out.find("\"a_prefix\": \"198.18.10.0/24\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"b_prefix\": \"198.18.20.0/24\""), std::string::npos) << json.out;
}

TEST_F(RunTest, DeletePrintsAConfirmationOrAnEmptyObject) {
  Result table = Run("policy delete web");
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_EQ(table.out, "policy web deleted\n");
  Result json = Run("-o json policy delete web");
  EXPECT_EQ(json.out, "{}\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.name, "web");
}

TEST_F(RunTest, WatchPrintsOneLinePerEvent) {
  {
    absl::MutexLock lock(&service_.mu);
    v1::Event e;
    e.set_kind(v1::Event::AGENT_CONNECTED);
    e.set_time_unix_micros(1800000000000000);
    e.set_subject("router-1");
    service_.events.push_back(e);
    e.set_kind(v1::Event::POLICY_DELETED);
    e.set_subject("web");
    service_.events.push_back(e);
  }
  Result table = Run("watch");
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_EQ(table.out,
            "2027-01-15T08:00:00.000000Z  agent-connected          router-1\n"
            "2027-01-15T08:00:00.000000Z  policy-deleted           web\n");

  Result json = Run("watch -o json");
  EXPECT_EQ(json.code, kExitOk) << json.err;
  std::vector<std::string> lines = absl::StrSplit(json.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << json.out;
  for (const std::string& line : lines) {
    v1::Event parsed;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok()) << line;
  }
}

TEST_F(RunTest, WatchPrintsTheSpdAndNodeEventsReadably) {
  {
    absl::MutexLock lock(&service_.mu);
    v1::Event e;
    e.set_time_unix_micros(1800000000000000);
    e.set_kind(v1::Event::NODE_CREATED);
    e.set_subject("gw-e");
    service_.events.push_back(e);
    e.set_kind(v1::Event::SPD_APPLIED);
    e.set_detail("revision 7, 12 rules");
    service_.events.push_back(e);
    e.set_kind(v1::Event::ASSOCIATION_TORN_DOWN);
    e.set_subject("42");
    e.set_detail("policy web deleted");
    service_.events.push_back(e);
  }
  Result r = Run("watch");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "2027-01-15T08:00:00.000000Z  node-created             gw-e\n"
            "2027-01-15T08:00:00.000000Z  spd-applied              gw-e  revision 7, 12 rules\n"
            "2027-01-15T08:00:00.000000Z  association-torn-down    42  policy web deleted\n");
}

TEST_F(RunTest, WatchEndedByTheControllerWithAnErrorFails) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.events.emplace_back();
    service_.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "controller shutting down");
  }
  Result r = Run("watch");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  EXPECT_EQ(r.err, absl::StrCat("ipsecctl: watch: UNAVAILABLE: controller at ", address_,
                                ": controller shutting down\n"));
}

}  // namespace
}  // namespace ikeless::ipsecctl
