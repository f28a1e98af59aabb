// AgentCore with a pushed SPD: snapshot and deltas applied to the datapath
// and acknowledged, entries that leave take their SAs with them, Teardown
// and RekeyNow from the controller, and startups matched by traffic.
#include <algorithm>

#include "agent/agent_core_test_fixture.h"

namespace ikeless::agent {
namespace {

using namespace testing_fixture;  // NOLINT: the shared fixture

constexpr char kController[] = "198.18.0.254";

v1::PushedRule Rule(std::string key, std::string local, std::string remote,
                    std::string peer = k2b) {
  v1::PushedRule r;
  r.set_key(key);
  r.set_name("web/" + key);
  r.set_local(std::move(local));
  r.set_remote(std::move(remote));
  r.set_action(v1::POLICY_ACTION_PROTECT);
  r.set_setup_peer(std::move(peer));
  r.set_local_address(k2a);
  return r;
}

// Two rules toward one peer: an IPv4 and an IPv6 site pair behind the same
// (IPv4) gateways.
v1::PushedRule V4() { return Rule("v4", "198.18.10.0/24", "198.18.20.0/24"); }
v1::PushedRule V6() { return Rule("v6", "fd00:10::/64", "fd00:20::/64"); }
v1::PushedRule ToC() { return Rule("c", "198.18.10.0/24", "198.18.30.0/24", k2c); }

// Records what the core tells it.
class RecordingListener final : public SpdListener {
 public:
  void OnSpdApplied(const LaidOutSpd& spd) override { applied.push_back(spd); }
  std::vector<LaidOutSpd> applied;
};

class AgentCoreSpdTest : public AgentCoreTest {
 protected:
  void SetUp() override {
    AgentCore::Options o;
    o.controller_address = *IpAddress::Parse(kController);
    o.spd_listener = &listener_;
    Restart(o, {});  // a node whose config has no SPD rules
  }
  void Push(const v1::SpdUpdate& u) {
    v1::ControllerMessage m;
    *m.mutable_spd_update() = u;
    core_->OnControllerMessage(m);
  }
  void Snapshot(uint64_t revision, std::vector<v1::PushedRule> rules) {
    v1::SpdUpdate u;
    u.set_revision(revision);
    u.set_snapshot(true);
    for (auto& r : rules) *u.add_upsert() = std::move(r);
    Push(u);
  }
  void Delta(uint64_t base, uint64_t revision, std::vector<v1::PushedRule> upsert,
             std::vector<std::string> remove = {}) {
    v1::SpdUpdate u;
    u.set_revision(revision);
    u.set_base_revision(base);
    for (auto& r : upsert) *u.add_upsert() = std::move(r);
    for (auto& k : remove) u.add_remove(k);
    Push(u);
  }
  std::vector<v1::SpdAck> Acks() const {
    std::vector<v1::SpdAck> v;
    for (const v1::AgentMessage& m : link_.sent()) {
      if (m.has_spd_ack()) v.push_back(m.spd_ack());
    }
    return v;
  }
  // The datapath entry id of pushed rule `name` ("web/<key>").
  uint32_t IdOf(const std::string& name) {
    for (const SpdEntry& e : dp_.policies()) {
      if (e.name == name) return e.id;
    }
    ADD_FAILURE() << "no entry " << name;
    return 0;
  }
  std::vector<std::string> PolicyNames() {
    std::vector<std::string> v;
    for (const SpdEntry& e : dp_.policies()) v.push_back(e.name);
    return v;
  }
  std::vector<v1::SaEvent> Deleted() {
    std::vector<v1::SaEvent> v;
    for (const v1::SaEvent& e : link_.events()) {
      if (e.kind() == v1::SaEvent::DELETED) v.push_back(e);
    }
    return v;
  }
  void Teardown(std::vector<uint64_t> ids) {
    v1::ControllerMessage m;
    for (uint64_t id : ids) m.mutable_teardown()->add_association_ids(id);
    m.mutable_teardown()->set_reason("policy web deleted");
    core_->OnControllerMessage(m);
  }
  void RekeyNow(std::vector<uint64_t> ids) {
    v1::ControllerMessage m;
    for (uint64_t id : ids) m.mutable_rekey()->add_association_ids(id);
    core_->OnControllerMessage(m);
  }
  void Startup(const std::string& local, const std::string& remote) {
    v1::ControllerMessage m;
    m.mutable_startup()->set_peer(k2b);
    m.mutable_startup()->set_local(k2a);
    m.mutable_startup()->mutable_traffic()->set_local(local);
    m.mutable_startup()->mutable_traffic()->set_remote(remote);
    core_->OnControllerMessage(m);
  }

  RecordingListener listener_;
};

TEST_F(AgentCoreSpdTest, StartsWithNoRulesThenAppliesTheSnapshotAndAcks) {
  EXPECT_EQ(dp_.policies().size(), 1u) << "only the controller's bypass";
  EXPECT_EQ(dp_.policies()[0].remote_prefix, "198.18.0.254/32");
  EXPECT_EQ(dp_.policies()[0].action, SpdEntry::Action::kBypass);
  EXPECT_EQ(core_->pushed_revision(), 0u);

  Snapshot(3, {V6(), V4()});
  EXPECT_EQ(dp_.CallStrings(), Strings{"set_policies"});
  EXPECT_EQ(PolicyNames(), (Strings{"controller", "web/v4", "web/v6"}));
  std::vector<v1::SpdAck> acks = Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].revision(), 3u);
  EXPECT_EQ(acks[0].error(), "");
  EXPECT_EQ(core_->pushed_revision(), 3u);
  ASSERT_EQ(listener_.applied.size(), 1u);
  EXPECT_EQ(listener_.applied[0].pushed_ids,
            (std::set<uint32_t>{IdOf("web/v4"), IdOf("web/v6")}));
  EXPECT_GT(IdOf("web/v4"), 1u) << "above the controller's bypass";

  // The new entries work: an acquire asks the controller, with its traffic.
  Acquire(IdOf("web/v6"));
  v1::SaRequest r = LastRequest();
  EXPECT_EQ(r.peer(), k2b);
  EXPECT_EQ(r.traffic().local(), "fd00:10::/64");
  EXPECT_EQ(r.traffic().remote(), "fd00:20::/64");
}

TEST_F(AgentCoreSpdTest, ADeltaOnAnotherBaseIsAckedWithTheErrorAndChangesNothing) {
  Snapshot(3, {V4()});
  dp_.ClearCalls();
  link_.Clear();
  Delta(2, 4, {V6()});
  std::vector<v1::SpdAck> acks = Acks();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].revision(), 4u);
  EXPECT_NE(acks[0].error().find("base_revision: 2 is not the applied revision 3"), std::string::npos)
      << acks[0].error();
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_EQ(core_->pushed_revision(), 3u);
  EXPECT_EQ(listener_.applied.size(), 1u);

  // A malformed rule: refused whole, the field named.
  v1::PushedRule bad = V6();
  bad.set_remote("fd00:20::1/64");
  Delta(3, 4, {ToC(), bad});
  acks = Acks();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_NE(acks[1].error().find("spd_update.upsert[1] (key \"v6\").remote"), std::string::npos)
      << acks[1].error();
  EXPECT_EQ(acks[1].error().find('\n'), std::string::npos);
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_EQ(PolicyNames(), (Strings{"controller", "web/v4"}));

  Delta(3, 4, {V6()});
  EXPECT_EQ(Acks().back().error(), "");
  EXPECT_EQ(core_->pushed_revision(), 4u);
}

TEST_F(AgentCoreSpdTest, EntriesThatStayKeepTheirIdsAndSas) {
  Snapshot(1, {V4(), ToC()});
  const uint32_t v4 = IdOf("web/v4");
  v1::SaRequest r = Establish(v4, 6100);
  dp_.ClearCalls();
  // A reconnect's snapshot with one rule more and the same v4.
  Snapshot(7, {V4(), ToC(), V6()});
  EXPECT_EQ(IdOf("web/v4"), v4);
  EXPECT_EQ(dp_.CallStrings(), Strings{"set_policies"}) << "no SA removed";
  EXPECT_TRUE(dp_.Installed(Direction::kInbound, r.spi()).has_value());
  EXPECT_TRUE(dp_.Installed(Direction::kOutbound, 6100).has_value());
  EXPECT_TRUE(core_->Entry(v4)->outbound.has_value());
  EXPECT_TRUE(Deleted().empty());
}

TEST_F(AgentCoreSpdTest, ARemovedEntryTakesAllItsSasAndItsSetup) {
  Snapshot(1, {V4(), ToC()});
  const uint32_t v4 = IdOf("web/v4");
  const uint32_t c = IdOf("web/c");
  v1::SaRequest r1 = Establish(v4, 6100);
  // A rekey leaves a retiring inbound and a superseded outbound behind.
  SoftExpire(v4, Direction::kOutbound, {k2b, 6100});
  v1::SaRequest r2 = LastRequest();
  Deliver(Dist(r2, 6110));
  ASSERT_EQ(core_->Entry(v4)->retiring_inbound.size(), 1u);
  v1::SaRequest rc = Establish(c, 6200);
  // And entry c has a packet waiting for a new setup.
  HardExpire(c, Direction::kOutbound, {k2c, 6200});
  Acquire(c);
  ASSERT_EQ(core_->InFlightSetups().size(), 1u);
  const v1::SaRequest waiting = LastRequest();
  dp_.ClearCalls();
  link_.Clear();

  Delta(1, 2, {}, {"v4", "c"});
  const Strings calls = dp_.CallStrings();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls[0], "set_policies") << "the SPD first, then the SAs";
  for (const std::string& want : Strings{
           "remove out spi=6110", "remove out spi=6100", "remove in spi=" + std::to_string(r2.spi()),
        "remove in spi=" + std::to_string(r1.spi()), "remove in spi=" + std::to_string(rc.spi()),
        "drop entry=" + std::to_string(c)}) {
    EXPECT_EQ(std::count(calls.begin(), calls.end(), want), 1) << want;
  }
  EXPECT_EQ(dp_.installed_count(), 0u);
  EXPECT_EQ(Deleted().size(), 5u);
  for (const v1::SaEvent& e : Deleted()) EXPECT_NE(e.association_id(), 0u);
  EXPECT_FALSE(core_->Entry(v4).has_value());
  EXPECT_FALSE(core_->Entry(c).has_value());
  EXPECT_TRUE(core_->InFlightSetups().empty());
  for (uint32_t spi : {r1.spi(), r2.spi(), rc.spi(), waiting.spi()}) {
    EXPECT_FALSE(core_->SpiInUse(spi)) << spi;
  }
  EXPECT_EQ(PolicyNames(), Strings{"controller"});
  EXPECT_EQ(Acks().back().error(), "");

  // The answer to the aborted setup finds nothing to install.
  dp_.ClearCalls();
  Deliver(Dist(waiting, 6300));
  EXPECT_TRUE(dp_.calls().empty());
  // A key that comes back gets a new id, never the old one.
  Delta(2, 3, {V4()});
  EXPECT_NE(IdOf("web/v4"), v4);
  EXPECT_NE(IdOf("web/v4"), c);
}

TEST_F(AgentCoreSpdTest, AnEntryWhoseTrafficChangesLosesItsSasButKeepsItsId) {
  Snapshot(1, {V4()});
  const uint32_t v4 = IdOf("web/v4");
  Establish(v4, 6100);
  dp_.ClearCalls();
  v1::PushedRule wider = V4();
  wider.set_remote("198.18.20.0/23");
  Delta(1, 2, {wider});
  EXPECT_EQ(IdOf("web/v4"), v4);
  EXPECT_EQ(dp_.installed_count(), 0u);
  EXPECT_EQ(Deleted().size(), 2u);
  EXPECT_FALSE(core_->Entry(v4)->outbound.has_value());
  // Only the name changes: nothing happens to the SAs.
  Establish(v4, 6101);
  v1::PushedRule renamed = wider;
  renamed.set_name("web2/v4");
  Delta(2, 3, {renamed});
  EXPECT_EQ(dp_.installed_count(), 2u);
}

TEST_F(AgentCoreSpdTest, TeardownRemovesTheAssociationsSasAndTheNextPacketAcquires) {
  Snapshot(1, {V4(), ToC()});
  const uint32_t v4 = IdOf("web/v4");
  const uint32_t c = IdOf("web/c");
  v1::SaRequest ra = Establish(v4, 6100);
  v1::SaRequest rc = Establish(c, 6200);
  dp_.ClearCalls();
  link_.Clear();
  Teardown({ra.id() + 500, 999999});  // the fixture's association id; an unknown one
  EXPECT_EQ(dp_.CallStrings(),
            (Strings{"remove out spi=6100", "remove in spi=" + std::to_string(ra.spi())}));
  std::vector<v1::SaEvent> deleted = Deleted();
  ASSERT_EQ(deleted.size(), 2u);
  for (const v1::SaEvent& e : deleted) EXPECT_EQ(e.association_id(), ra.id() + 500);
  EXPECT_FALSE(core_->SpiInUse(ra.spi()));
  EXPECT_TRUE(core_->SpiInUse(rc.spi()));
  EXPECT_FALSE(core_->Entry(v4)->outbound.has_value());
  EXPECT_FALSE(core_->Entry(v4)->inbound.has_value());
  EXPECT_TRUE(core_->Entry(c)->outbound.has_value());
  EXPECT_TRUE(dp_.Installed(Direction::kOutbound, 6200).has_value());
  // As usual: the next packet asks the controller again.
  Acquire(v4);
  EXPECT_NE(LastRequest().id(), ra.id());
  EXPECT_EQ(LastRequest().peer(), k2b);
}

TEST_F(AgentCoreSpdTest, RekeyNowRekeysMakeBeforeBreak) {
  Snapshot(1, {V4(), ToC()});
  const uint32_t v4 = IdOf("web/v4");
  v1::SaRequest r1 = Establish(v4, 6100);
  Establish(IdOf("web/c"), 6200);
  dp_.ClearCalls();
  link_.Clear();
  RekeyNow({r1.id() + 500});
  std::vector<v1::SaRequest> sent = link_.requests();
  ASSERT_EQ(sent.size(), 1u) << "only the listed association's entry";
  const v1::SaRequest r2 = sent[0];
  EXPECT_NE(r2.id(), r1.id());
  EXPECT_NE(r2.spi(), r1.spi());
  ASSERT_EQ(core_->InFlightSetups().size(), 1u);
  EXPECT_EQ(core_->InFlightSetups()[0].trigger, SetupTrigger::kRekey);
  EXPECT_FALSE(core_->InFlightSetups()[0].packet_waiting);
  EXPECT_TRUE(dp_.calls().empty()) << "the old SAs stay until the new ones are in";
  RekeyNow({r1.id() + 500});
  EXPECT_EQ(link_.requests().size(), 1u) << "a setup in flight serves";

  Deliver(Dist(r2, 6110));
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(v4, r2.spi()), Out(v4, 6110),
                                        "release entry=" + std::to_string(v4)}));
  EXPECT_TRUE(dp_.Installed(Direction::kInbound, r1.spi()).has_value()) << "retiring, not gone";
  EXPECT_TRUE(dp_.Installed(Direction::kOutbound, 6100).has_value()) << "superseded, not gone";
  EXPECT_EQ(core_->Entry(v4)->outbound->key.spi, 6110u);
  EXPECT_FALSE(core_->Entry(v4)->soft_expired);
}

TEST_F(AgentCoreSpdTest, FailedRekeyNowIsRetriedLikeASoftExpiry) {
  Snapshot(1, {V4()});
  const uint32_t v4 = IdOf("web/v4");
  v1::SaRequest r1 = Establish(v4, 6100);
  RekeyNow({r1.id() + 500});
  DeliverError(LastRequest(), v1::SetupError::PEER_UNREACHABLE);
  EXPECT_EQ(core_->Entry(v4)->rekey_retry_at, clock_.Now() + absl::Seconds(10));
}

TEST_F(AgentCoreSpdTest, StartupsAreMatchedByTrafficWithTwoRulesTowardOnePeer) {
  Snapshot(1, {V4(), V6()});
  const uint32_t v4 = IdOf("web/v4");
  const uint32_t v6 = IdOf("web/v6");
  Startup("fd00:10::/64", "fd00:20::/64");
  v1::SaRequest r = LastRequest();
  ASSERT_EQ(core_->InFlightSetups().size(), 1u);
  EXPECT_EQ(core_->InFlightSetups()[0].spd_entry, v6);
  EXPECT_EQ(r.traffic().local(), "fd00:10::/64");
  Startup("198.18.10.0/24", "198.18.20.0/24");
  ASSERT_EQ(core_->InFlightSetups().size(), 2u);
  EXPECT_EQ(LastRequest().traffic().remote(), "198.18.20.0/24");
  // Both pairs get their own SAs.
  Deliver(Dist(r, 7100));
  Deliver(Dist(LastRequest(), 7200));
  EXPECT_EQ(core_->Entry(v6)->outbound->key.spi, 7100u);
  EXPECT_EQ(core_->Entry(v4)->outbound->key.spi, 7200u);
  // Traffic no entry has: S53.
  link_.Clear();
  Startup("198.18.10.0/24", "198.18.99.0/24");
  EXPECT_TRUE(link_.requests().empty());
}

TEST_F(AgentCoreSpdTest, ReplaceSpdRefusesAnInvalidSpdAndChangesNothing) {
  Snapshot(1, {V4()});
  dp_.ClearCalls();
  SpdEntry bad = Entry(9, k2b);
  bad.local_address.clear();
  absl::Status s = core_->ReplaceSpd({bad});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_EQ(PolicyNames(), (Strings{"controller", "web/v4"}));
  // Local rules keep their place before the controller and pushed ones.
  EXPECT_TRUE(core_->ReplaceSpd({}).ok());
  EXPECT_TRUE(dp_.policies().empty());
}

}  // namespace
}  // namespace ikeless::agent
