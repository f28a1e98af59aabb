#include "controller/pki/serial.h"

#include <set>

#include "common/random.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

TEST(SerialTest, PositiveAtMost128BitsAndHexMatchesTheValue) {
  RandomSource& random = *CryptoRandom::Get();
  for (int i = 0; i < 50; ++i) {
    auto serial = RandomSerial(random);
    ASSERT_TRUE(serial.ok()) << serial.status();
    BignumPtr bn(ASN1_INTEGER_to_BN(serial->get(), nullptr));
    EXPECT_FALSE(BN_is_negative(bn.get()));
    EXPECT_FALSE(BN_is_zero(bn.get()));
    EXPECT_LE(BN_num_bits(bn.get()), 128);
    auto hex = SerialHex(serial->get());
    ASSERT_TRUE(hex.ok());
    EXPECT_LE(hex->size(), 32u);
    EXPECT_EQ(hex->size() % 2, 0u);
    EXPECT_EQ(hex->find_first_not_of("0123456789abcdef"), std::string::npos) << *hex;
    BIGNUM* parsed = nullptr;
    ASSERT_GT(BN_hex2bn(&parsed, hex->c_str()), 0);
    BignumPtr owned(parsed);
    EXPECT_EQ(BN_cmp(parsed, bn.get()), 0);
  }
}

TEST(SerialTest, FullWidthUsesAllBitsAndStaysPositive) {
  // FakeRandom's bytes often set the top bit: the value must still be
  // positive, and DER may need 17 octets (still within RFC 5280's 20).
  FakeRandom random(7);
  bool saw_top_bit = false;
  for (int i = 0; i < 64; ++i) {
    auto serial = RandomSerial(random);
    ASSERT_TRUE(serial.ok());
    BignumPtr bn(ASN1_INTEGER_to_BN(serial->get(), nullptr));
    EXPECT_FALSE(BN_is_negative(bn.get()));
    if (BN_num_bits(bn.get()) == 128) saw_top_bit = true;
    EXPECT_LE(i2d_ASN1_INTEGER(serial->get(), nullptr), 2 + 20);
  }
  EXPECT_TRUE(saw_top_bit);
}

TEST(SerialTest, RejectsNegativeSerials) {
  Asn1StringPtr negative(ASN1_INTEGER_new());
  ASSERT_EQ(ASN1_INTEGER_set(negative.get(), -5), 1);
  EXPECT_EQ(SerialHex(negative.get()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ikeless::pki
