#include "tools/ipsecctl/names.h"

#include "common/algorithms.h"
#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

TEST(Names, EnumsUseOperatorSpelling) {
  EXPECT_EQ(ProtocolName(v1::IPSEC_PROTOCOL_ESP), "esp");
  EXPECT_EQ(ProtocolName(v1::IPSEC_PROTOCOL_AH), "ah");
  EXPECT_EQ(ModeName(v1::MODE_TUNNEL), "tunnel");
  EXPECT_EQ(ModeName(v1::MODE_TRANSPORT), "transport");
  EXPECT_EQ(StateName(v1::Association::HALF_OPEN), "half-open");
  EXPECT_EQ(StateName(v1::Association::ESTABLISHED), "established");
  EXPECT_EQ(EventKindName(v1::Event::ASSOCIATION_ESTABLISHED), "association-established");
  EXPECT_EQ(EventKindName(v1::Event::PEER_UNREACHABLE), "peer-unreachable");
  // The kinds of pushed SPDs and node records read the same way.
  EXPECT_EQ(EventKindName(v1::Event::NODE_CREATED), "node-created");
  EXPECT_EQ(EventKindName(v1::Event::SPD_APPLIED), "spd-applied");
  EXPECT_EQ(EventKindName(v1::Event::ASSOCIATION_TORN_DOWN), "association-torn-down");
  EXPECT_EQ(EventKindName(v1::Event::ASSOCIATION_REKEYED), "association-rekeyed");
}

TEST(Names, PolicyActions) {
  EXPECT_EQ(ActionName(v1::POLICY_ACTION_PROTECT), "protect");
  EXPECT_EQ(ActionName(v1::POLICY_ACTION_BYPASS), "bypass");
  EXPECT_EQ(ActionName(v1::POLICY_ACTION_DISCARD), "discard");
  // Unspecified is PROTECT (proto/policy.proto), not "the default".
  EXPECT_EQ(ActionName(v1::POLICY_ACTION_UNSPECIFIED), "protect");
  EXPECT_EQ(ActionName(static_cast<v1::PolicyAction>(9)), "unknown(9)");
  EXPECT_EQ(*ParseAction("bypass"), v1::POLICY_ACTION_BYPASS);
  EXPECT_EQ(*ParseAction("DISCARD"), v1::POLICY_ACTION_DISCARD);
  auto bad = ParseAction("drop");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "'drop' is not one of: protect, bypass, discard");
  EXPECT_FALSE(ParseAction("unspecified").ok());
}

TEST(Names, AlgorithmsComeFromTheSharedTable) {
  EXPECT_EQ(EncryptionName(v1::ENCRYPTION_AES_GCM_16),
            FindEncryption(v1::ENCRYPTION_AES_GCM_16)->name);
  EXPECT_EQ(EncryptionName(v1::ENCRYPTION_AES_GCM_16), "aes-gcm-16");
  EXPECT_EQ(IntegrityName(v1::INTEGRITY_HMAC_SHA2_256_128), "hmac-sha2-256-128");
  EXPECT_EQ(IntegrityName(v1::INTEGRITY_NONE), "none");
}

TEST(Names, UnspecifiedAndUnknownValues) {
  EXPECT_EQ(ModeName(v1::MODE_UNSPECIFIED), "-");
  EXPECT_EQ(EncryptionName(v1::ENCRYPTION_UNSPECIFIED), "-");
  EXPECT_EQ(IntegrityName(v1::INTEGRITY_UNSPECIFIED), "-");
  EXPECT_EQ(StateName(v1::Association::STATE_UNSPECIFIED), "-");
  // A value from a newer controller.
  EXPECT_EQ(ModeName(static_cast<v1::Mode>(9)), "unknown(9)");
  EXPECT_EQ(EncryptionName(static_cast<v1::EncryptionAlgorithm>(99)), "unknown(99)");
}

TEST(Names, ParsersRoundTripAndListChoices) {
  EXPECT_EQ(*ParseMode("transport"), v1::MODE_TRANSPORT);
  EXPECT_EQ(*ParseMode("Tunnel"), v1::MODE_TUNNEL);
  EXPECT_EQ(*ParseProtocol("ah"), v1::IPSEC_PROTOCOL_AH);
  EXPECT_EQ(*ParseEncryption("chacha20-poly1305"), v1::ENCRYPTION_CHACHA20_POLY1305);
  EXPECT_EQ(*ParseIntegrity("hmac-sha2-512-256"), v1::INTEGRITY_HMAC_SHA2_512_256);

  auto mode = ParseMode("tunel");
  ASSERT_FALSE(mode.ok());
  EXPECT_NE(mode.status().message().find("tunnel, transport"), std::string::npos);
  // "unspecified" is not something an operator can ask for.
  EXPECT_FALSE(ParseMode("unspecified").ok());
  EXPECT_FALSE(ParseProtocol("-").ok());

  auto enc = ParseEncryption("aes");
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.status().message().find(EncryptionNames()), std::string::npos) << enc.status();
  auto integ = ParseIntegrity("sha256");
  ASSERT_FALSE(integ.ok());
  EXPECT_NE(integ.status().message().find(IntegrityNames()), std::string::npos);
}

TEST(Names, ListsForUsage) {
  EXPECT_EQ(ProtocolNames(), "esp, ah");
  EXPECT_EQ(ModeNames(), "tunnel, transport");
  EXPECT_EQ(ActionNames(), "protect, bypass, discard");
}

}  // namespace
}  // namespace ikeless::ipsecctl
