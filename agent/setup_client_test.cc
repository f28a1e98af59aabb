// SetupClient, FIG. 19: requests, resends, distributions, errors, CONFLICT.
#include "agent/setup_client_test_fixture.h"

namespace ikeless::agent {
namespace {

using namespace setup_client_fixture;  // NOLINT: the shared fixture

TEST_F(SetupClientTest, S41_S42_S43_AcquireSendsRequestForTheEntry) {
  v1::SaRequest r = BeginOne(2);
  EXPECT_EQ(r.id(), 1u);  // Options.first_request_id
  EXPECT_EQ(r.source(), k2a);
  EXPECT_EQ(r.peer(), k2c);  // the entry's setup_peer
  EXPECT_GE(r.spi(), kMinSpi);
  EXPECT_EQ(r.selector().protocol(), 6u);
  EXPECT_EQ(r.selector().port(), 443u);
  EXPECT_TRUE(client_.InFlight(2));
  EXPECT_TRUE(client_.SpiInUse(r.spi()));
  EXPECT_EQ(client_.NextDeadline(), clock_.Now() + absl::Seconds(5));
}

TEST_F(SetupClientTest, S42_RequestIdsAreSequentialFromFirstRequestId) {
  SetupClient::Options o;
  o.first_request_id = 1001;  // the source's example: 1001, then 1002
  SetupClient client(o, Spd(), &clock_, &random_);
  EXPECT_EQ(client.Begin(1, SetupTrigger::kAcquire).requests.at(0).id(), 1001u);
  EXPECT_EQ(client.Begin(2, SetupTrigger::kAcquire).requests.at(0).id(), 1002u);
}

TEST_F(SetupClientTest, S43_ResendsEveryFiveSecondsSixTimesSameIdAndSpiThenFails) {
  v1::SaRequest first = BeginOne(1);
  int sends = 1;
  for (int i = 1; i < 6; ++i) {
    clock_.Advance(absl::Seconds(5) - absl::Milliseconds(1));
    EXPECT_TRUE(client_.Tick().requests.empty()) << "too early at try " << i;
    clock_.Advance(absl::Milliseconds(1));
    SetupOutput out = client_.Tick();
    ASSERT_EQ(out.requests.size(), 1u) << "try " << i;
    EXPECT_EQ(out.requests[0].id(), first.id());
    EXPECT_EQ(out.requests[0].spi(), first.spi());
    EXPECT_TRUE(out.results.empty());
    ++sends;
  }
  EXPECT_EQ(sends, 6);
  EXPECT_EQ(client_.InFlightSetups().at(0).attempts, 6);
  // The sixth try gets one interval for its answer, then S49.
  clock_.Advance(absl::Seconds(5) - absl::Milliseconds(1));
  EXPECT_TRUE(client_.Tick().results.empty());
  clock_.Advance(absl::Milliseconds(1));
  SetupOutput out = client_.Tick();
  EXPECT_TRUE(out.requests.empty());
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].spd_entry, 1u);
  EXPECT_TRUE(out.results[0].packet_waiting);
  EXPECT_EQ(out.results[0].status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(client_.InFlight(1));
  EXPECT_FALSE(client_.SpiInUse(first.spi()));
  EXPECT_EQ(client_.NextDeadline(), absl::InfiniteFuture());
}

TEST_F(SetupClientTest, S44_S45_S46_DistributionEndsSetupWithSuccess) {
  v1::SaRequest r = BeginOne(1);
  clock_.Advance(absl::Seconds(5));
  client_.Tick();  // one resend; the answer may come to either
  SetupOutput out = client_.OnDistribution(Dist(r, 6100));
  EXPECT_TRUE(out.requests.empty());
  ASSERT_EQ(out.results.size(), 1u);
  const SetupResult& res = out.results[0];
  EXPECT_TRUE(res.status.ok());
  EXPECT_EQ(res.spd_entry, 1u);
  EXPECT_TRUE(res.packet_waiting);  // S46: report to the packet path
  EXPECT_EQ(res.request_id, r.id());
  EXPECT_EQ(res.distribution.inbound().spi(), r.spi());
  EXPECT_EQ(res.distribution.outbound().spi(), 6100u);
  EXPECT_FALSE(client_.InFlight(1));
  // The SPI now belongs to the installed inbound SA until released.
  EXPECT_TRUE(client_.SpiInUse(r.spi()));
  client_.ReleaseSpi(r.spi());
  EXPECT_FALSE(client_.SpiInUse(r.spi()));
  // No more resends.
  clock_.Advance(absl::Seconds(60));
  EXPECT_TRUE(client_.Tick().requests.empty());
}

TEST_F(SetupClientTest, S44_DistributionWithUnknownOrStaleIdIsIgnored) {
  v1::SaRequest r = BeginOne(1);
  v1::SaRequest unknown = r;
  unknown.set_id(r.id() + 100);
  EXPECT_TRUE(client_.OnDistribution(Dist(unknown, 6100)).results.empty());
  EXPECT_TRUE(client_.InFlight(1));
  ASSERT_EQ(client_.OnDistribution(Dist(r, 6100)).results.size(), 1u);
  // S5 retransmits the distribution to a resent request: already done.
  EXPECT_TRUE(client_.OnDistribution(Dist(r, 6100)).results.empty());
}

TEST_F(SetupClientTest, S44_DistributionNotMatchingTheRequestIsIgnored) {
  v1::SaRequest r = BeginOne(1);
  v1::Distribution wrong_spi = Dist(r, 6100);
  wrong_spi.mutable_inbound()->set_spi(r.spi() + 1);
  EXPECT_TRUE(client_.OnDistribution(wrong_spi).results.empty());
  v1::Distribution wrong_peer = Dist(r, 6100);
  wrong_peer.set_peer(k2c);
  EXPECT_TRUE(client_.OnDistribution(wrong_peer).results.empty());
  v1::Distribution no_outbound = Dist(r, 6100);
  no_outbound.clear_outbound();
  EXPECT_TRUE(client_.OnDistribution(no_outbound).results.empty());
  EXPECT_TRUE(client_.InFlight(1));
}

TEST_F(SetupClientTest, S47_S48_ConflictChoosesIdAndSpiOutsideTheListAndNotInUse) {
  // Another entry's setup holds SPI 900 locally.
  random_.PushSpi(900);
  v1::SaRequest other = BeginOne(2);
  ASSERT_EQ(other.spi(), 900u);
  random_.PushSpi(5100);
  v1::SaRequest r = BeginOne(1);
  ASSERT_EQ(r.spi(), 5100u);
  ASSERT_EQ(r.id(), 2u);
  // A restarted agent: the controller's rows hold ids 2..4 and 7 with
  // SPIs 5200/5300/5400/5500.
  v1::SetupError e = Error(r, v1::SetupError::CONFLICT);
  const std::vector<std::pair<uint64_t, uint32_t>> listed = {
      {2, 5200}, {3, 5300}, {4, 5400}, {7, 5500}};
  for (auto [id, spi] : listed) {
    auto* entry = e.add_entries();
    entry->set_id(id);
    entry->set_spi(spi);
  }
  random_.PushSpi(5300);  // listed: must be passed over
  random_.PushSpi(900);   // in use locally: must be passed over
  random_.PushSpi(5600);
  clock_.Advance(absl::Seconds(3));
  SetupOutput out = client_.OnError(e);
  EXPECT_TRUE(out.results.empty());
  ASSERT_EQ(out.requests.size(), 1u);
  const v1::SaRequest& again = out.requests[0];
  EXPECT_EQ(again.spi(), 5600u);
  EXPECT_EQ(again.id(), 8u);  // past every listed id
  EXPECT_EQ(again.peer(), k2b);
  EXPECT_FALSE(client_.SpiInUse(5100));  // the old SPI is free again
  EXPECT_TRUE(client_.SpiInUse(5600));
  const SetupInfo info = client_.InFlightSetups().at(0);  // entries sort by id
  EXPECT_EQ(info.spd_entry, 1u);
  EXPECT_EQ(info.conflict_rounds, 1);
  EXPECT_EQ(info.request_id, 8u);
  EXPECT_EQ(info.next_send, clock_.Now() + absl::Seconds(5));
  // Answers to the old id are stale now.
  EXPECT_TRUE(client_.OnDistribution(Dist(r, 6100)).results.empty());
  EXPECT_TRUE(client_.OnError(Error(r, v1::SetupError::NO_POLICY)).results.empty());
  // Later requests of this process stay past the listed ids.
  client_.OnDistribution(Dist(again, 6100));
  EXPECT_EQ(BeginOne(1).id(), 9u);
}

TEST_F(SetupClientTest, S48_ConflictStartsAFreshRequestWithItsOwnSixTries) {
  v1::SaRequest r = BeginOne(1);
  for (int i = 0; i < 4; ++i) {  // tries 2..5
    clock_.Advance(absl::Seconds(5));
    client_.Tick();
  }
  ASSERT_EQ(client_.InFlightSetups().at(0).attempts, 5);
  v1::SaRequest again = client_.OnError(Error(r, v1::SetupError::CONFLICT)).requests.at(0);
  EXPECT_NE(again.id(), r.id());
  EXPECT_NE(again.spi(), r.spi());
  const SetupInfo info = client_.InFlightSetups().at(0);
  EXPECT_EQ(info.attempts, 1);
  EXPECT_EQ(info.conflict_rounds, 1);
  EXPECT_EQ(info.next_send, clock_.Now() + absl::Seconds(5));
  int resends = 0;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(5));
    SetupOutput out = client_.Tick();
    ASSERT_EQ(out.requests.size(), 1u);
    EXPECT_EQ(out.requests[0].id(), again.id());
    EXPECT_EQ(out.requests[0].spi(), again.spi());
    ++resends;
  }
  EXPECT_EQ(resends, 5);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(client_.Tick().results.size(), 1u);
}

TEST_F(SetupClientTest, S48_ConflictRoundsAreBounded) {
  v1::SaRequest r = BeginOne(1);
  for (int round = 1; round <= 8; ++round) {
    SetupOutput out = client_.OnError(Error(r, v1::SetupError::CONFLICT));
    ASSERT_EQ(out.requests.size(), 1u) << "round " << round;
    r = out.requests[0];
  }
  SetupOutput out = client_.OnError(Error(r, v1::SetupError::CONFLICT));
  EXPECT_TRUE(out.requests.empty());
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(out.results[0].error, v1::SetupError::CONFLICT);
  EXPECT_FALSE(client_.InFlight(1));
  EXPECT_FALSE(client_.SpiInUse(r.spi()));
}

TEST_F(SetupClientTest, S47_S49_FinalErrorsEndTheSetupWithFailure) {
  const std::vector<std::pair<v1::SetupError::Code, absl::StatusCode>> cases = {
      {v1::SetupError::NO_POLICY, absl::StatusCode::kNotFound},
      {v1::SetupError::PEER_UNREACHABLE, absl::StatusCode::kUnavailable},
      {v1::SetupError::INVALID_ARGUMENT, absl::StatusCode::kInvalidArgument},
      {v1::SetupError::PERMISSION_DENIED, absl::StatusCode::kPermissionDenied},
  };
  for (auto [code, status] : cases) {
    SCOPED_TRACE(v1::SetupError::Code_Name(code));
    v1::SaRequest r = BeginOne(1);
    SetupOutput out = client_.OnError(Error(r, code));
    EXPECT_TRUE(out.requests.empty());
    ASSERT_EQ(out.results.size(), 1u);
    EXPECT_EQ(out.results[0].status.code(), status);
    EXPECT_EQ(out.results[0].error, code);
    EXPECT_TRUE(out.results[0].packet_waiting);  // S49: the packet path is told
    EXPECT_FALSE(client_.InFlight(1));
    EXPECT_FALSE(client_.SpiInUse(r.spi()));
    clock_.Advance(absl::Seconds(60));
    EXPECT_TRUE(client_.Tick().requests.empty());  // no resends after failure
  }
}

TEST_F(SetupClientTest, UnavailableKeepsRetryingOnTheNormalSchedule) {
  v1::SaRequest r = BeginOne(1);
  clock_.Advance(absl::Seconds(1));
  SetupOutput out = client_.OnError(Error(r, v1::SetupError::UNAVAILABLE));
  EXPECT_TRUE(out.requests.empty());
  EXPECT_TRUE(out.results.empty());
  EXPECT_TRUE(client_.InFlight(1));
  clock_.Advance(absl::Seconds(4));  // 5 s after the first send
  out = client_.Tick();
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].id(), r.id());
  EXPECT_EQ(out.requests[0].spi(), r.spi());
  // It does not extend the six tries: failure still at 30 s.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Seconds(5));
    client_.OnError(Error(r, v1::SetupError::UNAVAILABLE));
    EXPECT_EQ(client_.Tick().requests.size(), 1u);
  }
  clock_.Advance(absl::Seconds(5));
  out = client_.Tick();
  ASSERT_EQ(out.results.size(), 1u);
  EXPECT_EQ(out.results[0].status.code(), absl::StatusCode::kDeadlineExceeded);
}

// Issue #11 review: the controller's new limits must not fail setups that
// would succeed a few seconds later.
TEST_F(SetupClientTest, ResourceExhaustedKeepsRetrying) {
  v1::SaRequest r = BeginOne(1);
  SetupOutput out = client_.OnError(Error(r, v1::SetupError::RESOURCE_EXHAUSTED));
  EXPECT_TRUE(out.results.empty());
  EXPECT_TRUE(client_.InFlight(1));
  clock_.Advance(absl::Seconds(5));
  out = client_.Tick();
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].id(), r.id());
}

TEST_F(SetupClientTest, ErrorForUnknownIdIsIgnored) {
  v1::SaRequest r = BeginOne(1);
  v1::SaRequest other = r;
  other.set_id(r.id() + 5);
  EXPECT_TRUE(client_.OnError(Error(other, v1::SetupError::NO_POLICY)).results.empty());
  EXPECT_TRUE(client_.InFlight(1));
}

}  // namespace
}  // namespace ikeless::agent
