// RunCommand for `nodes` and `agents enroll --site` against the scripted
// PolicyService of run_test_fixture.h: the node records sent (nodes set's
// read-modify-write at the revision read), what is printed, and the
// one-line errors.
#include <string>
#include <vector>

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
using Strings = std::vector<std::string>;

Strings ListOf(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return Strings(field.begin(), field.end());
}

// A node as GetNode returns it: with its revision, times and status.
v1::Node StoredNode() {
  v1::Node n;
  n.set_name("gw-e");
  n.add_addresses("198.18.0.5");
  n.add_sites("198.18.50.0/24");
  n.add_sites("fd00:50::/64");
  n.set_description("edge");
  n.set_revision(7);
  n.set_create_time_unix(1800000000);
  n.set_update_time_unix(1800000100);
  v1::NodeStatus* s = n.mutable_status();
  s->set_connected(true);
  s->set_spd_revision(12);
  s->set_applied_revision(12);
  s->set_in_sync(true);
  s->set_spd_rules(4);
  s->set_datapath("xfrm");
  return n;
}

class NodesRunTest : public RunTest {
 protected:
  void Store(const v1::Node& node) {
    absl::MutexLock lock(&service_.mu);
    service_.node = node;
  }
  Strings Calls() {
    absl::MutexLock lock(&service_.mu);
    return service_.calls;
  }
  v1::UpdateNodeRequest Updated() {
    absl::MutexLock lock(&service_.mu);
    return service_.update_node;
  }
};

TEST_F(NodesRunTest, AddSendsCanonicalAddressesAndSites) {
  Result r = Run(
      "nodes add gw-e --address 198.18.0.5 --address fd00:0::5 --site 198.18.50.0/24 "
      "--site fd00:50:0::/64 --site 198.18.60.1 --description edge");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.calls, Strings{"CreateNode"});
  const v1::Node& sent = service_.create_node.node();
  EXPECT_EQ(sent.name(), "gw-e");
  EXPECT_EQ(ListOf(sent.addresses()), (Strings{"198.18.0.5", "fd00::5"}));
  EXPECT_EQ(ListOf(sent.sites()), (Strings{"198.18.50.0/24", "fd00:50::/64", "198.18.60.1/32"}));
  EXPECT_EQ(sent.description(), "edge");
  EXPECT_EQ(sent.revision(), 0u);
  // The created node is printed; CreateNode's answer has no status to show.
  EXPECT_NE(r.out.find("NAME         gw-e\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ADDRESSES    198.18.0.5,fd00::5\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SITES        198.18.50.0/24,fd00:50::/64,198.18.60.1/32\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("REVISION     1\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CONNECTED"), std::string::npos) << r.out;
}

TEST_F(NodesRunTest, ListAndGetInTableAndJson) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.nodes = {StoredNode()};
    service_.node = StoredNode();
  }
  Result list = Run("nodes list");
  EXPECT_EQ(list.code, kExitOk) << list.err;
  EXPECT_EQ(list.out,
            "NAME  ADDRESSES   SITES                        CONNECTED  SPD    SYNC  RULES  "
            "DATAPATH\n"
            "gw-e  198.18.0.5  198.18.50.0/24,fd00:50::/64  yes        12/12  yes   4      xfrm\n");
  Result list_json = Run("nodes list -o json");
  v1::ListNodesResponse printed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(list_json.out, &printed).ok())
      << list_json.out;
  ASSERT_EQ(printed.nodes_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(printed.nodes(0), StoredNode()));

  Result get = Run("nodes get gw-e");
  EXPECT_EQ(get.code, kExitOk) << get.err;
  for (const char* line :
       {"NAME         gw-e\n", "DESCRIPTION  edge\n", "REVISION     7\n",
        "CREATED      2027-01-15T08:00:00Z\n", "CONNECTED    yes\n", "SPD          12/12\n",
        "SYNC         yes\n", "RULES        4\n", "LAST-ERROR   -\n", "DATAPATH     xfrm\n"}) {
    EXPECT_NE(get.out.find(line), std::string::npos) << line << "in:\n" << get.out;
  }
  Result get_json = Run("-o json nodes get gw-e");
  v1::Node node;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(get_json.out, &node).ok())
      << get_json.out;
  EXPECT_TRUE(MessageDifferencer::Equals(node, StoredNode()));
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.name, "gw-e");
}

TEST_F(NodesRunTest, SetEditsTheSitesReadAtThatRevision) {
  Store(StoredNode());
  Result r = Run("nodes set gw-e --add-site 198.18.51.0/24 --remove-site fd00:50:0::/64");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(Calls(), (Strings{"GetNode", "UpdateNode"}));
  v1::UpdateNodeRequest sent = Updated();
  EXPECT_EQ(sent.expected_revision(), 7u);
  v1::Node expected = StoredNode();
  expected.clear_sites();
  expected.add_sites("198.18.50.0/24");
  expected.add_sites("198.18.51.0/24");
  // What the controller sets does not go back to it.
  expected.clear_revision();
  expected.clear_create_time_unix();
  expected.clear_update_time_unix();
  expected.clear_status();
  std::string diff;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(expected, sent.node())) << diff;
  EXPECT_NE(r.out.find("REVISION     8\n"), std::string::npos) << r.out;
}

TEST_F(NodesRunTest, SetReplacesTheListsGiven) {
  Store(StoredNode());
  Result r = Run("nodes set gw-e --address 198.18.0.6 --address 198.18.0.7 --site 10.1.0.0/16");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  v1::Node sent = Updated().node();
  EXPECT_EQ(ListOf(sent.addresses()), (Strings{"198.18.0.6", "198.18.0.7"}));
  EXPECT_EQ(ListOf(sent.sites()), Strings{"10.1.0.0/16"});
  EXPECT_EQ(sent.description(), "edge");

  Result none = Run("nodes set gw-e --no-sites --description=");
  EXPECT_EQ(none.code, kExitOk) << none.err;
  sent = Updated().node();
  EXPECT_EQ(sent.sites_size(), 0);
  EXPECT_EQ(sent.description(), "");
  EXPECT_EQ(ListOf(sent.addresses()), Strings{"198.18.0.5"});  // as read
}

TEST_F(NodesRunTest, ConcurrentSetIsReportedAsAborted) {
  Store(StoredNode());
  {
    absl::MutexLock lock(&service_.mu);
    service_.node_update_status =
        grpc::Status(grpc::StatusCode::ABORTED, "node gw-e is at revision 8");
  }
  Result r = Run("nodes set gw-e --description new");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ipsecctl: nodes set gw-e: ABORTED: node gw-e is at revision 8 (revision 7 changed "
            "while updating; run the command again)\n");
}

TEST_F(NodesRunTest, RemovingASiteTheNodeLacksSendsNoUpdate) {
  Store(StoredNode());
  Result r = Run("nodes set gw-e --remove-site 198.18.99.0/24");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "ipsecctl: nodes set gw-e: NOT_FOUND: --remove-site: the node has no site "
            "198.18.99.0/24 (its sites: 198.18.50.0/24, fd00:50::/64)\n");
  EXPECT_EQ(Calls(), Strings{"GetNode"});
}

TEST_F(NodesRunTest, SetOfAMissingNodeStopsAfterTheRead) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no node named gw-x");
  }
  Result r = Run("nodes set gw-x --add-site 198.18.51.0/24");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "ipsecctl: nodes set gw-x: NOT_FOUND: no node named gw-x\n");
  EXPECT_EQ(Calls(), Strings{"GetNode"});
}

TEST_F(NodesRunTest, RemoveSaysWhatWasTornDownAndRevoked) {
  {
    absl::MutexLock lock(&service_.mu);
    service_.node_deleted.set_associations_torn_down(3);
    service_.node_deleted.set_certificates_revoked(true);
  }
  Result r = Run("nodes remove gw-e");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "deleted node gw-e: 3 associations torn down, certificates revoked (node:gw-e)\n");
  {
    absl::MutexLock lock(&service_.mu);
    EXPECT_EQ(service_.delete_node.name(), "gw-e");
    EXPECT_FALSE(service_.delete_node.keep_certificates());
    service_.node_deleted.set_associations_torn_down(1);
    service_.node_deleted.set_certificates_revoked(false);
  }
  Result kept = Run("nodes remove gw-e --keep-certificates");
  EXPECT_EQ(kept.out, "deleted node gw-e: 1 association torn down, certificates kept\n");
  {
    absl::MutexLock lock(&service_.mu);
    EXPECT_TRUE(service_.delete_node.keep_certificates());
  }
  Result json = Run("nodes remove gw-e -o json");
  EXPECT_EQ(json.out, "{\"associations_torn_down\":1,\"certificates_revoked\":false}\n");
}

TEST_F(NodesRunTest, EnrollPassesSitesAndPrintsOnlyTheToken) {
  Result r =
      Run("agents enroll gw-f --address 198.18.0.6 --site 198.18.60.0/24 --site fd00:60::/64");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "one-time-token\n");
  absl::MutexLock lock(&service_.mu);
  EXPECT_EQ(service_.enroll.node_name(), "gw-f");
  EXPECT_EQ(ListOf(service_.enroll.addresses()), Strings{"198.18.0.6"});
  EXPECT_EQ(ListOf(service_.enroll.sites()), (Strings{"198.18.60.0/24", "fd00:60::/64"}));
}

}  // namespace
}  // namespace ikeless::ipsecctl
