// AgentCore: lifetimes, rekey (FIG. 27), jitter, threads.
#include "agent/agent_core_test_fixture.h"

namespace ikeless::agent {
namespace {

using namespace testing_fixture;  // NOLINT: the shared fixture

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

TEST_F(AgentCoreTest, TickDoesNotWakeItsOwnTimer) {
  Establish(1, 7000);
  Acquire(2);  // a setup in flight: Tick has resends to look after
  std::atomic<int> wakes{0};
  core_->SetWakeup([&] { ++wakes; });
  for (int i = 0; i < 10; ++i) core_->Tick();
  EXPECT_EQ(wakes.load(), 0) << "the timer thread calls Tick; waking it from there makes it spin";
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
