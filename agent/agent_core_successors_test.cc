// AgentCore: successor keys (DECISIONS 33) and deadlines on the monotonic
// clock (issue #12 point 4).
#include "agent/agent_core_test_fixture.h"

namespace ikeless::agent {
namespace {

using namespace testing_fixture;  // NOLINT: the shared fixture

// `d` with successors: inbound on the SPIs `r` reserved, outbound on the
// peer's `peer_spis` (as many generations as both have).
v1::Distribution WithSuccessors(v1::Distribution d, const v1::SaRequest& r,
                                std::vector<uint32_t> peer_spis) {
  const size_t n = std::min<size_t>(peer_spis.size(), r.successor_spis_size());
  for (size_t i = 0; i < n; ++i) {
    v1::SaParameters* in = d.mutable_inbound()->add_successors();
    *in = d.inbound();
    in->clear_successors();
    in->set_spi(r.successor_spis(static_cast<int>(i)));
    in->set_encryption_key(std::string(16, static_cast<char>('m' + i)));
    v1::SaParameters* out = d.mutable_outbound()->add_successors();
    *out = d.outbound();
    out->clear_successors();
    out->set_spi(peer_spis[i]);
    out->set_encryption_key(std::string(16, static_cast<char>('p' + i)));
  }
  return d;
}

class AgentCoreSuccessorTest : public AgentCoreTest {
 protected:
  // S35 -> S46 with two successor generations; returns the request.
  v1::SaRequest EstablishWithSuccessors(uint32_t peer_spi, std::vector<uint32_t> peer_next) {
    Acquire(1);
    v1::SaRequest r = LastRequest();
    Deliver(WithSuccessors(Dist(r, peer_spi), r, std::move(peer_next)));
    return r;
  }
};

TEST_F(AgentCoreSuccessorTest, RequestReservesSuccessorSpis) {
  Acquire(1);
  v1::SaRequest r = LastRequest();
  ASSERT_EQ(r.successor_spis_size(), 3);  // the default
  std::set<uint32_t> distinct(r.successor_spis().begin(), r.successor_spis().end());
  distinct.insert(r.spi());
  EXPECT_EQ(distinct.size(), 4u);
  for (uint32_t spi : r.successor_spis()) {
    EXPECT_GE(spi, 256u);
    EXPECT_TRUE(core_->SpiInUse(spi));
  }
  // A failed setup gives them all back.
  DeliverError(r, v1::SetupError::NO_POLICY);
  for (uint32_t spi : r.successor_spis()) EXPECT_FALSE(core_->SpiInUse(spi));
  EXPECT_FALSE(core_->SpiInUse(r.spi()));
}

TEST_F(AgentCoreSuccessorTest, InboundSuccessorsInstalledAheadOutboundKept) {
  dp_.ClearCalls();
  v1::SaRequest r = EstablishWithSuccessors(6100, {6101, 6102});
  const uint32_t s1 = r.successor_spis(0), s2 = r.successor_spis(1), s3 = r.successor_spis(2);
  // Successors before the current inbound SA, which is then the newest.
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, s1), In(1, s2), In(1, r.spi()), Out(1, 6100),
                                        "release entry=1"}));
  // Generation g is stretched by g soft lifetimes and the slack.
  EXPECT_EQ(dp_.Installed(Direction::kInbound, s1)->lifetime().hard_seconds(), 3600u + 3240 + 12);
  EXPECT_EQ(dp_.Installed(Direction::kInbound, s2)->lifetime().hard_seconds(),
            3600u + 2 * 3240 + 14);
  // The datapath never holds the successors' keys with the current SA.
  EXPECT_EQ(dp_.Installed(Direction::kOutbound, 6100)->successors_size(), 0);
  EXPECT_EQ(dp_.Installed(Direction::kInbound, r.spi())->successors_size(), 0);
  std::optional<AgentCore::EntryStatus> st = core_->Entry(1);
  ASSERT_EQ(st->standby_inbound.size(), 2u);
  EXPECT_EQ(st->outbound_successors, 2u);
  EXPECT_TRUE(core_->SpiInUse(s1));
  EXPECT_TRUE(core_->SpiInUse(s2));
  EXPECT_FALSE(core_->SpiInUse(s3));  // the controller made two: the third goes back
}

TEST_F(AgentCoreSuccessorTest, SoftExpirySwitchesToTheNextKeyEvenWithoutTheController) {
  v1::SaRequest r = EstablishWithSuccessors(6100, {6101, 6102});
  link_.set_connected(false);  // the controller is away
  dp_.ClearCalls();
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  EXPECT_TRUE(dp_.calls().empty());  // never from the datapath's thread
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{Out(1, 6101)});
  std::optional<AgentCore::EntryStatus> st = core_->Entry(1);
  EXPECT_EQ(st->outbound->key.spi, 6101u);
  EXPECT_EQ(st->outbound->association_id, r.id() + 500);
  EXPECT_TRUE(st->soft_expired);  // the rekey is still owed
  EXPECT_EQ(st->outbound_successors, 1u);
  // The new key's soft lifetime is jittered like any other.
  EXPECT_LE(dp_.Installed(Direction::kOutbound, 6101)->lifetime().soft_seconds(), 3240u);
  EXPECT_EQ(dp_.Installed(Direction::kOutbound, 6101)->lifetime().hard_seconds(), 3600u);
  EXPECT_EQ(core_->InFlightSetups().size(), 1u);  // the rekey is still asked for

  // The rekey times out (six tries, S43) and is retried every 10 s while
  // the successor carries the traffic.
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(absl::Seconds(5));
    core_->Tick();
  }
  EXPECT_TRUE(core_->InFlightSetups().empty());
  EXPECT_NE(core_->Entry(1)->rekey_retry_at, absl::InfiniteFuture());
  dp_.ClearCalls();
  clock_.Advance(absl::Seconds(3240 - 35));
  SoftExpire(1, Direction::kOutbound, {k2b, 6101});
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{Out(1, 6102)});
  // Out of successors: the SA runs to its hard lifetime unless the
  // controller answers.
  dp_.ClearCalls();
  SoftExpire(1, Direction::kOutbound, {k2b, 6102});
  core_->Tick();
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_TRUE(core_->Entry(1)->soft_expired);
}

TEST_F(AgentCoreSuccessorTest, RekeyNowStillSwitchesAtSoftExpiry) {
  // A policy change asked for a rekey that cannot land (the peer is away
  // from the controller): the data plane keeps moving on its successors.
  v1::SaRequest r = EstablishWithSuccessors(6100, {6101});
  v1::ControllerMessage m;
  m.mutable_rekey()->add_association_ids(r.id() + 500);
  core_->OnControllerMessage(m);
  ASSERT_TRUE(core_->Entry(1)->soft_expired);
  dp_.ClearCalls();
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{Out(1, 6101)});
}

TEST_F(AgentCoreSuccessorTest, HardExpiryWithoutASwitchStillSwitches) {
  // The soft expiry was lost: at the hard one the next successor takes over.
  EstablishWithSuccessors(6100, {6101});
  dp_.ClearCalls();
  HardExpire(1, Direction::kOutbound, {k2b, 6100});
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{Out(1, 6101)});
  EXPECT_EQ(core_->Entry(1)->outbound->key.spi, 6101u);
}

TEST_F(AgentCoreSuccessorTest, AFailedSuccessorInstallInstallsNothing) {
  Acquire(1);
  v1::SaRequest r = LastRequest();
  dp_.FailInstallOf(Direction::kInbound, r.successor_spis(1), absl::InternalError("EEXIST"));
  dp_.ClearCalls();
  Deliver(WithSuccessors(Dist(r, 6100), r, {6101, 6102}));
  // The peer would switch to successor 2, which we could not install: the
  // association is not used at all and the setup counts as failed (S37).
  EXPECT_FALSE(dp_.Installed(Direction::kInbound, r.spi()).has_value());
  EXPECT_FALSE(dp_.Installed(Direction::kInbound, r.successor_spis(0)).has_value());
  EXPECT_FALSE(dp_.Installed(Direction::kOutbound, 6100).has_value());
  EXPECT_FALSE(core_->Entry(1)->outbound.has_value());
  for (uint32_t spi : r.successor_spis()) EXPECT_FALSE(core_->SpiInUse(spi));
  EXPECT_FALSE(core_->SpiInUse(r.spi()));
}

TEST_F(AgentCoreSuccessorTest, AStaleSwitchIsDropped) {
  v1::SaRequest r = EstablishWithSuccessors(6100, {6101, 6102});
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  // The rekey's answer arrives before the Tick that would have switched.
  v1::SaRequest rekey = LastRequest();
  Deliver(WithSuccessors(Dist(rekey, 6200), rekey, {6201}));
  dp_.ClearCalls();
  core_->Tick();
  EXPECT_TRUE(dp_.calls().empty());
  EXPECT_EQ(core_->Entry(1)->outbound->key.spi, 6200u);
}

TEST_F(AgentCoreSuccessorTest, NewAssociationRetiresThePreviousStandbys) {
  v1::SaRequest r1 = EstablishWithSuccessors(6100, {6101, 6102});
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  v1::SaRequest r2 = LastRequest();
  Deliver(WithSuccessors(Dist(r2, 6200), r2, {6201}));
  std::optional<AgentCore::EntryStatus> st = core_->Entry(1);
  ASSERT_EQ(st->standby_inbound.size(), 1u);
  EXPECT_EQ(st->standby_inbound[0].key.spi, r2.successor_spis(0));
  EXPECT_EQ(st->outbound_successors, 1u);
  // r1's inbound and both of its successors receive for the grace, then go.
  EXPECT_EQ(st->retiring_inbound.size(), 3u);
  clock_.Advance(absl::Seconds(10));
  core_->Tick();
  core_->Tick();
  EXPECT_TRUE(core_->Entry(1)->retiring_inbound.empty());
  for (uint32_t spi : {r1.spi(), r1.successor_spis(0), r1.successor_spis(1)}) {
    EXPECT_FALSE(dp_.Installed(Direction::kInbound, spi).has_value()) << spi;
    EXPECT_FALSE(core_->SpiInUse(spi)) << spi;
  }
}

TEST_F(AgentCoreSuccessorTest, TeardownRemovesStandbysAndForgetsSuccessors) {
  v1::SaRequest r = EstablishWithSuccessors(6100, {6101, 6102});
  v1::ControllerMessage m;
  m.mutable_teardown()->add_association_ids(r.id() + 500);
  core_->OnControllerMessage(m);
  std::optional<AgentCore::EntryStatus> st = core_->Entry(1);
  EXPECT_TRUE(st->standby_inbound.empty());
  EXPECT_EQ(st->outbound_successors, 0u);
  EXPECT_FALSE(dp_.Installed(Direction::kInbound, r.successor_spis(0)).has_value());
  EXPECT_FALSE(core_->SpiInUse(r.successor_spis(1)));
}

TEST_F(AgentCoreSuccessorTest, SuccessorsOnOtherSpisThanReservedAreNotUsed) {
  Acquire(1);
  v1::SaRequest r = LastRequest();
  v1::SaRequest wrong = r;
  wrong.set_successor_spis(0, 999);
  dp_.ClearCalls();
  Deliver(WithSuccessors(Dist(r, 6100), wrong, {6101}));
  EXPECT_EQ(dp_.CallStrings(), (Strings{In(1, r.spi()), Out(1, 6100), "release entry=1"}));
  EXPECT_EQ(core_->Entry(1)->outbound_successors, 0u);
}

TEST_F(AgentCoreTest, NtpStep_WallClockStepMovesNoDeadline) {
  // Issue #12 point 4: retransmissions, rekey retries and the removal of
  // superseded SAs run on the monotonic clock.
  Acquire(2);
  const absl::Time deadline = core_->NextDeadline();
  v1::SaRequest r1 = Establish(1, 6100);
  SoftExpire(1, Direction::kOutbound, {k2b, 6100});
  Deliver(Dist(LastRequest(), 6110));  // r1's inbound now retires after 10 s
  const size_t requests = link_.requests().size();
  dp_.ClearCalls();
  for (absl::Duration step : {absl::Hours(2), absl::Hours(-4)}) {
    clock_.StepWall(step);
    core_->Tick();
    EXPECT_TRUE(dp_.calls().empty());
    EXPECT_EQ(link_.requests().size(), requests);
    EXPECT_EQ(core_->NextDeadline(), deadline);
  }
  clock_.Advance(absl::Seconds(5));  // real time: entry 2's request is resent
  core_->Tick();
  EXPECT_EQ(link_.requests().size(), requests + 1);
  clock_.Advance(absl::Seconds(5));
  core_->Tick();
  EXPECT_EQ(dp_.CallStrings(), Strings{"remove in spi=" + std::to_string(r1.spi())});
}

}  // namespace
}  // namespace ikeless::agent
