#include "controller/policy_validation.h"

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

v1::Policy Valid() {
  v1::Policy p;
  p.set_name("gw-a.gw-b");
  p.mutable_a()->set_address("198.18.1.1");
  p.mutable_b()->set_address("198.18.2.0/24");
  p.mutable_lifetime()->set_hard_seconds(3600);
  return p;
}

// Runs NormalizePolicy on a copy of Valid() changed by `edit` and returns
// the error text ("" when it passes).
template <typename F>
std::string ErrorOf(F edit) {
  v1::Policy p = Valid();
  edit(p);
  std::vector<std::string> warnings;
  absl::Status s = NormalizePolicy(&p, &warnings);
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

TEST(NormalizePolicy, FillsDefaults) {
  v1::Policy p = Valid();
  std::vector<std::string> warnings;
  ASSERT_TRUE(NormalizePolicy(&p, &warnings).ok());
  EXPECT_EQ(p.protocol(), v1::IPSEC_PROTOCOL_ESP);
  EXPECT_EQ(p.mode(), v1::MODE_TUNNEL);
  EXPECT_EQ(p.encryption(), v1::ENCRYPTION_AES_GCM_16);
  EXPECT_EQ(p.encryption_key_bits(), 128u);
  EXPECT_EQ(p.integrity(), v1::INTEGRITY_NONE);
  EXPECT_EQ(p.lifetime().soft_seconds(), 3240u);
  EXPECT_EQ(p.replay_window(), 128u);
  EXPECT_TRUE(warnings.empty());
}

TEST(NormalizePolicy, CbcGetsHmacSha256ByDefault) {
  v1::Policy p = Valid();
  p.set_encryption(v1::ENCRYPTION_AES_CBC);
  std::vector<std::string> warnings;
  ASSERT_TRUE(NormalizePolicy(&p, &warnings).ok());
  EXPECT_EQ(p.integrity(), v1::INTEGRITY_HMAC_SHA2_256_128);
}

TEST(NormalizePolicy, CanonicalisesAddresses) {
  v1::Policy p = Valid();
  p.mutable_a()->set_address("fd00:0::1");
  p.mutable_b()->set_address("any");
  std::vector<std::string> warnings;
  ASSERT_TRUE(NormalizePolicy(&p, &warnings).ok());
  EXPECT_EQ(p.a().address(), "fd00::1");
  EXPECT_EQ(p.b().address(), "*");
}

TEST(NormalizePolicy, ErrorsNameTheField) {
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.mutable_a()->set_address("198.18.1"); })
                .find("a.address"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.mutable_b()->set_address("198.18.2.1/24"); })
                .find("b.address"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.mutable_b()->set_address("fd00::/8"); })
                .find("different address families"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.set_encryption(static_cast<v1::EncryptionAlgorithm>(99)); })
                .find("encryption: unknown algorithm 99"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) {
              p.set_encryption(v1::ENCRYPTION_CHACHA20_POLY1305);
              p.set_encryption_key_bits(128);
            }).find("encryption_key_bits: chacha20-poly1305 takes 256 bits, not 128"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.set_encryption_key_bits(100); })
                .find("encryption_key_bits"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.mutable_lifetime()->set_hard_seconds(0); })
                .find("lifetime.hard_seconds: must be > 0"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.mutable_lifetime()->set_soft_seconds(3600); })
                .find("lifetime.soft_seconds: must be below"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.mutable_lifetime()->set_soft_bytes(10); })
                .find("lifetime.soft_bytes: needs lifetime.hard_bytes"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.set_name("Bad Name"); }).find("name:"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.set_name(""); }).find("name:"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.set_integrity(v1::INTEGRITY_HMAC_SHA2_256_128); })
                .find("integrity: aes-gcm-16 is an AEAD"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) {
              p.set_encryption(v1::ENCRYPTION_AES_CBC);
              p.set_integrity(v1::INTEGRITY_NONE);
            }).find("integrity: aes-cbc needs an integrity algorithm"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.mutable_selector()->set_port(22); })
                .find("selector.port"), std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.set_replay_window(100000); }).find("replay_window"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) { p.set_description("a\nb"); }).find("description"),
            std::string::npos);
}

TEST(NormalizePolicy, LegacyAlgorithmsNeedOptIn) {
  std::string e = ErrorOf([](v1::Policy& p) {
    p.set_encryption(v1::ENCRYPTION_3DES_CBC);
    p.set_integrity(v1::INTEGRITY_HMAC_SHA1_96);
  });
  EXPECT_NE(e.find("encryption: 3des-cbc is refused by RFC 8221"), std::string::npos) << e;
  e = ErrorOf([](v1::Policy& p) {
    p.set_encryption(v1::ENCRYPTION_AES_CBC);
    p.set_integrity(v1::INTEGRITY_HMAC_MD5_96);
  });
  EXPECT_NE(e.find("integrity: hmac-md5-96 is refused by RFC 8221"), std::string::npos) << e;

  v1::Policy p = Valid();
  p.set_encryption(v1::ENCRYPTION_DES_CBC);
  p.set_integrity(v1::INTEGRITY_HMAC_MD5_96);
  p.set_allow_legacy_algorithms(true);
  std::vector<std::string> warnings;
  ASSERT_TRUE(NormalizePolicy(&p, &warnings).ok());
  EXPECT_EQ(warnings.size(), 2u);
  EXPECT_EQ(p.encryption_key_bits(), 64u);
}

TEST(NormalizePolicy, AhCarriesNoEncryption) {
  v1::Policy p = Valid();
  p.set_protocol(v1::IPSEC_PROTOCOL_AH);
  std::vector<std::string> warnings;
  ASSERT_TRUE(NormalizePolicy(&p, &warnings).ok());
  EXPECT_EQ(p.encryption(), v1::ENCRYPTION_NULL);
  EXPECT_EQ(p.integrity(), v1::INTEGRITY_HMAC_SHA2_256_128);
  EXPECT_NE(ErrorOf([](v1::Policy& p) {
              p.set_protocol(v1::IPSEC_PROTOCOL_AH);
              p.set_encryption(v1::ENCRYPTION_AES_CBC);
            }).find("AH does not encrypt"),
            std::string::npos);
}

TEST(NormalizePolicy, ClearsServerFields) {
  v1::Policy p = Valid();
  p.set_revision(9);
  p.set_create_time_unix(5);
  std::vector<std::string> warnings;
  ASSERT_TRUE(NormalizePolicy(&p, &warnings).ok());
  EXPECT_EQ(p.revision(), 0u);
  EXPECT_EQ(p.create_time_unix(), 0);
}

TEST(PolicyValidation, ActionDefaultsToProtectAndUnknownIsRefused) {
  v1::Policy p;
  p.set_name("mesh");
  p.mutable_a()->set_address("*");
  p.mutable_b()->set_address("*");
  p.mutable_lifetime()->set_hard_seconds(3600);
  std::vector<std::string> warnings;
  v1::Policy q = p;
  ASSERT_TRUE(NormalizePolicy(&q, &warnings).ok());
  EXPECT_EQ(q.action(), v1::POLICY_ACTION_PROTECT);
  q = p;
  q.set_action(v1::POLICY_ACTION_DISCARD);
  ASSERT_TRUE(NormalizePolicy(&q, &warnings).ok());
  EXPECT_EQ(q.action(), v1::POLICY_ACTION_DISCARD);
  q = p;
  q.set_action(static_cast<v1::PolicyAction>(9));
  absl::Status s = NormalizePolicy(&q, &warnings);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("action"), std::string::npos) << s;
}


// Issue #12: lifetimes that cannot work are refused, each error naming the
// field and why.
TEST(NormalizePolicy, RefusesLifetimesThatCannotWork) {
  auto lifetime = [](uint64_t hard, uint64_t soft) {
    return ErrorOf([=](v1::Policy& p) {
      p.mutable_lifetime()->set_hard_seconds(hard);
      p.mutable_lifetime()->set_soft_seconds(soft);
    });
  };
  // Too short for a rekey to complete.
  EXPECT_EQ(lifetime(5, 0),
            "lifetime.hard_seconds: must be at least 8 (5 < 8): a rekey must have time to "
            "complete before the SA dies");
  EXPECT_NE(lifetime(1, 0).find("lifetime.hard_seconds: must be at least 8"), std::string::npos);
  // Soft not below hard.
  EXPECT_EQ(lifetime(3600, 3600),
            "lifetime.soft_seconds: must be below lifetime.hard_seconds (3600 >= 3600)");
  EXPECT_NE(lifetime(60, 90).find("lifetime.soft_seconds: must be below"), std::string::npos);
  // Soft so far below hard that rekeys would pile up rows: the issue's
  // 1h/25s; its 24h/1h is an ordinary policy and passes.
  EXPECT_EQ(lifetime(3600, 25),
            "lifetime.soft_seconds: must be at least 1/32 of lifetime.hard_seconds (25 < "
            "3600/32): each soft expiry is a rekey and a new row kept until the hard lifetime");
  EXPECT_EQ(lifetime(86400, 3600), "");
  EXPECT_NE(lifetime(64, 1).find("must be at least 1/32"), std::string::npos);  // 1 * 32 < 64
  // The same rule for byte and packet limits: each soft one is a rekey too.
  EXPECT_NE(ErrorOf([](v1::Policy& p) {
              p.mutable_lifetime()->set_hard_bytes(1'000'000);
              p.mutable_lifetime()->set_soft_bytes(1'000);
            }).find("lifetime.soft_bytes: must be at least 1/32 of lifetime.hard_bytes"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](v1::Policy& p) {
              p.mutable_lifetime()->set_hard_packets(1'000);
              p.mutable_lifetime()->set_soft_packets(10);
            }).find("lifetime.soft_packets: must be at least 1/32"),
            std::string::npos);
  // No overflow near 2^64.
  EXPECT_EQ(ErrorOf([](v1::Policy& p) {
              p.mutable_lifetime()->set_hard_bytes(~uint64_t{0});
              p.mutable_lifetime()->set_soft_bytes(~uint64_t{0} / 2);
            }),
            "");
}

// The lifetimes our own tests and examples use stay valid, and the derived
// soft lifetime of the shortest hard one passes the rules it derives from.
TEST(NormalizePolicy, AcceptsTheLifetimesInUse) {
  struct Case {
    uint64_t hard, soft, want_soft;
  };
  for (const Case& c : {Case{8, 4, 4},         // tests/vm/guest.sh
                        Case{10, 6, 6},        // tests/e2e/tunnel_test.sh
                        Case{120, 0, 108},     // tests/e2e/spd_push_test.sh
                        Case{3600, 0, 3240},   // ipsecctl's default
                        Case{86400, 21600, 21600},  // exactly a quarter
                        Case{8, 0, 7},         // derived: 90 %, at least 1 s below
                        Case{9, 0, 8},
                        Case{31'536'000, 0, 28'382'400}}) {
    v1::Policy p = Valid();
    p.mutable_lifetime()->set_hard_seconds(c.hard);
    p.mutable_lifetime()->set_soft_seconds(c.soft);
    std::vector<std::string> warnings;
    absl::Status s = NormalizePolicy(&p, &warnings);
    ASSERT_TRUE(s.ok()) << c.hard << "/" << c.soft << ": " << s;
    EXPECT_EQ(p.lifetime().soft_seconds(), c.want_soft) << c.hard;
    // Normalising again changes nothing (what a stored policy goes through).
    v1::Policy again = p;
    ASSERT_TRUE(NormalizePolicy(&again, &warnings).ok());
    EXPECT_EQ(again.lifetime().soft_seconds(), c.want_soft);
  }
}

}  // namespace
}  // namespace ikeless::controller
