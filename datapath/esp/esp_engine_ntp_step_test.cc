// Issue #12 point 4: the engine's in-process deadlines (SA lifetimes by
// time, make-before-break switch delays, parked packets) run on the
// clock's monotonic reading. An NTP step of the wall clock, either way,
// moves none of them; the passing of time (FakeClock::Advance) still does.

#include "datapath/esp/engine_test_fixture.h"
#include "datapath/esp/esp_engine.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp::testing {
namespace {

using Kind = DatapathEvent::Kind;

std::vector<Kind> Kinds(const EngineOutput& out) {
  std::vector<Kind> k;
  for (const DatapathEvent& e : out.events) k.push_back(e.kind);
  return k;
}

class NtpStepTest : public EngineTest, public ::testing::WithParamInterface<absl::Duration> {
 protected:
  void Tick(EspEngine& e, EngineOutput* out) { e.Tick(clock_.Monotonic(), out); }
};

// An SA installed just before or just after the step lives its whole
// lifetime: a step back does not stretch it, a step forward does not end
// it early; 10 s and 20 s of real time still raise soft then hard expiry.
TEST_P(NtpStepTest, NtpStepExpiresNoSa) {
  SetTunnelPolicies();
  SaOptions o;
  o.lifetime.set_soft_seconds(10);
  o.lifetime.set_hard_seconds(20);
  EngineOutput out;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB, o), &out).ok());
  clock_.StepWall(GetParam());
  ASSERT_TRUE(a_.InstallSa(2, Direction::kInbound, Sa(0x2001, kNodeB, kNodeA, o), &out).ok());
  Tick(a_, &out);
  EXPECT_EQ(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x")).to_network.size(), 1u);
  EXPECT_TRUE(out.events.empty()) << "an NTP step expired an SA";
  clock_.Advance(absl::Seconds(9));
  Tick(a_, &out);
  EXPECT_TRUE(out.events.empty());
  clock_.Advance(absl::Seconds(1));
  Tick(a_, &out);
  EXPECT_EQ(Kinds(out), (std::vector<Kind>{Kind::kSoftExpire, Kind::kSoftExpire}));
  out.clear();
  clock_.Advance(absl::Seconds(10));
  Tick(a_, &out);
  EXPECT_EQ(Kinds(out), (std::vector<Kind>{Kind::kHardExpire, Kind::kHardExpire}));
}

// A new outbound SA waits for the peer's traffic or its switch delay (1 s
// of real time), not for a wall clock that jumped past it.
TEST_P(NtpStepTest, NtpStepDoesNotEndTheSwitchDelay) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1002, kNodeA, kNodeB), &ignored).ok());
  clock_.StepWall(GetParam());
  // Installed after the step too: its delay starts at the monotonic now.
  ASSERT_TRUE(b_.InstallSa(1, Direction::kOutbound, Sa(0x2002, kNodeB, kNodeA), &ignored).ok());
  const std::vector<uint8_t> ping = Udp("10.1.0.5", "10.2.0.9", 1, 2, "ping");
  ASSERT_EQ(Out(a_, ping).to_network.size(), 1u);  // checks the delay itself
  Tick(a_, &ignored);
  Tick(b_, &ignored);
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1001u);
  EXPECT_EQ(b_.active_outbound_spi(1), 0x2001u);
  clock_.Advance(absl::Seconds(1));
  EngineOutput after = Out(a_, ping);
  ASSERT_EQ(after.to_network.size(), 1u);
  EXPECT_EQ(SpiOf(after.to_network[0]), 0x1002u);
  Tick(b_, &ignored);
  EXPECT_EQ(b_.active_outbound_spi(1), 0x2002u);
}

// A packet parked for an SPI not installed yet waits its full park time (1 s
// of real time) for the SA, however the wall clock moved meanwhile, and no
// longer.
TEST_P(NtpStepTest, NtpStepDropsNoParkedPacketEarlyOrLate) {
  SetTunnelPolicies();
  auto park = [&](uint32_t spi) {
    std::vector<uint8_t> esp(40, 0);  // parked by its SPI before any check
    StoreBe32(esp.data(), spi);
    EngineOutput ignored;
    b_.ProcessInbound(esp, &ignored);
  };
  EngineOutput ignored;
  park(0x9001);
  clock_.StepWall(GetParam());
  park(0x9002);
  Tick(b_, &ignored);
  EXPECT_EQ(b_.parked_count(), 2u);
  clock_.Advance(absl::Milliseconds(999));
  Tick(b_, &ignored);
  EXPECT_EQ(b_.parked_count(), 2u) << "an NTP step dropped a parked packet early";
  clock_.Advance(absl::Milliseconds(1));
  Tick(b_, &ignored);
  EXPECT_EQ(b_.parked_count(), 0u) << "an NTP step kept a parked packet too long";
  // Parked after the step, with the wall clock still off.
  park(0x9003);
  Tick(b_, &ignored);
  EXPECT_EQ(b_.parked_count(), 1u) << "an NTP step dropped a parked packet early";
  clock_.Advance(absl::Milliseconds(999));
  Tick(b_, &ignored);
  EXPECT_EQ(b_.parked_count(), 1u);
  clock_.Advance(absl::Milliseconds(1));
  Tick(b_, &ignored);
  EXPECT_EQ(b_.parked_count(), 0u);
  EXPECT_EQ(b_.stats().unknown_spi, 3u);
}

INSTANTIATE_TEST_SUITE_P(StepForwardAndBack, NtpStepTest,
                         ::testing::Values(absl::Hours(2), -absl::Hours(2)),
                         [](const ::testing::TestParamInfo<absl::Duration>& info) {
                           return info.param > absl::ZeroDuration() ? "Forward2h" : "Back2h";
                         });

}  // namespace
}  // namespace ikeless::datapath::esp::testing
