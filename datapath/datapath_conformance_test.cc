// One contract, two backends: the in-process ESP engine on a TUN device
// (datapath/esp/) and kernel XFRM (datapath/xfrm/) pass the same cases, in
// a network namespace of the test's own. Cases that install SAs skip on a
// kernel without ESP (this machine's) and run in the VM test (tests/vm/),
// where the kernel has it. Root only; skipped otherwise.
#include <memory>
#include <string>

#include "datapath/datapath.h"
#include "datapath/esp/esp_datapath.h"
#include "datapath/testing/event_recorder.h"
#include "datapath/testing/private_netns.h"
#include "datapath/xfrm/xfrm_datapath.h"
#include "gtest/gtest.h"

namespace ikeless::datapath {
namespace {

using testing::EventRecorder;
using testing::Shell;

constexpr char kLocal[] = "198.18.49.1";
constexpr char kPeer[] = "198.18.50.1";

struct XfrmBackend {
  static absl::StatusOr<std::unique_ptr<Datapath>> Make() {
    Shell("ip route replace 198.18.50.0/24 dev v0 && ip route replace 198.18.51.0/24 dev v0 && "
          "ip route replace 198.18.52.0/24 dev v0");
    xfrm::XfrmDatapath::Options o;
    o.switch_delay = absl::Milliseconds(200);
    o.acquire_expires_seconds = 1;  // S37 -> S35 again within a second
    auto dp = xfrm::XfrmDatapath::Create(o);
    if (!dp.ok()) return dp.status();
    return std::unique_ptr<Datapath>(std::move(*dp));
  }
  // "" if this backend can hold SAs here, else why not.
  static std::string SaSupport(Datapath& dp) {
    return std::string(static_cast<xfrm::XfrmDatapath&>(dp).ProbeEsp(kLocal, kPeer).message());
  }
};

struct EspBackend {
  static absl::StatusOr<std::unique_ptr<Datapath>> Make() {
    esp::EspDatapath::Options o;
    o.tun_name = "iklconf0";
    o.udp_port = 0;
    o.tick_interval = absl::Milliseconds(20);
    o.engine.switch_delay = absl::Milliseconds(200);
    auto dp = esp::EspDatapath::Create(o);
    if (!dp.ok()) return dp.status();
    Shell("ip link set iklconf0 up && ip route replace 198.18.50.0/24 dev iklconf0 && "
          "ip route replace 198.18.51.0/24 dev iklconf0 && "
          "ip route replace 198.18.52.0/24 dev iklconf0");
    return std::unique_ptr<Datapath>(std::move(*dp));
  }
  static std::string SaSupport(Datapath&) { return ""; }
};

SpdEntry Protect(uint32_t id) {
  SpdEntry e;
  e.id = id;
  e.name = "to-b";
  e.local_prefix = "198.18.49.0/24";
  e.remote_prefix = "198.18.50.0/24";
  e.setup_peer = kPeer;
  e.local_address = kLocal;
  return e;
}

v1::SaParameters Sa(uint32_t spi, Direction d) {
  v1::SaParameters sa;
  sa.set_spi(spi);
  sa.set_source(d == Direction::kOutbound ? kLocal : kPeer);
  sa.set_destination(d == Direction::kOutbound ? kPeer : kLocal);
  sa.set_mode(v1::MODE_TUNNEL);
  sa.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  sa.set_encryption_key(std::string(16, 'k'));
  sa.set_salt("salt");
  sa.set_replay_window(128);
  sa.set_extended_sequence_numbers(true);
  sa.mutable_lifetime()->set_hard_seconds(3600);
  return sa;
}

SaKey KeyOf(const v1::SaParameters& sa) { return SaKey{sa.destination(), sa.spi()}; }

// A PROTECT entry for 198.18.49.0/24 -> `remote`, same peer.
SpdEntry ProtectTo(uint32_t id, const std::string& remote) {
  SpdEntry e = Protect(id);
  e.name = "to-" + remote;
  e.remote_prefix = remote;
  return e;
}

template <typename Backend>
class DatapathConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = testing::EnterPrivateNetns(testing::kVethSetup);
    if (!why.empty()) GTEST_SKIP() << why;
    auto dp = Backend::Make();
    ASSERT_TRUE(dp.ok()) << dp.status();
    dp_ = std::move(*dp);
    dp_->SetEventSink(events_.Sink());
  }
  void TearDown() override { dp_.reset(); }
  EventRecorder events_;
  std::unique_ptr<Datapath> dp_;
};

// Skips the calling test where the backend cannot hold SAs here.
#define NEED_SAS()                                               \
  do {                                                           \
    std::string why = TypeParam::SaSupport(*this->dp_);          \
    if (!why.empty()) GTEST_SKIP() << why;                       \
  } while (0)

using Backends = ::testing::Types<EspBackend, XfrmBackend>;
TYPED_TEST_SUITE(DatapathConformance, Backends);

TYPED_TEST(DatapathConformance, S35_FirstPacketRaisesAcquireForItsEntry) {
  ASSERT_TRUE(this->dp_->SetPolicies({Protect(4)}).ok());
  testing::SendUdp(kLocal, "198.18.50.7", 9);
  auto acquire = this->events_.Take(DatapathEvent::Kind::kAcquire, 0, absl::Seconds(3));
  ASSERT_TRUE(acquire.has_value());
  EXPECT_EQ(acquire->spd_entry, 4u);
}

TYPED_TEST(DatapathConformance, S37_AfterDropHeldTheNextPacketAcquiresAgain) {
  ASSERT_TRUE(this->dp_->SetPolicies({Protect(4)}).ok());
  testing::SendUdp(kLocal, "198.18.50.7", 9);
  ASSERT_TRUE(this->events_.Take(DatapathEvent::Kind::kAcquire, 4, absl::Seconds(3)));
  this->dp_->DropHeld(4);  // the setup failed
  // Packets keep coming; within a bounded time one asks again (the engine
  // at once, the kernel once its pending acquire expires).
  std::optional<DatapathEvent> again;
  for (int i = 0; i < 40 && !again; ++i) {
    testing::SendUdp(kLocal, "198.18.50.7", 9);
    again = this->events_.Take(DatapathEvent::Kind::kAcquire, 4, absl::Milliseconds(100));
  }
  EXPECT_TRUE(again.has_value());
}

// A new SPD is no flush (the agent's pushed SPD changes under live SAs):
// the entry that stays keeps its SAs, the removed entry's SAs can still be
// removed, the new entry works, the removed one no longer matches.
TYPED_TEST(DatapathConformance, NewSpdKeepsTheSasOfEntriesThatStay) {
  const std::string why = TypeParam::SaSupport(*this->dp_);
  const bool sas = why.empty();
  ASSERT_TRUE(this->dp_->SetPolicies(
      {ProtectTo(1, "198.18.50.0/24"), ProtectTo(2, "198.18.51.0/24")}).ok());
  v1::SaParameters in1 = Sa(0x3101, Direction::kInbound);
  v1::SaParameters out1 = Sa(0x4101, Direction::kOutbound);
  v1::SaParameters in2 = Sa(0x3102, Direction::kInbound);
  v1::SaParameters out2 = Sa(0x4102, Direction::kOutbound);
  if (sas) {
    ASSERT_TRUE(this->dp_->InstallSa(1, Direction::kInbound, in1).ok());
    ASSERT_TRUE(this->dp_->InstallSa(1, Direction::kOutbound, out1).ok());
    ASSERT_TRUE(this->dp_->InstallSa(2, Direction::kInbound, in2).ok());
    ASSERT_TRUE(this->dp_->InstallSa(2, Direction::kOutbound, out2).ok());
  }
  // Entry 2 goes, entry 7 comes, in front of entry 1.
  ASSERT_TRUE(this->dp_->SetPolicies(
      {ProtectTo(7, "198.18.52.0/24"), ProtectTo(1, "198.18.50.0/24")}).ok());
  // Policies: the new entry acquires, the removed one does not.
  testing::SendUdp(kLocal, "198.18.52.7", 9);
  auto acquire = this->events_.Take(DatapathEvent::Kind::kAcquire, 7, absl::Seconds(3));
  EXPECT_TRUE(acquire.has_value()) << "the added entry holds its first packet";
  testing::SendUdp(kLocal, "198.18.51.7", 9);
  EXPECT_FALSE(this->events_.Take(DatapathEvent::Kind::kAcquire, 2, absl::Milliseconds(500)))
      << "the removed entry is gone";
  if (!sas) GTEST_SKIP() << "SA half: " << why;
  for (const v1::SaParameters* sa : {&in1, &out1}) {
    const Direction d = sa == &in1 ? Direction::kInbound : Direction::kOutbound;
    EXPECT_TRUE(this->dp_->Counters(d, KeyOf(*sa)).ok()) << "entry 1's SAs are still in";
  }
  EXPECT_TRUE(this->dp_->InstallSa(1, Direction::kOutbound, out1).ok())
      << "still entry 1's: idempotent, not a conflict";
  EXPECT_TRUE(this->dp_->RemoveSa(Direction::kOutbound, KeyOf(out2)).ok());
  EXPECT_TRUE(this->dp_->RemoveSa(Direction::kInbound, KeyOf(in2)).ok());
  EXPECT_EQ(this->dp_->Counters(Direction::kInbound, KeyOf(in2)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(this->dp_->Counters(Direction::kOutbound, KeyOf(out1)).ok());
}

TYPED_TEST(DatapathConformance, BypassRaisesNoAcquire) {
  SpdEntry e = Protect(1);
  e.action = SpdEntry::Action::kBypass;
  e.setup_peer.clear();
  ASSERT_TRUE(this->dp_->SetPolicies({e}).ok());
  testing::SendUdp(kLocal, "198.18.50.7", 9);
  EXPECT_FALSE(this->events_.Take(DatapathEvent::Kind::kAcquire, 0, absl::Milliseconds(500)));
}

TYPED_TEST(DatapathConformance, BadSaIsInvalidArgumentAndInstallsNothing) {
  ASSERT_TRUE(this->dp_->SetPolicies({Protect(1)}).ok());
  v1::SaParameters sa = Sa(0x3001, Direction::kInbound);
  sa.set_encryption_key("short");
  absl::Status s = this->dp_->InstallSa(1, Direction::kInbound, sa);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("key"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("short"), std::string::npos) << "no key material in errors";
  EXPECT_EQ(this->dp_->Counters(Direction::kInbound, KeyOf(sa)).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(DatapathConformance, SasAreInstalledIdempotentlyCountedAndRemoved) {
  NEED_SAS();
  ASSERT_TRUE(this->dp_->SetPolicies({Protect(1)}).ok());
  v1::SaParameters in = Sa(0x3001, Direction::kInbound);
  v1::SaParameters out = Sa(0x4001, Direction::kOutbound);
  ASSERT_TRUE(this->dp_->InstallSa(1, Direction::kInbound, in).ok());
  ASSERT_TRUE(this->dp_->InstallSa(1, Direction::kOutbound, out).ok());
  EXPECT_TRUE(this->dp_->InstallSa(1, Direction::kOutbound, out).ok()) << "same SPI: no error";
  auto c = this->dp_->Counters(Direction::kInbound, KeyOf(in));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->packets, 0u);
  EXPECT_EQ(c->integrity_failures, 0u);
  EXPECT_EQ(this->dp_->RemoveSa(Direction::kOutbound, KeyOf(in)).code(),
            absl::StatusCode::kNotFound)
      << "direction is part of an SA's identity";
  ASSERT_TRUE(this->dp_->RemoveSa(Direction::kInbound, KeyOf(in)).ok());
  EXPECT_EQ(this->dp_->RemoveSa(Direction::kInbound, KeyOf(in)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->dp_->Counters(Direction::kInbound, KeyOf(in)).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(DatapathConformance, EveryEngineAlgorithmInstalls) {
  NEED_SAS();
  ASSERT_TRUE(this->dp_->SetPolicies({Protect(1)}).ok());
  struct Suite {
    v1::EncryptionAlgorithm enc;
    size_t key;
    size_t salt;
    v1::IntegrityAlgorithm integ;
    size_t ikey;
  };
  uint32_t spi = 0x5000;
  for (const Suite& s : {Suite{v1::ENCRYPTION_AES_GCM_16, 16, 4, v1::INTEGRITY_NONE, 0},
                         Suite{v1::ENCRYPTION_AES_GCM_16, 32, 4, v1::INTEGRITY_NONE, 0},
                         Suite{v1::ENCRYPTION_CHACHA20_POLY1305, 32, 4, v1::INTEGRITY_NONE, 0},
                         Suite{v1::ENCRYPTION_AES_CBC, 16, 0, v1::INTEGRITY_HMAC_SHA2_256_128, 32},
                         Suite{v1::ENCRYPTION_AES_CBC, 32, 0, v1::INTEGRITY_HMAC_SHA2_384_192, 48},
                         Suite{v1::ENCRYPTION_AES_CBC, 24, 0, v1::INTEGRITY_HMAC_SHA2_512_256, 64},
                         Suite{v1::ENCRYPTION_AES_CBC, 16, 0, v1::INTEGRITY_HMAC_SHA1_96, 20},
                         Suite{v1::ENCRYPTION_NULL, 0, 0, v1::INTEGRITY_HMAC_SHA2_256_128, 32}}) {
    v1::SaParameters sa = Sa(++spi, Direction::kInbound);
    sa.set_encryption(s.enc);
    sa.set_encryption_key(std::string(s.key, 'k'));
    sa.set_salt(std::string(s.salt, 's'));
    sa.set_integrity(s.integ);
    sa.set_integrity_key(std::string(s.ikey, 'i'));
    absl::Status st = this->dp_->InstallSa(1, Direction::kInbound, sa);
    EXPECT_TRUE(st.ok()) << v1::EncryptionAlgorithm_Name(s.enc) << " + "
                         << v1::IntegrityAlgorithm_Name(s.integ) << ": " << st;
  }
}

TYPED_TEST(DatapathConformance, LifetimesRaiseSoftThenHardExpire) {
  NEED_SAS();
  ASSERT_TRUE(this->dp_->SetPolicies({Protect(1)}).ok());
  v1::SaParameters out = Sa(0x4002, Direction::kOutbound);
  out.mutable_lifetime()->set_soft_seconds(1);
  out.mutable_lifetime()->set_hard_seconds(2);
  ASSERT_TRUE(this->dp_->InstallSa(1, Direction::kOutbound, out).ok());
  auto soft = this->events_.Take(DatapathEvent::Kind::kSoftExpire, 1, absl::Seconds(5));
  ASSERT_TRUE(soft.has_value());
  EXPECT_EQ(soft->direction, Direction::kOutbound);
  EXPECT_EQ(soft->sa, KeyOf(out));
  auto hard = this->events_.Take(DatapathEvent::Kind::kHardExpire, 1, absl::Seconds(5));
  ASSERT_TRUE(hard.has_value());
  EXPECT_EQ(hard->sa, KeyOf(out));
  EXPECT_EQ(this->dp_->Counters(Direction::kOutbound, KeyOf(out)).status().code(),
            absl::StatusCode::kNotFound)
      << "a hard-expired SA is gone";
}

}  // namespace
}  // namespace ikeless::datapath
