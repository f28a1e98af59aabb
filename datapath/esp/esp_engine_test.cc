// Packet paths of the engine: protect/bypass/discard, held packets (FIG. 18
// S35-S37), parked packets, and every reason to drop an inbound packet.

#include "datapath/esp/esp_engine.h"

#include "datapath/esp/engine_test_fixture.h"
#include "datapath/esp/esp_packet.h"
#include "datapath/esp/transform.h"
#include "datapath/esp/wire.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp::testing {
namespace {

TEST_F(EngineTest, TunnelRoundTrip) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  const std::vector<uint8_t> p = Udp("10.1.0.5", "10.2.0.9", 4000, 53, "query");
  EngineOutput out = Out(a_, p);
  ASSERT_EQ(out.to_network.size(), 1u);
  EXPECT_EQ(out.to_network[0].destination.ToString(), kNodeB);
  EXPECT_EQ(SpiOf(out.to_network[0]), 0x1001u);
  EXPECT_EQ(SeqOf(out.to_network[0]), 1u);
  // 8 header + 8 IV + payload padded to 4 + 16 ICV.
  EXPECT_EQ(out.to_network[0].esp.size(), 8 + 8 + EspTextSize(p.size(), 4) + 16);
  EngineOutput in = Carry(out, b_);
  ASSERT_EQ(in.to_tun.size(), 1u);
  EXPECT_EQ(in.to_tun[0], p);

  // And back.
  const std::vector<uint8_t> reply = Udp("10.2.0.9", "10.1.0.5", 53, 4000, "answer");
  EngineOutput back = Carry(Out(b_, reply), a_);
  ASSERT_EQ(back.to_tun.size(), 1u);
  EXPECT_EQ(back.to_tun[0], reply);

  auto c = a_.Counters(Direction::kOutbound, {kNodeB, 0x1001});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 1u);
  EXPECT_EQ(c->bytes, p.size());
  c = b_.Counters(Direction::kInbound, {kNodeB, 0x1001});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->packets, 1u);
  EXPECT_EQ(c->bytes, p.size());
  EXPECT_EQ(a_.stats().out_protected, 1u);
  EXPECT_EQ(b_.stats().in_delivered, 1u);
}

TEST_F(EngineTest, EverySuiteBothFamiliesBothModes) {
  struct Suite {
    v1::EncryptionAlgorithm enc;
    size_t key;
    v1::IntegrityAlgorithm integ;
  };
  const Suite suites[] = {
      {v1::ENCRYPTION_AES_GCM_16, 16, v1::INTEGRITY_NONE},
      {v1::ENCRYPTION_AES_GCM_16, 32, v1::INTEGRITY_NONE},
      {v1::ENCRYPTION_CHACHA20_POLY1305, 32, v1::INTEGRITY_NONE},
      {v1::ENCRYPTION_AES_CBC, 16, v1::INTEGRITY_HMAC_SHA2_256_128},
      {v1::ENCRYPTION_AES_CBC, 32, v1::INTEGRITY_HMAC_SHA2_512_256},
      {v1::ENCRYPTION_AES_CBC, 16, v1::INTEGRITY_HMAC_SHA1_96},
      {v1::ENCRYPTION_NULL, 0, v1::INTEGRITY_HMAC_SHA2_384_192},
  };
  uint32_t spi = 0x10000;
  for (const Suite& s : suites) {
    for (bool v6 : {false, true}) {
      for (v1::Mode mode : {v1::MODE_TUNNEL, v1::MODE_TRANSPORT}) {
        SCOPED_TRACE(absl::StrCat(s.enc, "/", s.key, "/", s.integ, v6 ? " v6" : " v4",
                                  mode == v1::MODE_TUNNEL ? " tunnel" : " transport"));
        FakeClock clock;
        EspEngine a(&clock, &random_), b(&clock, &random_);
        const char* na = v6 ? "fd00::1" : kNodeA;
        const char* nb = v6 ? "fd00::2" : kNodeB;
        const char* la = mode == v1::MODE_TUNNEL ? (v6 ? "fd01::/64" : "10.1.0.0/16") : na;
        const char* lb = mode == v1::MODE_TUNNEL ? (v6 ? "fd02::/64" : "10.2.0.0/16") : nb;
        ASSERT_TRUE(a.SetPolicies({Entry(1, la, lb)}).ok());
        ASSERT_TRUE(b.SetPolicies({Entry(1, lb, la)}).ok());
        SaOptions o;
        o.enc = s.enc;
        o.key_bytes = s.key;
        o.integ = s.integ;
        o.mode = mode;
        ++spi;
        EngineOutput ignored;
        ASSERT_TRUE(a.InstallSa(1, Direction::kOutbound, Sa(spi, na, nb, o), &ignored).ok());
        ASSERT_TRUE(b.InstallSa(1, Direction::kInbound, Sa(spi, na, nb, o), &ignored).ok());
        const char* src = mode == v1::MODE_TUNNEL ? (v6 ? "fd01::5" : "10.1.0.5") : na;
        const char* dst = mode == v1::MODE_TUNNEL ? (v6 ? "fd02::9" : "10.2.0.9") : nb;
        for (size_t len : {0, 1, 13, 100, 1300}) {
          const std::vector<uint8_t> p = Udp(src, dst, 1000, 2000, std::string(len, 'z'));
          EngineOutput out;
          a.ProcessOutbound(p, &out);
          ASSERT_EQ(out.to_network.size(), 1u);
          EngineOutput in;
          b.ProcessInbound(out.to_network[0].esp, &in);
          ASSERT_EQ(in.to_tun.size(), 1u) << "len " << len;
          if (mode == v1::MODE_TUNNEL) {
            EXPECT_EQ(in.to_tun[0], p);
          } else {
            // §3.1.1: the receiver rebuilt the header; addresses, protocol
            // and the whole transport segment are the sender's.
            auto got = ParseIpPacket(in.to_tun[0]);
            auto want = ParseIpPacket(p);
            ASSERT_TRUE(got.ok());
            EXPECT_EQ(got->src, want->src);
            EXPECT_EQ(got->dst, want->dst);
            EXPECT_EQ(got->protocol, kProtoUdp);
            EXPECT_EQ(got->length, want->length);
            EXPECT_TRUE(std::equal(p.begin() + want->header_size, p.end(),
                                   in.to_tun[0].begin() + got->header_size));
          }
        }
      }
    }
  }
}

TEST_F(EngineTest, TransportModeDropsFragments) {
  ASSERT_TRUE(a_.SetPolicies({Entry(1, kNodeA, kNodeB)}).ok());
  SaOptions o;
  o.mode = v1::MODE_TRANSPORT;
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x3000, kNodeA, kNodeB, o), &ignored).ok());
  std::vector<uint8_t> p = Udp(kNodeA, kNodeB, 1, 2, "frag");
  p[6] = 0x20;  // more fragments
  EXPECT_TRUE(Out(a_, p).to_network.empty());
  EXPECT_EQ(a_.stats().transport_fragments, 1u);
}

TEST_F(EngineTest, BypassDiscardAndNoPolicy) {
  ASSERT_TRUE(a_.SetPolicies({Entry(1, "10.1.0.0/16", "10.3.0.0/16", SpdEntry::Action::kBypass),
                              Entry(2, "10.1.0.0/16", "10.4.0.0/16", SpdEntry::Action::kDiscard)})
                  .ok());
  const std::vector<uint8_t> p = Udp("10.1.0.1", "10.3.0.1", 1, 2, "clear");
  EngineOutput out = Out(a_, p);
  ASSERT_EQ(out.bypass.size(), 1u);
  EXPECT_EQ(out.bypass[0], p);
  EXPECT_TRUE(Out(a_, Udp("10.1.0.1", "10.4.0.1", 1, 2, "x")).empty());
  EXPECT_TRUE(Out(a_, Udp("10.1.0.1", "10.5.0.1", 1, 2, "x")).empty());
  EXPECT_TRUE(Out(a_, {0x45, 0x00}).empty());
  EXPECT_EQ(a_.stats().out_bypassed, 1u);
  EXPECT_EQ(a_.stats().out_discarded, 1u);
  EXPECT_EQ(a_.stats().out_no_policy, 1u);
  EXPECT_EQ(a_.stats().out_malformed, 1u);
}

// FIG. 18 S35/S36: no SA -> held, one kAcquire; ReleaseHeld sends them in
// order.
TEST_F(EngineTest, HeldUntilReleasedInOrder) {
  SetTunnelPolicies();
  std::vector<std::vector<uint8_t>> sent;
  size_t acquires = 0;
  for (int i = 0; i < 3; ++i) {
    sent.push_back(Udp("10.1.0.5", "10.2.0.9", 1, 2, "held " + std::to_string(i)));
    EngineOutput out = Out(a_, sent.back());
    EXPECT_TRUE(out.to_network.empty());
    for (const DatapathEvent& ev : out.events) {
      EXPECT_EQ(ev.kind, DatapathEvent::Kind::kAcquire);
      EXPECT_EQ(ev.spd_entry, 1u);
      ++acquires;
    }
  }
  EXPECT_EQ(acquires, 1u);
  EXPECT_EQ(a_.held_count(1), 3u);

  InstallPair(0x1001, 0x2001);
  EngineOutput released;
  a_.ReleaseHeld(1, &released);
  ASSERT_EQ(released.to_network.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(SeqOf(released.to_network[i]), i + 1);
  EngineOutput in = Carry(released, b_);
  EXPECT_EQ(in.to_tun, sent);
  EXPECT_EQ(a_.held_count(1), 0u);
  EXPECT_EQ(a_.stats().held_released, 3u);
  EngineOutput next = Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "after"));
  ASSERT_EQ(next.to_network.size(), 1u);
  EXPECT_EQ(SeqOf(next.to_network[0]), 4u);
}

TEST_F(EngineTest, FirstPacketAfterInstallFlushesHeldFirst) {
  SetTunnelPolicies();
  Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "first"));
  InstallPair(0x1001, 0x2001);
  EngineOutput out = Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "second"));
  ASSERT_EQ(out.to_network.size(), 2u);
  EngineOutput in = Carry(out, b_);
  ASSERT_EQ(in.to_tun.size(), 2u);
  EXPECT_EQ(AsString(in.to_tun[0]).substr(28), "first");
  EXPECT_EQ(AsString(in.to_tun[1]).substr(28), "second");
}

TEST_F(EngineTest, HeldQueueIsBounded) {
  SetTunnelPolicies();
  size_t events = 0;
  for (int i = 0; i < 70; ++i) events += Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x")).events.size();
  EXPECT_EQ(events, 1u);
  EXPECT_EQ(a_.held_count(1), 64u);
  EXPECT_EQ(a_.stats().held_overflow, 6u);
}

// S37: setup failed; the held packets go, and the next packet asks again.
TEST_F(EngineTest, DropHeldThenAcquireAgain) {
  SetTunnelPolicies();
  EXPECT_EQ(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x")).events.size(), 1u);
  Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "y"));
  a_.DropHeld(1);
  EXPECT_EQ(a_.held_count(1), 0u);
  EXPECT_EQ(a_.stats().held_dropped, 2u);
  EXPECT_EQ(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "z")).events.size(), 1u);
  EXPECT_EQ(a_.stats().acquires, 2u);
}

TEST_F(EngineTest, ReleaseWithoutSaDropsAndReasks) {
  SetTunnelPolicies();
  Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x"));
  EngineOutput out;
  a_.ReleaseHeld(1, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(a_.held_count(1), 0u);
  EXPECT_EQ(a_.stats().held_dropped, 1u);
  EXPECT_EQ(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "y")).events.size(), 1u);
}

TEST_F(EngineTest, NewPolicyDropsHeldOfRemovedEntries) {
  SetTunnelPolicies();
  Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "x"));
  ASSERT_TRUE(a_.SetPolicies({Entry(2, "10.1.0.0/16", "10.2.0.0/16")}).ok());
  EXPECT_EQ(a_.held_count(1), 0u);
  EXPECT_EQ(a_.stats().held_dropped, 1u);
  EXPECT_FALSE(a_.SetPolicies({Entry(0, "*", "*")}).ok());
}

// The peer's first packet can beat our inbound InstallSa: it is parked and
// delivered when the SA lands.
TEST_F(EngineTest, UnknownSpiIsParkedThenDelivered) {
  SetTunnelPolicies();
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB), &ignored).ok());
  const std::vector<uint8_t> p = Udp("10.1.0.5", "10.2.0.9", 1, 2, "early");
  EngineOutput in = Carry(Out(a_, p), b_);
  EXPECT_TRUE(in.to_tun.empty());
  EXPECT_EQ(b_.parked_count(), 1u);
  EngineOutput installed;
  ASSERT_TRUE(b_.InstallSa(1, Direction::kInbound, Sa(0x1001, kNodeA, kNodeB), &installed).ok());
  ASSERT_EQ(installed.to_tun.size(), 1u);
  EXPECT_EQ(installed.to_tun[0], p);
  EXPECT_EQ(b_.parked_count(), 0u);
  EXPECT_EQ(b_.stats().unparked, 1u);
}

// A peer that restarted sends on a new SA while we still have an old
// outbound SA to it: the parked packet waits for our new outbound SA, so the
// answer it provokes cannot leave on the old one (which the peer lost).
TEST_F(EngineTest, ParkedPacketWaitsForNewOutboundWhenAnOldOneExists) {
  SetTunnelPolicies();
  EngineOutput ignored;
  ASSERT_TRUE(b_.InstallSa(1, Direction::kOutbound, Sa(0x2001, kNodeB, kNodeA), &ignored).ok());
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1002, kNodeA, kNodeB), &ignored).ok());
  const std::vector<uint8_t> p = Udp("10.1.0.5", "10.2.0.9", 1, 2, "after restart");
  Carry(Out(a_, p), b_);
  EXPECT_EQ(b_.parked_count(), 1u);
  EngineOutput in;
  ASSERT_TRUE(b_.InstallSa(1, Direction::kInbound, Sa(0x1002, kNodeA, kNodeB), &in).ok());
  EXPECT_TRUE(in.to_tun.empty());
  EXPECT_EQ(b_.parked_count(), 1u);
  EngineOutput out;
  ASSERT_TRUE(b_.InstallSa(1, Direction::kOutbound, Sa(0x2002, kNodeB, kNodeA), &out).ok());
  ASSERT_EQ(out.to_tun.size(), 1u);
  EXPECT_EQ(out.to_tun[0], p);
  EXPECT_EQ(b_.active_outbound_spi(1), 0x2002u);  // the answer takes the new SA
}

TEST_F(EngineTest, ParkedPacketsExpireAndAreBounded) {
  SetTunnelPolicies();
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB), &ignored).ok());
  Carry(Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "late")), b_);
  clock_.Advance(absl::Milliseconds(999));
  b_.Tick(clock_.Monotonic(), &ignored);
  EXPECT_EQ(b_.parked_count(), 1u);
  clock_.Advance(absl::Milliseconds(1));
  b_.Tick(clock_.Monotonic(), &ignored);
  EXPECT_EQ(b_.parked_count(), 0u);
  EXPECT_EQ(b_.stats().unknown_spi, 1u);
  EngineOutput installed;
  ASSERT_TRUE(b_.InstallSa(1, Direction::kInbound, Sa(0x1001, kNodeA, kNodeB), &installed).ok());
  EXPECT_TRUE(installed.to_tun.empty());

  for (int i = 0; i < 70; ++i) {
    std::vector<uint8_t> junk(40, 0);
    StoreBe32(junk.data(), 0x9000 + i);
    b_.ProcessInbound(junk, &ignored);
  }
  EXPECT_EQ(b_.parked_count(), 64u);
  EXPECT_EQ(b_.stats().unknown_spi, 1u + 6u);
}

TEST_F(EngineTest, TamperedReplayedAndMalformedInbound) {
  SetTunnelPolicies();
  InstallPair(0x1001, 0x2001);
  EngineOutput first = Out(a_, Udp("10.1.0.5", "10.2.0.9", 1, 2, "one"));
  ASSERT_EQ(first.to_network.size(), 1u);
  const std::vector<uint8_t> wire = first.to_network[0].esp;
  EngineOutput ignored;

  // ICV failure; and a forged packet far ahead must not move the window.
  std::vector<uint8_t> bad = wire;
  bad[20] ^= 1;
  b_.ProcessInbound(bad, &ignored);
  bad = wire;
  StoreBe32(&bad[4], 1000);
  b_.ProcessInbound(bad, &ignored);
  EXPECT_EQ(b_.stats().integrity, 2u);
  auto c = b_.Counters(Direction::kInbound, {kNodeB, 0x1001});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->integrity_failures, 2u);

  std::vector<uint8_t> good = wire;
  EngineOutput in;
  b_.ProcessInbound(good, &in);
  EXPECT_EQ(in.to_tun.size(), 1u);
  good = wire;
  b_.ProcessInbound(good, &in);  // replay
  EXPECT_EQ(in.to_tun.size(), 1u);
  EXPECT_EQ(b_.stats().replay, 1u);
  c = b_.Counters(Direction::kInbound, {kNodeB, 0x1001});
  EXPECT_EQ(c->replay_drops, 1u);
  EXPECT_EQ(c->packets, 1u);

  std::vector<uint8_t> shorty(7, 1), reserved(40, 0), truncated(wire.begin(), wire.begin() + 20);
  StoreBe32(reserved.data(), 255);
  b_.ProcessInbound(shorty, &ignored);
  b_.ProcessInbound(reserved, &ignored);
  b_.ProcessInbound(truncated, &ignored);
  EXPECT_EQ(b_.stats().in_malformed, 1u);
  EXPECT_EQ(b_.stats().in_reserved_spi, 1u);
  EXPECT_EQ(b_.stats().in_truncated, 1u);
}

// Authentic packets whose content is wrong, made with the SA's own keys.
TEST_F(EngineTest, AuthenticButUnacceptablePayloads) {
  SetTunnelPolicies();
  EngineOutput ignored;
  const v1::SaParameters params = Sa(0x1001, kNodeA, kNodeB);
  ASSERT_TRUE(b_.InstallSa(1, Direction::kInbound, params, &ignored).ok());
  auto t = MakeTransform(params, &random_);
  ASSERT_TRUE(t.ok());
  uint32_t seq = 0;
  auto craft = [&](const std::vector<uint8_t>& payload, uint8_t nh, bool break_padding) {
    std::vector<uint8_t> p;
    ++seq;
    EspLayout l = FrameEsp(0x1001, seq, {8, 16, 4}, payload, nh, &p);
    if (break_padding) p[l.text_offset + payload.size()] = 9;
    std::span<uint8_t> s(p);
    (*t)->MakeIv(seq, s.subspan(8, 8));
    EXPECT_TRUE((*t)->Seal({0x1001, seq, true}, s.subspan(8, 8), s.subspan(16, l.text_size),
                           s.subspan(l.icv_offset))
                    .ok());
    return p;
  };
  const std::vector<uint8_t> ok = Udp("10.1.0.5", "10.2.0.9", 1, 2, "ab");  // 30 -> 2 pad
  std::vector<uint8_t> p = craft(ok, kProtoNoNext, false);
  b_.ProcessInbound(p, &ignored);
  p = craft(ok, kProtoIpv6, false);
  b_.ProcessInbound(p, &ignored);
  p = craft(ok, kProtoIpv4, true);
  b_.ProcessInbound(p, &ignored);
  std::vector<uint8_t> broken = ok;
  broken[3] = 200;  // total length beyond the packet
  p = craft(broken, kProtoIpv4, false);
  b_.ProcessInbound(p, &ignored);
  p = craft(Udp("10.7.0.5", "10.2.0.9", 1, 2, "ab"), kProtoIpv4, false);  // not 10.1/16
  b_.ProcessInbound(p, &ignored);
  EXPECT_EQ(b_.stats().dummy, 1u);
  EXPECT_EQ(b_.stats().bad_next_header, 1u);
  EXPECT_EQ(b_.stats().bad_padding, 1u);
  EXPECT_EQ(b_.stats().bad_inner, 1u);
  EXPECT_EQ(b_.stats().policy_mismatch, 1u);
  EXPECT_TRUE(ignored.to_tun.empty());
  p = craft(ok, kProtoIpv4, false);
  b_.ProcessInbound(p, &ignored);
  EXPECT_EQ(ignored.to_tun.size(), 1u);
}

TEST_F(EngineTest, InstallRemoveAndCountersErrors) {
  SetTunnelPolicies();
  EngineOutput ignored;
  v1::SaParameters bad_key = Sa(0x1001, kNodeA, kNodeB);
  bad_key.set_encryption_key("short");
  absl::Status s = a_.InstallSa(1, Direction::kOutbound, bad_key, &ignored);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("encryption_key"), absl::string_view::npos) << s;
  s = a_.InstallSa(1, Direction::kOutbound, Sa(200, kNodeA, kNodeB), &ignored);
  EXPECT_NE(s.message().find("spi: 200 is reserved"), absl::string_view::npos) << s;
  s = a_.InstallSa(0, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB), &ignored);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  v1::SaParameters bad_dst = Sa(0x1001, kNodeA, "nowhere");
  s = a_.InstallSa(1, Direction::kOutbound, bad_dst, &ignored);
  EXPECT_NE(s.message().find("destination"), absl::string_view::npos) << s;
  SaOptions big;
  big.replay_window = 5000;
  s = a_.InstallSa(1, Direction::kInbound, Sa(0x1001, kNodeB, kNodeA, big), &ignored);
  EXPECT_NE(s.message().find("replay_window"), absl::string_view::npos) << s;

  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB), &ignored).ok());
  EXPECT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB), &ignored).ok());
  EXPECT_EQ(a_.InstallSa(2, Direction::kOutbound, Sa(0x1001, kNodeA, kNodeB), &ignored).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(a_.InstallSa(1, Direction::kInbound, Sa(0x2001, kNodeB, kNodeA), &ignored).ok());
  EXPECT_EQ(a_.InstallSa(1, Direction::kInbound, Sa(0x2001, kNodeB, "198.18.0.9"), &ignored).code(),
            absl::StatusCode::kAlreadyExists);

  EXPECT_EQ(a_.RemoveSa(Direction::kOutbound, {kNodeB, 0x9999}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(a_.RemoveSa(Direction::kInbound, {"198.18.0.9", 0x2001}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(a_.Counters(Direction::kInbound, {kNodeA, 0x1001}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(a_.RemoveSa(Direction::kInbound, {kNodeA, 0x2001}).ok());
  EXPECT_TRUE(a_.RemoveSa(Direction::kOutbound, {kNodeB, 0x1001}).ok());
  EXPECT_EQ(a_.RemoveSa(Direction::kOutbound, {kNodeB, 0x1001}).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EngineTest, SaKeysAreComparedCanonically) {
  ASSERT_TRUE(a_.SetPolicies({Entry(1, "fd01::/64", "fd02::/64")}).ok());
  EngineOutput ignored;
  ASSERT_TRUE(a_.InstallSa(1, Direction::kOutbound, Sa(0x1001, "fd00::1", "fd00:0:0::0002"),
                           &ignored)
                  .ok());
  EXPECT_TRUE(a_.Counters(Direction::kOutbound, {"fd00::2", 0x1001}).ok());
  EXPECT_TRUE(a_.Counters(Direction::kOutbound, {"fd00:0::2", 0x1001}).ok());
}

}  // namespace
}  // namespace ikeless::datapath::esp::testing
