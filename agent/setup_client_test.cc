// The setup client, FIG. 19 (S41-S49) and FIG. 20 (S51-S60), branch by
// branch, with a fake clock and scripted randomness. Addresses follow the
// source's worked example: 2a (198.18.1.1) asks about 2b (198.18.2.1).
#include "agent/setup_client.h"

#include <cstring>
#include <deque>
#include <set>

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;

constexpr char k2a[] = "198.18.1.1";
constexpr char k2b[] = "198.18.2.1";
constexpr char k2c[] = "198.18.3.1";

// Randomness whose next Uint64() values are scripted: Uniform(256, 2^32-1)
// then yields 256 + v for small v. Falls back to a seeded fake.
class ScriptedRandom final : public RandomSource {
 public:
  void Push(uint64_t v) { script_.push_back(v); }
  void PushSpi(uint32_t spi) { Push(spi - kMinSpi); }
  void Fill(uint8_t* out, size_t n) override {
    if (n == 8 && !script_.empty()) {
      uint64_t v = script_.front();
      script_.pop_front();
      std::memcpy(out, &v, 8);
      return;
    }
    fallback_.Fill(out, n);
  }

 private:
  std::deque<uint64_t> script_;
  FakeRandom fallback_{42};
};

SpdEntry Entry(uint32_t id, std::string peer, uint32_t protocol = 0, uint32_t port = 0) {
  SpdEntry e;
  e.id = id;
  e.name = "e" + std::to_string(id);
  e.local_prefix = "198.18.10.0/24";
  e.remote_prefix = "198.18.20.0/24";
  e.protocol = protocol;
  e.port = port;
  e.setup_peer = std::move(peer);
  e.local_address = k2a;
  return e;
}

std::vector<SpdEntry> Spd() {
  SpdEntry conventional = Entry(3, "");  // S33: no setup_peer
  SpdEntry bypass = Entry(4, k2c);
  bypass.action = SpdEntry::Action::kBypass;
  return {Entry(1, k2b), Entry(2, k2c, 6, 443), conventional, bypass};
}

v1::Distribution Dist(const v1::SaRequest& r, uint32_t peer_spi) {
  v1::Distribution d;
  d.set_request_id(r.id());
  d.set_source(r.source());
  d.set_peer(r.peer());
  d.set_association_id(77);
  d.mutable_inbound()->set_spi(r.spi());
  d.mutable_inbound()->set_source(r.peer());
  d.mutable_inbound()->set_destination(r.source());
  d.mutable_inbound()->set_encryption_key(std::string(16, 'k'));
  d.mutable_outbound()->set_spi(peer_spi);
  d.mutable_outbound()->set_source(r.source());
  d.mutable_outbound()->set_destination(r.peer());
  return d;
}

v1::SetupError Error(const v1::SaRequest& r, v1::SetupError::Code code) {
  v1::SetupError e;
  e.set_code(code);
  e.set_request_id(r.id());
  e.set_source(r.source());
  e.set_peer(r.peer());
  e.set_message("test");
  return e;
}

v1::RequestStartup Startup(std::string peer, std::string local = k2a, uint32_t protocol = 0,
                           uint32_t port = 0) {
  v1::RequestStartup s;
  s.set_peer(std::move(peer));
  s.set_local(std::move(local));
  s.mutable_selector()->set_protocol(protocol);
  s.mutable_selector()->set_port(port);
  return s;
}

class SetupClientTest : public ::testing::Test {
 protected:
  SetupClientTest() : client_(SetupClient::Options{}, Spd(), &clock_, &random_) {}

  // Begins a setup and returns its one request.
  v1::SaRequest BeginOne(uint32_t entry, SetupTrigger trigger = SetupTrigger::kAcquire) {
    SetupOutput out = client_.Begin(entry, trigger);
    EXPECT_EQ(out.requests.size(), 1u);
    EXPECT_TRUE(out.results.empty());
    return out.requests.empty() ? v1::SaRequest() : out.requests[0];
  }

  FakeClock clock_;
  ScriptedRandom random_;
  SetupClient client_;
};

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

TEST_F(SetupClientTest, ErrorForUnknownIdIsIgnored) {
  v1::SaRequest r = BeginOne(1);
  v1::SaRequest other = r;
  other.set_id(r.id() + 5);
  EXPECT_TRUE(client_.OnError(Error(other, v1::SetupError::NO_POLICY)).results.empty());
  EXPECT_TRUE(client_.InFlight(1));
}

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

}  // namespace
}  // namespace ikeless::agent
