// ESP inbound processing of the in-process engine (datapath/esp): arbitrary
// datagrams from the network into EspEngine::ProcessInbound, with inbound
// SAs of every suite installed (AES-GCM tunnel, ChaCha20-Poly1305 tunnel,
// AES-CBC + HMAC-SHA-256 transport, NULL + HMAC-SHA-1 transport).
//
// Input: byte 0 picks what the rest is.
//   0 mod 5: raw ESP (SPI onward) - header checks, unknown SPIs (parked,
//            then released by Tick), ICV failures.
//   k mod 5 (k = 1..4): byte 1 = next header, bytes 2..5 = sequence
//            number (low 32 bits), the rest a payload; it is sealed for
//            installed SA k exactly as a sender would (FrameEsp + the
//            SA's transform), so the fuzzer reaches what only an
//            authentic packet reaches: replay window, trailer checks,
//            inner-packet parsing, the SPD check of RFC 4301 §5.2.
// Each packet is processed twice (the second time as a replay) and the
// clock is moved on so parked packets and lifetimes are handled too.
// A fresh engine per input keeps runs reproducible.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "datapath/datapath.h"
#include "datapath/esp/esp_engine.h"
#include "datapath/esp/esp_packet.h"
#include "datapath/esp/transform.h"
#include "proto/policy.pb.h"

namespace {

using ikeless::FakeClock;
using ikeless::FakeRandom;
using ikeless::datapath::Direction;
using ikeless::datapath::SpdEntry;
using namespace ikeless::datapath::esp;  // NOLINT
namespace v1 = ikeless::v1;

constexpr char kUs[] = "198.18.0.2";
constexpr char kPeer[] = "198.18.0.1";

struct Suite {
  uint32_t spd_entry;
  uint32_t spi;
  v1::Mode mode;
  v1::EncryptionAlgorithm enc;
  size_t key_bytes;
  v1::IntegrityAlgorithm integ;
  size_t integ_key_bytes;
  bool esn;
  uint32_t replay_window;
};

// Entry 1: 10.1/16 -> 10.2/16 tunnel; entry 2: fd00:1::/64 -> fd00:2::/64
// tunnel; entry 3: the two node addresses, transport.
constexpr Suite kSuites[] = {
    {1, 0x1001, v1::MODE_TUNNEL, v1::ENCRYPTION_AES_GCM_16, 16, v1::INTEGRITY_NONE, 0, true, 64},
    {2, 0x2002, v1::MODE_TUNNEL, v1::ENCRYPTION_CHACHA20_POLY1305, 32, v1::INTEGRITY_NONE, 0, false,
     0},
    {3, 0x3003, v1::MODE_TRANSPORT, v1::ENCRYPTION_AES_CBC, 16, v1::INTEGRITY_HMAC_SHA2_256_128, 32,
     true, 128},
    {3, 0x4004, v1::MODE_TRANSPORT, v1::ENCRYPTION_NULL, 0, v1::INTEGRITY_HMAC_SHA1_96, 20, false,
     32},
};

v1::SaParameters Params(const Suite& s) {
  v1::SaParameters sa;
  sa.set_spi(s.spi);
  sa.set_source(kPeer);
  sa.set_destination(kUs);
  sa.set_protocol(v1::IPSEC_PROTOCOL_ESP);
  sa.set_mode(s.mode);
  sa.set_encryption(s.enc);
  sa.set_integrity(s.integ);
  sa.set_encryption_key(std::string(s.key_bytes, static_cast<char>(s.spi)));
  if (s.enc == v1::ENCRYPTION_AES_GCM_16 || s.enc == v1::ENCRYPTION_CHACHA20_POLY1305) {
    sa.set_salt(std::string(4, static_cast<char>(s.spi >> 8)));
  }
  sa.set_integrity_key(std::string(s.integ_key_bytes, static_cast<char>(s.spi + 1)));
  sa.set_replay_window(s.replay_window);
  sa.set_extended_sequence_numbers(s.esn);
  sa.mutable_lifetime()->set_hard_seconds(3600);
  sa.mutable_lifetime()->set_soft_seconds(3000);
  sa.mutable_lifetime()->set_hard_packets(1000);
  return sa;
}

SpdEntry Entry(uint32_t id, const char* local, const char* remote) {
  SpdEntry e;
  e.id = id;
  e.name = "fuzz" + std::to_string(id);
  e.local_prefix = local;
  e.remote_prefix = remote;
  e.action = SpdEntry::Action::kProtect;
  e.setup_peer = kPeer;
  e.local_address = kUs;
  return e;
}

// Seals `payload` for suite `s` as its sender would (SecurityAssociation::
// Protect without the IP parsing, so any payload and next header go).
std::vector<uint8_t> Seal(const Suite& s, uint8_t next_header, uint32_t seq_lo,
                          std::span<const uint8_t> payload, FakeRandom* random) {
  auto transform = MakeTransform(Params(s), random);
  if (!transform.ok()) __builtin_trap();  // the suites above are all valid
  EspTransform& t = **transform;
  const EspGeometry g{t.iv_size(), t.icv_size(), t.block_size()};
  std::vector<uint8_t> esp;
  const EspLayout l = FrameEsp(s.spi, seq_lo, g, payload, next_header, &esp);
  std::span<uint8_t> p(esp);
  std::span<uint8_t> iv = p.subspan(l.iv_offset, g.iv_size);
  t.MakeIv(seq_lo, iv);
  if (!t.Seal({s.spi, seq_lo, s.esn}, iv, p.subspan(l.text_offset, l.text_size),
              p.subspan(l.icv_offset, g.icv_size))
           .ok()) {
    __builtin_trap();
  }
  return esp;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  FakeClock clock;
  FakeRandom random(7);
  EspEngine engine(&clock, &random);
  if (!engine
           .SetPolicies({Entry(1, "10.2.0.0/16", "10.1.0.0/16"),
                         Entry(2, "fd00:2::/64", "fd00:1::/64"),
                         Entry(3, "198.18.0.2/32", "198.18.0.1/32")})
           .ok()) {
    __builtin_trap();
  }
  EngineOutput out;
  for (const Suite& s : kSuites) {
    if (!engine.InstallSa(s.spd_entry, Direction::kInbound, Params(s), &out).ok()) {
      __builtin_trap();
    }
  }

  std::vector<uint8_t> packet;
  const uint8_t mode = data[0] % 5;
  if (mode == 0 || size < 6) {
    packet.assign(data + 1, data + size);
  } else {
    const Suite& s = kSuites[mode - 1];
    const uint32_t seq_lo = (uint32_t{data[2]} << 24) | (uint32_t{data[3]} << 16) |
                            (uint32_t{data[4]} << 8) | data[5];
    packet = Seal(s, data[1], seq_lo, std::span<const uint8_t>(data + 6, size - 6), &random);
  }

  std::vector<uint8_t> copy = packet;
  engine.ProcessInbound(packet, &out);
  engine.ProcessInbound(copy, &out);  // the same packet again: a replay
  clock.Advance(absl::Seconds(2));    // parked packets expire
  engine.Tick(clock.Now(), &out);
  clock.Advance(absl::Hours(2));      // lifetimes end
  engine.Tick(clock.Now(), &out);

  // IKELESS_FUZZ_DEBUG=1: where each input went (to check the seeds).
  static const bool debug = std::getenv("IKELESS_FUZZ_DEBUG") != nullptr;
  if (debug) {
    const EngineStats& st = engine.stats();
    std::fprintf(stderr,
                 "delivered=%llu replay=%llu integrity=%llu truncated=%llu bad_padding=%llu "
                 "dummy=%llu bad_next_header=%llu bad_inner=%llu policy_mismatch=%llu "
                 "parked=%llu unknown_spi=%llu reserved_spi=%llu malformed=%llu\n",
                 (unsigned long long)st.in_delivered, (unsigned long long)st.replay,
                 (unsigned long long)st.integrity, (unsigned long long)st.in_truncated,
                 (unsigned long long)st.bad_padding, (unsigned long long)st.dummy,
                 (unsigned long long)st.bad_next_header, (unsigned long long)st.bad_inner,
                 (unsigned long long)st.policy_mismatch, (unsigned long long)st.parked,
                 (unsigned long long)st.unknown_spi, (unsigned long long)st.in_reserved_spi,
                 (unsigned long long)st.in_malformed);
  }
  return 0;
}
