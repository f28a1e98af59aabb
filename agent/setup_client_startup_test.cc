// SetupClient, FIG. 20 (request startup), SPI choice and address handling.
#include "agent/setup_client_test_fixture.h"

namespace ikeless::agent {
namespace {

using namespace setup_client_fixture;  // NOLINT: the shared fixture

TEST_F(SetupClientTest, S51_S52_S53_StartupWithoutMatchingEntryIsIgnored) {
  // Unknown peer.
  EXPECT_TRUE(client_.OnStartup(Startup("198.18.9.9")).requests.empty());
  // Right peer, another local address of ours.
  EXPECT_TRUE(client_.OnStartup(Startup(k2b, "198.18.1.2")).requests.empty());
  // Right peer, another selector (entry 2 is TCP 443).
  EXPECT_TRUE(client_.OnStartup(Startup(k2c, k2a, 6, 80)).requests.empty());
  EXPECT_TRUE(client_.OnStartup(Startup(k2c, k2a, 0, 0)).requests.empty());
  // A bypass entry with that setup_peer does not count.
  EXPECT_TRUE(client_.InFlightSetups().empty());
}

TEST_F(SetupClientTest, S52_S54_S55_StartupWithMatchingEntryRequestsWithoutWaitingPacket) {
  SetupOutput out = client_.OnStartup(Startup(k2c, k2a, 6, 443));
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].peer(), k2c);
  EXPECT_EQ(out.requests[0].source(), k2a);
  ASSERT_EQ(client_.InFlightSetups().size(), 1u);
  EXPECT_EQ(client_.InFlightSetups()[0].spd_entry, 2u);
  EXPECT_EQ(client_.InFlightSetups()[0].trigger, SetupTrigger::kStartup);
  EXPECT_FALSE(client_.InFlightSetups()[0].packet_waiting);
  // An empty `local` matches on the peer alone.
  EXPECT_EQ(client_.OnStartup(Startup(k2b, "")).requests.size(), 1u);
  EXPECT_TRUE(client_.InFlight(1));
}

TEST_F(SetupClientTest, S56_S57_StartupSuccessIsNotReportedToThePacketPath) {
  v1::SaRequest r = client_.OnStartup(Startup(k2b)).requests.at(0);
  SetupOutput out = client_.OnDistribution(Dist(r, 6100));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_TRUE(out.results[0].status.ok());  // S57: still installed
  EXPECT_FALSE(out.results[0].packet_waiting);
  EXPECT_EQ(out.results[0].trigger, SetupTrigger::kStartup);
}

TEST_F(SetupClientTest, S58_S60_StartupFailureIsNotReportedToThePacketPath) {
  v1::SaRequest r = client_.OnStartup(Startup(k2b)).requests.at(0);
  SetupOutput out = client_.OnError(Error(r, v1::SetupError::PEER_UNREACHABLE));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_FALSE(out.results[0].status.ok());
  EXPECT_FALSE(out.results[0].packet_waiting);
}

TEST_F(SetupClientTest, S54_StartupWhileInFlightSendsNoSecondRequest) {
  v1::SaRequest r = client_.OnStartup(Startup(k2b)).requests.at(0);
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(client_.OnStartup(Startup(k2b)).requests.empty());
  // Also when the setup in flight came from an acquire.
  SetupOutput acquire = client_.Begin(2, SetupTrigger::kAcquire);
  ASSERT_EQ(acquire.requests.size(), 1u);
  EXPECT_TRUE(client_.OnStartup(Startup(k2c, k2a, 6, 443)).requests.empty());
  EXPECT_EQ(client_.InFlightSetups().size(), 2u);
  EXPECT_EQ(client_.InFlightSetups()[0].request_id, r.id());
}

TEST_F(SetupClientTest, S35_AcquireWhileInFlightSendsNothingMore) {
  v1::SaRequest r = BeginOne(1);
  SetupOutput out = client_.Begin(1, SetupTrigger::kAcquire);
  EXPECT_TRUE(out.requests.empty());
  EXPECT_TRUE(out.results.empty());
  EXPECT_EQ(client_.InFlightSetups().size(), 1u);
  EXPECT_EQ(client_.InFlightSetups()[0].request_id, r.id());
  EXPECT_TRUE(client_.Begin(1, SetupTrigger::kRekey).requests.empty());
}

TEST_F(SetupClientTest, S35_AcquireJoiningAStartupSetupWaitsForItsResult) {
  v1::SaRequest r = client_.OnStartup(Startup(k2b)).requests.at(0);
  EXPECT_TRUE(client_.Begin(1, SetupTrigger::kAcquire).requests.empty());
  EXPECT_TRUE(client_.InFlightSetups()[0].packet_waiting);
  SetupOutput out = client_.OnError(Error(r, v1::SetupError::NO_POLICY));
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_TRUE(out.results[0].packet_waiting);  // the held packet must be dropped
}

TEST_F(SetupClientTest, ResendAllOnReconnectUsesSameIdsAndSpisAndKeepsSchedule) {
  v1::SaRequest a = BeginOne(1);
  v1::SaRequest b = BeginOne(2, SetupTrigger::kRekey);
  const absl::Time deadline = client_.NextDeadline();
  clock_.Advance(absl::Seconds(2));
  SetupOutput out = client_.ResendAll();
  ASSERT_EQ(out.requests.size(), 2u);
  EXPECT_EQ(out.requests[0].id(), a.id());
  EXPECT_EQ(out.requests[0].spi(), a.spi());
  EXPECT_EQ(out.requests[1].id(), b.id());
  EXPECT_EQ(out.requests[1].spi(), b.spi());
  EXPECT_EQ(client_.NextDeadline(), deadline);
  EXPECT_EQ(client_.InFlightSetups()[0].attempts, 1);
}

TEST_F(SetupClientTest, SpisAreAtLeast256AndNeverReusedWhileInUse) {
  random_.PushSpi(256);
  v1::SaRequest a = BeginOne(1);
  EXPECT_EQ(a.spi(), 256u);  // the smallest allowed
  random_.PushSpi(256);      // in use by entry 1's request
  random_.PushSpi(257);
  v1::SaRequest b = BeginOne(2);
  EXPECT_EQ(b.spi(), 257u);
  // Entry 1's setup succeeds: 256 is now an installed inbound SA's.
  client_.OnDistribution(Dist(a, 6100));
  random_.PushSpi(256);
  random_.PushSpi(258);
  EXPECT_EQ(BeginOne(1, SetupTrigger::kRekey).spi(), 258u);
  // Its SA is gone: 256 may be chosen again.
  client_.ReleaseSpi(256);
  client_.OnError(Error(b, v1::SetupError::NO_POLICY));
  random_.PushSpi(256);
  EXPECT_EQ(BeginOne(2).spi(), 256u);
}

TEST_F(SetupClientTest, ReleaseSpiDoesNotFreeTheSpiOfASetupInFlight) {
  v1::SaRequest r = BeginOne(1);
  client_.ReleaseSpi(r.spi());
  EXPECT_TRUE(client_.SpiInUse(r.spi()));
}

TEST_F(SetupClientTest, ManySetupsGetDistinctValidSpisAndIds) {
  std::vector<SpdEntry> spd;
  for (uint32_t i = 1; i <= 300; ++i) spd.push_back(Entry(i, k2b));
  FakeRandom random(9);
  SetupClient client({}, spd, &clock_, &random);
  std::set<uint32_t> spis;
  std::set<uint64_t> ids;
  for (uint32_t i = 1; i <= 300; ++i) {
    v1::SaRequest r = client.Begin(i, SetupTrigger::kAcquire).requests.at(0);
    EXPECT_GE(r.spi(), kMinSpi);
    spis.insert(r.spi());
    ids.insert(r.id());
  }
  EXPECT_EQ(spis.size(), 300u);
  EXPECT_EQ(ids.size(), 300u);
}

TEST_F(SetupClientTest, S33_EntryWithoutSetupPeerOrUnknownFailsAtOnce) {
  for (uint32_t entry : {3u, 4u, 99u}) {
    SetupOutput out = client_.Begin(entry, SetupTrigger::kAcquire);
    EXPECT_TRUE(out.requests.empty());
    ASSERT_EQ(out.results.size(), 1u);
    EXPECT_FALSE(out.results[0].status.ok());
    EXPECT_TRUE(out.results[0].packet_waiting);
    EXPECT_FALSE(client_.InFlight(entry));
  }
}

TEST_F(SetupClientTest, AddressesAreComparedCanonically) {
  SpdEntry v6 = Entry(1, "fd00::0002");
  v6.local_address = "FD00::1";
  FakeRandom random(1);
  SetupClient client({}, {v6}, &clock_, &random);
  SetupOutput out = client.OnStartup(Startup("fd00::2", "fd00:0::1"));
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].source(), "fd00::1");
  EXPECT_EQ(out.requests[0].peer(), "fd00::2");
}

TEST_F(SetupClientTest, S42_RequestsCarryTheEntrysTraffic) {
  v1::SaRequest r = BeginOne(1);
  EXPECT_EQ(r.traffic().local(), "198.18.10.0/24");
  EXPECT_EQ(r.traffic().remote(), "198.18.20.0/24");
}

// The SPD changes at run time: setups of entries that leave or change end
// (ABORTED, packet_waiting kept so the caller drops the held packets);
// others go on; a new entry is usable at once.
TEST_F(SetupClientTest, ReplaceSpdEndsTheSetupsOfEntriesThatLeaveOrChange) {
  BeginOne(1, SetupTrigger::kAcquire);
  v1::SaRequest r2 = BeginOne(2, SetupTrigger::kRekey);
  SpdEntry e5 = Entry(5, k2b);
  e5.remote_prefix = "198.18.50.0/24";
  std::vector<SpdEntry> next = {Entry(2, k2c, 6, 443), e5};
  SetupOutput out = client_.ReplaceSpd(next, {});
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].spd_entry, 1u);
  EXPECT_EQ(out.results[0].status.code(), absl::StatusCode::kAborted);
  EXPECT_NE(out.results[0].status.message().find("removed"), std::string::npos);
  EXPECT_TRUE(out.results[0].packet_waiting);
  EXPECT_FALSE(client_.SpiInUse(out.results[0].spi));
  EXPECT_TRUE(client_.InFlight(2));
  EXPECT_EQ(client_.FindEntry(1), nullptr);
  EXPECT_EQ(BeginOne(5).traffic().remote(), "198.18.50.0/24");

  out = client_.ReplaceSpd(next, {2});
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].spd_entry, 2u);
  EXPECT_EQ(out.results[0].request_id, r2.id());
  EXPECT_FALSE(out.results[0].packet_waiting);
  EXPECT_NE(out.results[0].status.message().find("changed"), std::string::npos);
  EXPECT_TRUE(client_.InFlight(5));
  EXPECT_TRUE(client_.OnDistribution(Dist(r2, 6100)).results.empty()) << "its answer is stale";
}

}  // namespace
}  // namespace ikeless::agent
