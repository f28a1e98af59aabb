// SA life cycle in the engine: make-before-break rekeying (datapath.h
// InstallSa), lifetimes by time, bytes and packets (RFC 4301 §4.4.2.1), and
// the 64-bit sequence space (RFC 4303 §3.3.3, Appendix A).

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

class LifecycleTest : public EngineTest {
 protected:
  // One packet each way; returns the SPIs used (a->b, b->a) and checks that
  // both arrived.
  std::pair<uint32_t, uint32_t> PingPong() {
    EngineOutput ab = Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "ping"));
    EngineOutput ba = Out(b_, Udp("10.2.0.9", "10.1.0.5", 2, 1, "pong"));
    EXPECT_EQ(ab.to_network.size(), 1u);
    EXPECT_EQ(ba.to_network.size(), 1u);
    if (ab.to_network.empty() || ba.to_network.empty()) return {0, 0};
    EXPECT_EQ(Carry(ab, b_).to_tun.size(), 1u) << "a->b lost";
    EXPECT_EQ(Carry(ba, a_).to_tun.size(), 1u) << "b->a lost";
    return {SpiOf(ab.to_network[0]), SpiOf(ba.to_network[0])};
  }
};

// Rekey: both ends install the new pair; each keeps sending on the old SA
// until the peer's traffic on the new inbound SA (or the switch delay)
// shows the peer has it. No packet is lost on the way.
TEST_F(LifecycleTest, MakeBeforeBreakWithoutLoss) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  EXPECT_EQ(PingPong(), std::make_pair(0x1001u, 0x2001u));

  InstallPair(0x1002, 0x2002);  // new outbound SAs are pending on both ends
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1001u);
  EXPECT_EQ(b_.active_outbound_spi(1), 0x2001u);
  EXPECT_EQ(PingPong(), std::make_pair(0x1001u, 0x2001u));

  // a's switch delay runs out first: a moves to 0x1002; b sees traffic on
  // its newest inbound SA and moves to 0x2002 at once.
  clock_.Advance(absl::Seconds(1));
  EngineOutput ignored;
  a_.Tick(clock_.Monotonic(), &ignored);
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1002u);
  EXPECT_EQ(b_.active_outbound_spi(1), 0x2001u);
  EngineOutput ab = Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "ping"));
  ASSERT_EQ(ab.to_network.size(), 1u);
  EXPECT_EQ(SpiOf(ab.to_network[0]), 0x1002u);
  EXPECT_EQ(Carry(ab, b_).to_tun.size(), 1u);
  EXPECT_EQ(b_.active_outbound_spi(1), 0x2002u);
  EXPECT_EQ(PingPong(), std::make_pair(0x1002u, 0x2002u));

  // Packets still in flight on the old SAs are accepted until removal.
  ASSERT_TRUE(a_.RemoveSa(Direction::kOutbound, {kNodeB, 0x1001}).ok());
  ASSERT_TRUE(b_.RemoveSa(Direction::kInbound, {kNodeB, 0x1001}).ok());
  EXPECT_EQ(PingPong(), std::make_pair(0x1002u, 0x2002u));
}

TEST_F(LifecycleTest, PeerAlreadyOnNewSaSwitchesAtInstall) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  EngineOutput ignored;
  // b installs the new pair and (delay over) sends on it before a has its
  // new outbound SA.
  ASSERT_TRUE(a_.InstallSa(1, Direction::kInbound, Sa(0x2002, kNodeB, kNodeA), &ignored).ok());
  ASSERT_TRUE(b_.InstallSa(1, Direction::kInbound, Sa(0x1002, kNodeA, kNodeB), &ignored).ok());
  ASSERT_TRUE(b_.InstallSa(1, Direction::kOutbound, Sa(0x2002, kNodeB, kNodeA), &ignored).ok());
  clock_.Advance(absl::Seconds(2));
  b_.Tick(clock_.Monotonic(), &ignored);
  EngineOutput ba = Out(b_, Udp("10.2.0.9", "10.1.0.5", 2, 1, "new"));
  ASSERT_EQ(SpiOf(ba.to_network[0]), 0x2002u);
  EXPECT_EQ(Carry(ba, a_).to_tun.size(), 1u);
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1002, kNodeA, kNodeB), &ignored).ok());
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1002u);
}

TEST_F(LifecycleTest, TrafficOnTheOldInboundDoesNotSwitch) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kInbound, Sa(0x2002, kNodeB, kNodeA), &ignored).ok());
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1002, kNodeA, kNodeB), &ignored).ok());
  Carry(Out(b_, Udp("10.2.0.9", "10.1.0.5", 2, 1, "old")), a_);
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1001u);
  clock_.Advance(absl::Milliseconds(999));
  EXPECT_EQ(SpiOf(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x")).to_network[0]), 0x1001u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(SpiOf(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x")).to_network[0]), 0x1002u);
}

TEST_F(LifecycleTest, RemovingTheActiveOutboundPromotesTheSuccessor) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1002, kNodeA, kNodeB), &ignored).ok());
  ASSERT_TRUE(a_.RemoveSa(Direction::kOutbound, {kNodeB, 0x1001}).ok());
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1002u);
}

// A new SPD (the agent's pushed SPD changing under live SAs): the entry
// that stays keeps its SAs and its flow without a pause; the removed
// entry's traffic matches nothing, its SAs deliver nothing and can still
// be removed; the added entry acquires.
TEST_F(LifecycleTest, NewSpdKeepsTheSasOfEntriesThatStay) {
  ASSERT_TRUE(a_.SetPolicies({Entry(1, "10.1.0.0/16", "10.2.0.0/16"),
                              Entry(2, "10.1.0.0/16", "10.3.0.0/16")}).ok());
  ASSERT_TRUE(b_.SetPolicies({Entry(1, "10.2.0.0/16", "10.1.0.0/16"),
                              Entry(2, "10.3.0.0/16", "10.1.0.0/16")}).ok());
  InstallPair(0x1001, 0x2001);
  InstallPair(0x1003, 0x2003, {}, 2);
  EXPECT_EQ(PingPong(), std::make_pair(0x1001u, 0x2001u));

  ASSERT_TRUE(a_.SetPolicies({Entry(5, "10.1.0.0/16", "10.4.0.0/16"),
                              Entry(1, "10.1.0.0/16", "10.2.0.0/16")}).ok());
  EXPECT_EQ(PingPong(), std::make_pair(0x1001u, 0x2001u)) << "entry 1 carries on, same SAs";
  auto c = a_.Counters(Direction::kOutbound, {kNodeB, 0x1001});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 2u) << "one packet before the new SPD, one after";

  const uint64_t no_policy = a_.stats().out_no_policy;
  EXPECT_TRUE(Out(a_, Udp("10.1.0.5", "10.3.0.9", 1, 2, "x")).to_network.empty());
  EXPECT_EQ(a_.stats().out_no_policy, no_policy + 1) << "entry 2's traffic matches nothing";
  const uint64_t mismatch = a_.stats().policy_mismatch;
  EngineOutput late = Carry(Out(b_, Udp("10.3.0.9", "10.1.0.5", 2, 1, "late")), a_);
  EXPECT_TRUE(late.to_tun.empty()) << "an SA whose entry is gone delivers nothing";
  EXPECT_EQ(a_.stats().policy_mismatch, mismatch + 1);
  EXPECT_TRUE(a_.RemoveSa(Direction::kOutbound, {kNodeB, 0x1003}).ok());
  EXPECT_TRUE(a_.RemoveSa(Direction::kInbound, {kNodeA, 0x2003}).ok());
  EXPECT_EQ(a_.Counters(Direction::kInbound, {kNodeA, 0x2003}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1001u);

  EngineOutput added = Out(a_, Udp("10.1.0.5", "10.4.0.9", 1, 2, "new"));
  ASSERT_EQ(added.events.size(), 1u);
  EXPECT_EQ(added.events[0].kind, Kind::kAcquire);
  EXPECT_EQ(added.events[0].spd_entry, 5u);
}

TEST_F(LifecycleTest, TimeLifetimes) {
  SetTunnelPolicies();
  SaOptions o;
  o.lifetime.set_soft_seconds(10);
  o.lifetime.set_hard_seconds(20);
  InstallPair(0x1001, 0x2001, o);
  EngineOutput out;
  clock_.Advance(absl::Seconds(9));
  a_.Tick(clock_.Monotonic(), &out);
  EXPECT_TRUE(out.events.empty());
  clock_.Advance(absl::Seconds(1));
  a_.Tick(clock_.Monotonic(), &out);
  EXPECT_EQ(Kinds(out), (std::vector<Kind>{Kind::kSoftExpire, Kind::kSoftExpire}));
  for (const DatapathEvent& e : out.events) EXPECT_EQ(e.spd_entry, 1u);
  out.clear();
  a_.Tick(clock_.Monotonic(), &out);  // soft is said once
  EXPECT_TRUE(out.events.empty());
  clock_.Advance(absl::Seconds(10));
  a_.Tick(clock_.Monotonic(), &out);
  ASSERT_EQ(Kinds(out), (std::vector<Kind>{Kind::kHardExpire, Kind::kHardExpire}));
  EXPECT_EQ(out.events[0].direction, Direction::kInbound);
  EXPECT_EQ(out.events[0].sa.spi, 0x2001u);
  EXPECT_EQ(out.events[1].direction, Direction::kOutbound);
  EXPECT_EQ(out.events[1].sa, (SaKey{kNodeB, 0x1001}));
  // Gone: traffic asks for a new SA.
  EXPECT_FALSE(a_.Counters(Direction::kOutbound, {kNodeB, 0x1001}).ok());
  EXPECT_EQ(Kinds(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x"))),
            std::vector<Kind>{Kind::kAcquire});
}

TEST_F(LifecycleTest, SoftDefaultsToNinetyPercentOfHard) {
  SetTunnelPolicies();
  SaOptions o;
  o.lifetime.set_hard_seconds(100);
  EngineOutput out;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB, o), &out).ok());
  clock_.Advance(absl::Seconds(89));
  a_.Tick(clock_.Monotonic(), &out);
  EXPECT_TRUE(out.events.empty());
  clock_.Advance(absl::Seconds(1));
  a_.Tick(clock_.Monotonic(), &out);
  EXPECT_EQ(Kinds(out), std::vector<Kind>{Kind::kSoftExpire});
}

TEST_F(LifecycleTest, PacketAndByteLifetimes) {
  SetTunnelPolicies();
  SaOptions o;
  o.lifetime.set_soft_packets(2);
  o.lifetime.set_hard_packets(3);
  InstallPair(0x1001, 0x2001, o);
  const std::vector<uint8_t> p = Udp("10.1.0.5", "10.2.0.9", 1, 2, "x");
  EXPECT_TRUE(Out(a_, p).events.empty());
  EngineOutput second = Out(a_, p);
  EXPECT_EQ(Kinds(second), std::vector<Kind>{Kind::kSoftExpire});
  EngineOutput third = Out(a_, p);
  ASSERT_EQ(third.to_network.size(), 1u);  // the last packet still goes
  EXPECT_EQ(Kinds(third), std::vector<Kind>{Kind::kHardExpire});
  EXPECT_EQ(Kinds(Out(a_, p)), std::vector<Kind>{Kind::kAcquire});
  // The receiver counts the same way.
  EngineOutput in = Carry(second, b_);
  in = Carry(third, b_);
  EXPECT_EQ(in.to_tun.size(), 1u);
  EXPECT_EQ(Kinds(in), std::vector<Kind>{Kind::kSoftExpire});

  SaOptions bytes;
  bytes.lifetime.set_soft_bytes(100);
  bytes.lifetime.set_hard_bytes(250);
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1005, kNodeA, kNodeB, bytes), &ignored)
                  .ok());
  a_.ReleaseHeld(1, &ignored);
  const std::vector<uint8_t> big = Udp("10.1.0.5", "10.2.0.9", 1, 2, std::string(72, 'b'));
  ASSERT_EQ(big.size(), 100u);
  EXPECT_EQ(Kinds(Out(a_, big)), std::vector<Kind>{Kind::kSoftExpire});
  EXPECT_TRUE(Out(a_, big).events.empty());
  EXPECT_EQ(Kinds(Out(a_, big)), std::vector<Kind>{Kind::kHardExpire});
}

TEST_F(LifecycleTest, SupersededOutboundAsksForNoRekey) {
  SetTunnelPolicies();
  SaOptions o;
  o.lifetime.set_soft_seconds(10);
  o.lifetime.set_hard_seconds(20);
  EngineOutput out;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB, o), &out).ok());
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1002, kNodeA, kNodeB), &out).ok());
  clock_.Advance(absl::Seconds(10));
  a_.Tick(clock_.Monotonic(), &out);  // switches to 0x1002, then 0x1001 is soft
  EXPECT_EQ(a_.active_outbound_spi(1), 0x1002u);
  EXPECT_TRUE(out.events.empty());
  clock_.Advance(absl::Seconds(10));
  a_.Tick(clock_.Monotonic(), &out);  // the hard end is still reported
  EXPECT_EQ(Kinds(out), std::vector<Kind>{Kind::kHardExpire});
}

// RFC 4303 §3.3.3: a 32-bit counter must not cycle: the SA hard-expires.
TEST_F(LifecycleTest, SequenceSpaceWithoutEsnEnds) {
  SetTunnelPolicies();
  SaOptions o;
  o.esn = false;
  InstallPair(0x1001, 0x2001, o);
  ASSERT_TRUE(a_.SetNextSequenceForTesting({kNodeB, 0x1001}, 0xfffffffe).ok());
  const std::vector<uint8_t> p = Udp("10.1.0.5", "10.2.0.9", 1, 2, "x");
  EngineOutput one = Out(a_, p);
  EXPECT_EQ(Kinds(one), std::vector<Kind>{Kind::kSoftExpire});
  EngineOutput last = Out(a_, p);
  ASSERT_EQ(last.to_network.size(), 1u);
  EXPECT_EQ(SeqOf(last.to_network[0]), 0xffffffffu);
  EXPECT_EQ(Kinds(last), std::vector<Kind>{Kind::kHardExpire});
  EngineOutput after = Out(a_, p);
  EXPECT_TRUE(after.to_network.empty());
  EXPECT_EQ(Kinds(after), std::vector<Kind>{Kind::kAcquire});
}

TEST_F(LifecycleTest, ExhaustedSaHandsOverToItsSuccessor) {
  SetTunnelPolicies();
  SaOptions o;
  o.esn = false;
  InstallPair(0x1001, 0x2001, o);
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1002, kNodeA, kNodeB), &ignored).ok());
  ASSERT_TRUE(a_.SetNextSequenceForTesting({kNodeB, 0x1001}, 0xffffffff).ok());
  a_.Tick(clock_.Monotonic(), &ignored);
  const std::vector<uint8_t> p = Udp("10.1.0.5", "10.2.0.9", 1, 2, "x");
  EXPECT_EQ(SpiOf(Out(a_, p).to_network[0]), 0x1001u);  // the very last number
  EngineOutput next = Out(a_, p);
  ASSERT_EQ(next.to_network.size(), 1u);
  EXPECT_EQ(SpiOf(next.to_network[0]), 0x1002u);
}

// Appendix A: with ESN the low 32 bits on the wire wrap and the receiver
// follows.
TEST_F(LifecycleTest, EsnCarriesOnAcrossTheLowHalfWrap) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  ASSERT_TRUE(a_.SetNextSequenceForTesting({kNodeB, 0x1001}, 0xffffff00).ok());
  std::vector<uint32_t> wire_seqs;
  for (int i = 0; i < 300; ++i) {
    EngineOutput out = Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, std::to_string(i)));
    ASSERT_EQ(out.to_network.size(), 1u);
    wire_seqs.push_back(SeqOf(out.to_network[0]));
    ASSERT_EQ(Carry(out, b_).to_tun.size(), 1u) << i;
  }
  EXPECT_EQ(wire_seqs[255], 0xffffffffu);
  EXPECT_EQ(wire_seqs[256], 0u);  // seq 2^32: low half 0
  EXPECT_EQ(wire_seqs[299], 43u);
  auto c = b_.Counters(Direction::kInbound, {kNodeB, 0x1001});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 300u);
  EXPECT_EQ(c->integrity_failures, 0u);
}

}  // namespace
}  // namespace ikeless::datapath::esp::testing
