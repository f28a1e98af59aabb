// The agent core with a fake datapath and a fake controller link: FIG. 18's
// hand-offs (S35 acquire, S36 release, S37 drop), FIG. 19/20 as seen from
// the datapath, installation order, rekey (FIG. 27) and SA retirement.
#include "agent/agent_core.h"

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "agent/fake_controller_link.h"
#include "agent/fake_datapath.h"
#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using datapath::DatapathEvent;
using datapath::Direction;
using datapath::SaKey;
using datapath::SpdEntry;

constexpr char k2a[] = "198.18.1.1";  // this node
constexpr char k2b[] = "198.18.2.1";
constexpr char k2c[] = "198.18.3.1";

SpdEntry Entry(uint32_t id, std::string peer) {
  SpdEntry e;
  e.id = id;
  e.name = "e" + std::to_string(id);
  e.local_prefix = "198.18.10.0/24";
  e.remote_prefix = "198.18." + std::to_string(20 + id) + ".0/24";
  e.setup_peer = std::move(peer);
  e.local_address = k2a;
  return e;
}

std::vector<SpdEntry> Spd() { return {Entry(1, k2b), Entry(2, k2c)}; }

// The controller's answer to `r`: our inbound on r.spi, outbound on the
// peer's `peer_spi`; lifetime 3600 s hard, `soft` s soft.
v1::Distribution Dist(const v1::SaRequest& r, uint32_t peer_spi, uint64_t soft = 3240) {
  v1::Distribution d;
  d.set_request_id(r.id());
  d.set_source(r.source());
  d.set_peer(r.peer());
  d.set_association_id(r.id() + 500);
  for (auto [sa, spi, src, dst] :
       {std::tuple{d.mutable_inbound(), r.spi(), r.peer(), r.source()},
        std::tuple{d.mutable_outbound(), peer_spi, r.source(), r.peer()}}) {
    sa->set_spi(spi);
    sa->set_source(src);
    sa->set_destination(dst);
    sa->set_encryption(v1::ENCRYPTION_AES_GCM_16);
    sa->set_encryption_key(std::string(16, 'k'));
    sa->mutable_lifetime()->set_hard_seconds(3600);
    sa->mutable_lifetime()->set_soft_seconds(soft);
  }
  return d;
}

DatapathEvent Event(DatapathEvent::Kind kind, uint32_t entry,
                    Direction direction = Direction::kOutbound, SaKey sa = {}) {
  DatapathEvent e;
  e.kind = kind;
  e.spd_entry = entry;
  e.direction = direction;
  e.sa = std::move(sa);
  return e;
}

class AgentCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart({}); }

  void Restart(AgentCore::Options options) {
    core_.reset();
    core_ = std::make_unique<AgentCore>(options, Spd(), &dp_, &link_, &clock_, &random_);
    ASSERT_TRUE(core_->Start().ok());
    dp_.ClearCalls();
  }

  void Acquire(uint32_t entry) { dp_.Raise(Event(DatapathEvent::Kind::kAcquire, entry)); }
  void SoftExpire(uint32_t entry, Direction d, SaKey sa) {
    dp_.Raise(Event(DatapathEvent::Kind::kSoftExpire, entry, d, std::move(sa)));
  }
  void HardExpire(uint32_t entry, Direction d, SaKey sa) {
    dp_.Raise(Event(DatapathEvent::Kind::kHardExpire, entry, d, std::move(sa)));
  }
  void Deliver(const v1::Distribution& d) {
    v1::ControllerMessage m;
    *m.mutable_distribution() = d;
    core_->OnControllerMessage(m);
  }
  void DeliverError(const v1::SaRequest& r, v1::SetupError::Code code) {
    v1::ControllerMessage m;
    m.mutable_error()->set_code(code);
    m.mutable_error()->set_request_id(r.id());
    m.mutable_error()->set_source(r.source());
    m.mutable_error()->set_peer(r.peer());
    core_->OnControllerMessage(m);
  }
  void DeliverStartup(std::string peer, std::string local = k2a) {
    v1::ControllerMessage m;
    m.mutable_startup()->set_peer(std::move(peer));
    m.mutable_startup()->set_local(std::move(local));
    core_->OnControllerMessage(m);
  }
  v1::SaRequest LastRequest() {
    std::vector<v1::SaRequest> r = link_.requests();
    EXPECT_FALSE(r.empty());
    return r.empty() ? v1::SaRequest() : r.back();
  }
  // S35 -> S46 for `entry`; returns the request that was answered.
  v1::SaRequest Establish(uint32_t entry, uint32_t peer_spi) {
    Acquire(entry);
    v1::SaRequest r = LastRequest();
    Deliver(Dist(r, peer_spi));
    return r;
  }
  std::string In(uint32_t entry, uint32_t spi) {
    return "install in entry=" + std::to_string(entry) + " spi=" + std::to_string(spi);
  }
  std::string Out(uint32_t entry, uint32_t spi) {
    return "install out entry=" + std::to_string(entry) + " spi=" + std::to_string(spi);
  }

  FakeDatapath dp_;
  FakeControllerLink link_;
  FakeClock clock_;
  FakeRandom random_{5};
  std::unique_ptr<AgentCore> core_;
};

using Strings = std::vector<std::string>;

TEST_F(AgentCoreTest, StartRegistersSinkAndProgramsTheSpd) {
  FakeDatapath dp;
  AgentCore core({}, Spd(), &dp, &link_, &clock_, &random_);
  ASSERT_TRUE(core.Start().ok());
  EXPECT_TRUE(dp.has_sink());
  EXPECT_EQ(dp.CallStrings(), Strings{"set_policies"});
  EXPECT_EQ(dp.policies().size(), 2u);

  FakeDatapath dp2;
  SpdEntry bad = Entry(1, k2b);
  bad.local_address.clear();
  AgentCore refused({}, {bad}, &dp2, &link_, &clock_, &random_);
  EXPECT_EQ(refused.Start().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(dp2.calls().empty());
}

TEST_F(AgentCoreTest, S35_S41_AcquireSendsRequestWithoutCallingTheDatapath) {
  Acquire(1);
  std::vector<v1::SaRequest> sent = link_.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].source(), k2a);
  EXPECT_EQ(sent[0].peer(), k2b);
  EXPECT_GE(sent[0].spi(), kMinSpi);
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_EQ(dp_.reentrant_calls(), 0);
  ASSERT_EQ(core_->InFlightSetups().size(), 1u);
  EXPECT_TRUE(core_->InFlightSetups()[0].packet_waiting);
}

TEST_F(AgentCoreTest, S44_S45_S46_InstallsInboundThenOutboundThenReleasesHeld) {
  v1::SaRequest r = Establish(1, 6100);
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, r.spi()), Out(1, 6100), "release entry=1"}));
  std::optional<v1::SaParameters> in = dp_.Installed(Direction::kInbound, r.spi());
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->destination(), k2a);
  EXPECT_EQ(in->encryption_key(), std::string(16, 'k'));
  std::vector<v1::SaEvent> events = link_.events();
  ASSERT_EQ(events.size(), 2u);
  for (const v1::SaEvent& e : events) {
    EXPECT_EQ(e.kind(), v1::SaEvent::INSTALLED);
    EXPECT_EQ(e.association_id(), r.id() + 500);
  }
  EXPECT_EQ(events[0].spi(), r.spi());
  EXPECT_EQ(events[1].spi(), 6100u);
  EXPECT_EQ(events[1].destination(), k2b);
  std::optional<AgentCore::EntryStatus> st = core_->Entry(1);
  ASSERT_TRUE(st.has_value());
  ASSERT_TRUE(st->inbound.has_value());
  ASSERT_TRUE(st->outbound.has_value());
  EXPECT_EQ(st->inbound->key, (SaKey{k2a, r.spi()}));
  EXPECT_EQ(st->outbound->key, (SaKey{k2b, 6100}));
  EXPECT_TRUE(core_->InFlightSetups().empty());
  EXPECT_TRUE(core_->SpiInUse(r.spi()));
}

TEST_F(AgentCoreTest, S47_S49_S37_FailureWithWaitingPacketDropsHeld) {
  for (auto code : {v1::SetupError::NO_POLICY, v1::SetupError::PEER_UNREACHABLE}) {
    dp_.ClearCalls();
    Acquire(1);
    DeliverError(LastRequest(), code);
    EXPECT_EQ(dp_.CallStrings(), Strings{"drop entry=1"});
    EXPECT_TRUE(core_->InFlightSetups().empty());
  }
}

TEST_F(AgentCoreTest, S43_S49_SixSilentTriesThenDropHeld) {
  Acquire(1);
  const v1::SaRequest first = LastRequest();
  for (int i = 1; i < 6; ++i) {
    EXPECT_EQ(core_->NextDeadline(), clock_.Now() + absl::Seconds(5));
    clock_.Advance(absl::Seconds(5));
    core_->Tick();
  }
  std::vector<v1::SaRequest> sent = link_.requests();
  ASSERT_EQ(sent.size(), 6u);
  for (const v1::SaRequest& r : sent) {
    EXPECT_EQ(r.id(), first.id());
    EXPECT_EQ(r.spi(), first.spi());
  }
  EXPECT_TRUE(dp_.calls().empty());
  clock_.Advance(absl::Seconds(5));
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{"drop entry=1"});
  EXPECT_EQ(link_.requests().size(), 6u);
  EXPECT_EQ(core_->NextDeadline(), absl::InfiniteFuture());
}

TEST_F(AgentCoreTest, S51_S53_StartupWithoutMatchingEntryIsIgnored) {
  DeliverStartup("198.18.9.9");
  DeliverStartup(k2b, "198.18.1.77");
  EXPECT_TRUE(link_.sent().empty());
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_TRUE(core_->InFlightSetups().empty());
}

TEST_F(AgentCoreTest, S54_S55_S56_S57_StartupInstallsButNeverDropsHeld) {
  DeliverStartup(k2b);
  v1::SaRequest r = LastRequest();
  EXPECT_EQ(r.peer(), k2b);
  EXPECT_FALSE(core_->InFlightSetups().at(0).packet_waiting);
  Deliver(Dist(r, 6100));  // S57: installed all the same
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, r.spi()), Out(1, 6100), "release entry=1"}));
  // S58/S60: a failed startup setup is not reported to the packet path.
  dp_.ClearCalls();
  DeliverStartup(k2c);
  DeliverError(LastRequest(), v1::SetupError::NO_POLICY);
  clock_.Advance(absl::Seconds(60));
  core_->Tick();
  EXPECT_TRUE(dp_.calls().empty());
}

TEST_F(AgentCoreTest, S54_StartupWhileInFlightSendsNoSecondRequest) {
  Acquire(1);
  DeliverStartup(k2b);
  DeliverStartup(k2b);
  EXPECT_EQ(link_.requests().size(), 1u);
  EXPECT_TRUE(core_->InFlightSetups().at(0).packet_waiting);
}

TEST_F(AgentCoreTest, S35_AcquireWhileInFlightDoesNothingMore) {
  Acquire(1);
  Acquire(1);
  Acquire(1);
  EXPECT_EQ(link_.requests().size(), 1u);
  EXPECT_TRUE(dp_.calls().empty());
}

TEST_F(AgentCoreTest, S35_AcquireJoiningAStartupSetupIsDroppedOnItsFailure) {
  DeliverStartup(k2b);
  Acquire(1);
  DeliverError(LastRequest(), v1::SetupError::PEER_UNREACHABLE);
  EXPECT_EQ(dp_.CallStrings(), Strings{"drop entry=1"});
}

TEST_F(AgentCoreTest, ReconnectResendsEverythingOutstanding) {
  link_.set_connected(false);
  Acquire(1);
  DeliverStartup(k2c);
  EXPECT_EQ(link_.lost(), 2);
  link_.set_connected(true);
  core_->OnConnected();
  std::vector<v1::SaRequest> sent = link_.requests();
  std::vector<SetupInfo> inflight = core_->InFlightSetups();
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_EQ(inflight.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(sent[i].id(), inflight[i].request_id);
    EXPECT_EQ(sent[i].spi(), inflight[i].spi);
  }
}

TEST_F(AgentCoreTest, S44_DistributionWithUnknownIdIsIgnored) {
  Acquire(1);
  v1::SaRequest r = LastRequest();
  v1::SaRequest other = r;
  other.set_id(r.id() + 50);
  Deliver(Dist(other, 6100));
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_EQ(core_->InFlightSetups().size(), 1u);
  Deliver(Dist(r, 6100));
  dp_.ClearCalls();
  Deliver(Dist(r, 6100));  // S5's retransmission after success
  EXPECT_TRUE(dp_.calls().empty());
}

TEST_F(AgentCoreTest, UnavailableKeepsRetrying) {
  Acquire(1);
  v1::SaRequest r = LastRequest();
  DeliverError(r, v1::SetupError::UNAVAILABLE);
  EXPECT_TRUE(dp_.calls().empty());
  clock_.Advance(absl::Seconds(5));
  core_->Tick();
  EXPECT_EQ(link_.requests().size(), 2u);
  EXPECT_EQ(LastRequest().id(), r.id());
}

TEST_F(AgentCoreTest, S3_S8_S48_RestartedAgentMovesPastTheControllersRows) {
  Acquire(1);
  v1::SaRequest r = LastRequest();
  ASSERT_EQ(r.id(), 1u);  // a fresh process starts at 1 again
  v1::ControllerMessage m;
  v1::SetupError* e = m.mutable_error();
  e->set_code(v1::SetupError::CONFLICT);
  e->set_request_id(r.id());
  for (auto [id, spi] : {std::pair<uint64_t, uint32_t>{1, 5100}, {2, 5110}}) {
    auto* entry = e->add_entries();
    entry->set_id(id);
    entry->set_spi(spi);
  }
  core_->OnControllerMessage(m);
  v1::SaRequest again = LastRequest();
  EXPECT_EQ(again.id(), 3u);
  EXPECT_NE(again.spi(), 5100u);
  EXPECT_NE(again.spi(), 5110u);
  EXPECT_NE(again.spi(), r.spi());
  EXPECT_TRUE(dp_.calls().empty());  // the packet keeps waiting
  Deliver(Dist(again, 6100));
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, again.spi()), Out(1, 6100), "release entry=1"}));
}

TEST_F(AgentCoreTest, OutboundInstallFailureRemovesInboundAndDropsHeld) {
  dp_.FailNextInstall(Direction::kOutbound, absl::InternalError("netlink said no"));
  Acquire(1);
  v1::SaRequest r = LastRequest();
  Deliver(Dist(r, 6100));
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, r.spi()), Out(1, 6100),
                                        "remove in spi=" + std::to_string(r.spi()),
                                        "drop entry=1"}));
  EXPECT_EQ(dp_.installed_count(), 0u);
  EXPECT_FALSE(core_->Entry(1)->inbound.has_value());
  EXPECT_FALSE(core_->Entry(1)->outbound.has_value());
  EXPECT_FALSE(core_->SpiInUse(r.spi()));
  EXPECT_TRUE(link_.events().empty());  // nothing INSTALLED
}

TEST_F(AgentCoreTest, InboundInstallFailureInstallsNothingAndDropsHeld) {
  dp_.FailNextInstall(Direction::kInbound, absl::InvalidArgumentError("bad key"));
  Acquire(1);
  v1::SaRequest r = LastRequest();
  Deliver(Dist(r, 6100));
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, r.spi()), "drop entry=1"}));
  EXPECT_FALSE(core_->SpiInUse(r.spi()));
}

TEST_F(AgentCoreTest, Fig27_RekeyOnSoftExpiryThenOldInboundRemovedAfterGrace) {
  v1::SaRequest r1 = Establish(1, 6100);
  dp_.ClearCalls();
  link_.Clear();
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  std::vector<v1::SaEvent> events = link_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::SaEvent::EXPIRING);
  v1::SaRequest r2 = LastRequest();
  EXPECT_NE(r2.id(), r1.id());  // FIG. 27: new id and SPI
  EXPECT_NE(r2.spi(), r1.spi());
  EXPECT_EQ(core_->InFlightSetups().at(0).trigger, SetupTrigger::kRekey);
  EXPECT_FALSE(core_->InFlightSetups().at(0).packet_waiting);
  EXPECT_TRUE(dp_.calls().empty());
  // A duplicate soft expiry starts nothing more.
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  EXPECT_EQ(link_.requests().size(), 1u);

  Deliver(Dist(r2, 6110));
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, r2.spi()), Out(1, 6110), "release entry=1"}));
  std::optional<AgentCore::EntryStatus> st = core_->Entry(1);
  EXPECT_EQ(st->inbound->key.spi, r2.spi());
  EXPECT_EQ(st->outbound->key.spi, 6110u);
  EXPECT_FALSE(st->soft_expired);
  ASSERT_EQ(st->retiring_inbound.size(), 1u);
  EXPECT_EQ(st->retiring_inbound[0].key.spi, r1.spi());
  EXPECT_TRUE(core_->SpiInUse(r1.spi()));
  EXPECT_EQ(core_->NextDeadline(), clock_.Now() + absl::Seconds(10));

  dp_.ClearCalls();
  link_.Clear();
  clock_.Advance(absl::Seconds(10) - absl::Milliseconds(1));
  core_->Tick();
  EXPECT_TRUE(dp_.calls().empty());
  clock_.Advance(absl::Milliseconds(1));
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{"remove in spi=" + std::to_string(r1.spi())});
  EXPECT_FALSE(dp_.Installed(Direction::kInbound, r1.spi()).has_value());
  EXPECT_TRUE(dp_.Installed(Direction::kInbound, r2.spi()).has_value());
  EXPECT_TRUE(core_->Entry(1)->retiring_inbound.empty());
  EXPECT_FALSE(core_->SpiInUse(r1.spi()));
  events = link_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::SaEvent::DELETED);
  EXPECT_EQ(events[0].spi(), r1.spi());
  EXPECT_EQ(events[0].packets(), 7u);  // the fake's counters
}

TEST_F(AgentCoreTest, SoftExpiryOfInboundOrSupersededSaIsIgnored) {
  v1::SaRequest r1 = Establish(1, 6100);
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  v1::SaRequest r2 = LastRequest();
  Deliver(Dist(r2, 6110));
  const size_t before = link_.requests().size();
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});    // superseded
  SoftExpire(1, Direction::kInbound, {k2a, r1.spi()});  // inbound, old
  SoftExpire(1, Direction::kInbound, {k2a, r2.spi()});  // inbound, current
  SoftExpire(2, Direction::kOutbound, {k2b, 6110});     // another entry's
  SoftExpire(99, Direction::kOutbound, {k2b, 6110});    // no such entry
  EXPECT_EQ(link_.requests().size(), before);
  EXPECT_TRUE(core_->InFlightSetups().empty());
  EXPECT_FALSE(core_->Entry(1)->soft_expired);
}

TEST_F(AgentCoreTest, FailedRekeyIsRetriedWhileTheSaLives) {
  Establish(1, 6100);
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  v1::SaRequest r2 = LastRequest();
  dp_.ClearCalls();
  DeliverError(r2, v1::SetupError::NO_POLICY);
  EXPECT_TRUE(dp_.calls().empty());  // no packet waits: nothing to drop
  EXPECT_EQ(core_->Entry(1)->rekey_retry_at, clock_.Now() + absl::Seconds(10));
  EXPECT_EQ(core_->NextDeadline(), clock_.Now() + absl::Seconds(10));
  clock_.Advance(absl::Seconds(9));
  core_->Tick();
  EXPECT_EQ(LastRequest().id(), r2.id());
  clock_.Advance(absl::Seconds(1));
  core_->Tick();
  v1::SaRequest r3 = LastRequest();
  EXPECT_NE(r3.id(), r2.id());
  EXPECT_EQ(core_->InFlightSetups().at(0).trigger, SetupTrigger::kRekey);
  // Fails again; then the SA dies: no more retries.
  DeliverError(r3, v1::SetupError::PEER_UNREACHABLE);
  EXPECT_NE(core_->Entry(1)->rekey_retry_at, absl::InfiniteFuture());
  HardExpire(1, Direction::kOutbound, {k2b, 6100});
  EXPECT_EQ(core_->Entry(1)->rekey_retry_at, absl::InfiniteFuture());
  const size_t before = link_.requests().size();
  clock_.Advance(absl::Seconds(30));
  core_->Tick();
  EXPECT_EQ(link_.requests().size(), before);
}

TEST_F(AgentCoreTest, SoftExpiryDuringAStartupSetupJoinsIt) {
  Establish(1, 6100);
  DeliverStartup(k2b);  // the peer rekeys first
  v1::SaRequest r2 = LastRequest();
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  EXPECT_EQ(LastRequest().id(), r2.id());  // no second request
  EXPECT_TRUE(core_->Entry(1)->soft_expired);
  // If the startup's setup fails, the rekey is retried.
  DeliverError(r2, v1::SetupError::PEER_UNREACHABLE);
  EXPECT_EQ(core_->Entry(1)->rekey_retry_at, clock_.Now() + absl::Seconds(10));
}

TEST_F(AgentCoreTest, HardExpiryForgetsTheSaAndTheNextPacketAcquiresAgain) {
  v1::SaRequest r = Establish(1, 6100);
  dp_.ClearCalls();
  link_.Clear();
  HardExpire(1, Direction::kOutbound, {k2b, 6100});
  HardExpire(1, Direction::kInbound, {k2a, r.spi()});
  EXPECT_TRUE(dp_.calls().empty());  // the datapath removed them itself
  EXPECT_FALSE(core_->Entry(1)->outbound.has_value());
  EXPECT_FALSE(core_->Entry(1)->inbound.has_value());
  EXPECT_FALSE(core_->SpiInUse(r.spi()));
  std::vector<v1::SaEvent> events = link_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind(), v1::SaEvent::DELETED);
  Acquire(1);
  EXPECT_EQ(link_.requests().size(), 1u);
  EXPECT_NE(LastRequest().id(), r.id());
}

TEST_F(AgentCoreTest, RetiringInboundThatHardExpiresIsNotRemovedAgain) {
  v1::SaRequest r1 = Establish(1, 6100);
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  Deliver(Dist(LastRequest(), 6110));
  HardExpire(1, Direction::kInbound, {k2a, r1.spi()});
  EXPECT_TRUE(core_->Entry(1)->retiring_inbound.empty());
  EXPECT_FALSE(core_->SpiInUse(r1.spi()));
  dp_.ClearCalls();
  clock_.Advance(absl::Seconds(11));
  core_->Tick();
  EXPECT_TRUE(dp_.calls().empty());
}

TEST_F(AgentCoreTest, InstalledSoftLifetimeIsJitteredWithinBounds) {
  std::set<uint64_t> seen;
  uint32_t peer_spi = 7000;
  for (int i = 0; i < 40; ++i) {
    HardExpire(1, Direction::kOutbound, {k2b, peer_spi});
    Establish(1, ++peer_spi);
    std::optional<v1::SaParameters> out = dp_.Installed(Direction::kOutbound, peer_spi);
    ASSERT_TRUE(out.has_value());
    const uint64_t soft = out->lifetime().soft_seconds();
    EXPECT_LE(soft, 3240u);
    EXPECT_GE(soft, 3240u - 360u);  // at most 10 % of the hard 3600 s
    EXPECT_LT(soft, out->lifetime().hard_seconds());
    EXPECT_EQ(out->lifetime().hard_seconds(), 3600u);
    EXPECT_EQ(core_->Entry(1)->outbound->soft_seconds, soft);
    seen.insert(soft);
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST_F(AgentCoreTest, JitterCanBeDisabledAndNeverGoesBelowOneSecond) {
  AgentCore::Options o;
  o.rekey_jitter = 0;
  Restart(o);
  Establish(1, 6100);
  EXPECT_EQ(dp_.Installed(Direction::kOutbound, 6100)->lifetime().soft_seconds(), 3240u);
  o.rekey_jitter = 1.0;
  Restart(o);
  Acquire(2);
  Deliver(Dist(LastRequest(), 6200, /*soft=*/1));
  EXPECT_EQ(dp_.Installed(Direction::kOutbound, 6200)->lifetime().soft_seconds(), 1u);
}

TEST_F(AgentCoreTest, AcquireForUnknownEntryIsDroppedOnTheNextTick) {
  Acquire(99);
  EXPECT_TRUE(dp_.calls().empty());  // not from the datapath's thread
  EXPECT_EQ(dp_.reentrant_calls(), 0);
  EXPECT_LE(core_->NextDeadline(), clock_.Now());
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{"drop entry=99"});
  EXPECT_EQ(core_->NextDeadline(), absl::InfiniteFuture());
}

TEST_F(AgentCoreTest, WakeupIsCalledWhenWorkArrives) {
  std::atomic<int> wakes{0};
  core_->SetWakeup([&] { ++wakes; });
  Acquire(1);
  EXPECT_GE(wakes.load(), 1);
}

// Three threads as in production: the datapath's (events, raised under the
// fake's lock), the stream's (answers), a timer (Tick). Ends without
// deadlock, with no datapath call from inside the sink, and with at most one
// setup per entry at any time.
TEST_F(AgentCoreTest, ThreadsDoNotDeadlockOrReenterTheDatapath) {
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<int> installs{0};
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  std::thread datapath_thread([&] {
    for (int i = 0; (i < 2000 || installs.load() < 50) && absl::Now() < give_up; ++i) {
      const uint32_t entry = 1 + i % 2;
      Acquire(entry);
      if (auto st = core_->Entry(entry); st && st->outbound) {
        SoftExpire(entry, Direction::kOutbound, st->outbound->key);
      }
    }
  });
  std::thread stream_thread([&] {
    uint32_t peer_spi = 10000;
    while (!stop.load()) {
      std::vector<SetupInfo> inflight = core_->InFlightSetups();
      std::set<uint32_t> entries;
      for (const SetupInfo& s : inflight) {
        if (!entries.insert(s.spd_entry).second) ++violations;
        v1::SaRequest r;
        r.set_id(s.request_id);
        r.set_spi(s.spi);
        r.set_source(k2a);
        r.set_peer(s.spd_entry == 1 ? k2b : k2c);
        Deliver(Dist(r, ++peer_spi));
        if (auto st = core_->Entry(s.spd_entry); st && st->outbound &&
                                                 st->outbound->key.spi == peer_spi) {
          ++installs;
        }
      }
      std::this_thread::yield();
    }
  });
  std::thread timer_thread([&] {
    while (!stop.load()) {
      clock_.Advance(absl::Milliseconds(100));
      core_->Tick();
      std::this_thread::yield();
    }
  });
  datapath_thread.join();
  stop = true;
  stream_thread.join();
  timer_thread.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(dp_.reentrant_calls(), 0);
  EXPECT_GE(installs.load(), 50);
}

}  // namespace
}  // namespace ikeless::agent
