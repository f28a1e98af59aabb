#ifndef IKELESS_DATAPATH_ESP_ENGINE_TEST_FIXTURE_H_
#define IKELESS_DATAPATH_ESP_ENGINE_TEST_FIXTURE_H_

// Two EspEngines, "a" (node 198.18.0.1, network 10.1.0.0/16) and "b" (node
// 198.18.0.2, network 10.2.0.0/16), wired back to back in memory, for the
// engine tests.

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "datapath/esp/esp_engine.h"
#include "datapath/esp/test_util.h"
#include "datapath/esp/wire.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp::testing {

inline constexpr char kNodeA[] = "198.18.0.1";
inline constexpr char kNodeB[] = "198.18.0.2";

inline SpdEntry Entry(uint32_t id, const char* local, const char* remote,
                      SpdEntry::Action action = SpdEntry::Action::kProtect) {
  SpdEntry e;
  e.id = id;
  e.name = "entry" + std::to_string(id);
  e.local_prefix = local;
  e.remote_prefix = remote;
  e.action = action;
  return e;
}

struct SaOptions {
  v1::EncryptionAlgorithm enc = v1::ENCRYPTION_AES_GCM_16;
  size_t key_bytes = 16;
  v1::IntegrityAlgorithm integ = v1::INTEGRITY_NONE;
  v1::Mode mode = v1::MODE_TUNNEL;
  bool esn = true;
  v1::Lifetime lifetime;
  uint32_t replay_window = 0;
};

// SA parameters whose keys derive from the SPI, so both ends agree.
inline v1::SaParameters Sa(uint32_t spi, const std::string& src, const std::string& dst,
                           const SaOptions& o = {}) {
  v1::SaParameters sa;
  sa.set_spi(spi);
  sa.set_source(src);
  sa.set_destination(dst);
  sa.set_protocol(v1::IPSEC_PROTOCOL_ESP);
  sa.set_mode(o.mode);
  sa.set_encryption(o.enc);
  sa.set_integrity(o.integ);
  sa.set_encryption_key(std::string(o.key_bytes, static_cast<char>(spi)));
  const bool aead =
      o.enc == v1::ENCRYPTION_AES_GCM_16 || o.enc == v1::ENCRYPTION_CHACHA20_POLY1305;
  if (aead) sa.set_salt(std::string(4, static_cast<char>(spi >> 8)));
  size_t integ_bytes = 0;
  switch (o.integ) {
    case v1::INTEGRITY_HMAC_SHA2_256_128: integ_bytes = 32; break;
    case v1::INTEGRITY_HMAC_SHA2_384_192: integ_bytes = 48; break;
    case v1::INTEGRITY_HMAC_SHA2_512_256: integ_bytes = 64; break;
    case v1::INTEGRITY_HMAC_SHA1_96: integ_bytes = 20; break;
    default: break;
  }
  sa.set_integrity_key(std::string(integ_bytes, static_cast<char>(spi + 1)));
  *sa.mutable_lifetime() = o.lifetime;
  sa.set_replay_window(o.replay_window);
  sa.set_extended_sequence_numbers(o.esn);
  return sa;
}

inline std::vector<uint8_t> Udp(const char* src, const char* dst, uint16_t sport, uint16_t dport,
                                const std::string& payload) {
  return BuildUdpPacket(*IpAddress::Parse(src), *IpAddress::Parse(dst), sport, dport,
                        Bytes(payload));
}

inline uint32_t SpiOf(const NetworkPacket& p) { return LoadBe32(p.esp.data()); }
inline uint32_t SeqOf(const NetworkPacket& p) { return LoadBe32(p.esp.data() + 4); }

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : a_(&clock_, &random_), b_(&clock_, &random_) {}

  // Mirror-image SPDs: entry 1 protects 10.1/16 <-> 10.2/16.
  void SetTunnelPolicies() {
    ASSERT_TRUE(a_.SetPolicies({Entry(1, "10.1.0.0/16", "10.2.0.0/16")}).ok());
    ASSERT_TRUE(b_.SetPolicies({Entry(1, "10.2.0.0/16", "10.1.0.0/16")}).ok());
  }

  // Installs a->b SA `ab` and b->a SA `ba` on both ends (inbound first).
  void InstallPair(uint32_t ab, uint32_t ba, const SaOptions& o = {}, uint32_t entry = 1) {
    EngineOutput ignored;
    ASSERT_TRUE(a_.InstallSa(entry, Direction::kInbound, Sa(ba, kNodeB, kNodeA, o), &ignored).ok());
    ASSERT_TRUE(a_.InstallSa(entry, Direction::kOutbound, Sa(ab, kNodeA, kNodeB, o), &ignored).ok());
    ASSERT_TRUE(b_.InstallSa(entry, Direction::kInbound, Sa(ab, kNodeA, kNodeB, o), &ignored).ok());
    ASSERT_TRUE(b_.InstallSa(entry, Direction::kOutbound, Sa(ba, kNodeB, kNodeA, o), &ignored).ok());
  }

  EngineOutput Out(EspEngine& e, const std::vector<uint8_t>& packet) {
    EngineOutput out;
    e.ProcessOutbound(packet, &out);
    return out;
  }

  // Hands every ESP packet of `from` to `to`; returns what `to` produced.
  EngineOutput Carry(const EngineOutput& from, EspEngine& to) {
    EngineOutput out;
    for (const NetworkPacket& p : from.to_network) {
      std::vector<uint8_t> copy = p.esp;
      to.ProcessInbound(copy, &out);
    }
    return out;
  }

  FakeClock clock_;
  FakeRandom random_{42};
  EspEngine a_;
  EspEngine b_;
};

}  // namespace ikeless::datapath::esp::testing

#endif  // IKELESS_DATAPATH_ESP_ENGINE_TEST_FIXTURE_H_
