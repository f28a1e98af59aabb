// AgentCore: FIG. 19/20 through the core, install order, failures.
#include "agent/agent_core_test_fixture.h"

namespace ikeless::agent {
namespace {

using namespace testing_fixture;  // NOLINT: the shared fixture

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


}  // namespace
}  // namespace ikeless::agent
