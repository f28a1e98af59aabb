#include "datapath/esp/hmac.h"

#include <string>

#include "datapath/esp/test_util.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::ToHex;

std::string Mac(Hmac::Hash hash, const std::vector<uint8_t>& key, const std::vector<uint8_t>& data,
                size_t out_size) {
  auto h = Hmac::Create(hash, key);
  EXPECT_TRUE(h.ok()) << h.status();
  std::vector<uint8_t> out(out_size);
  EXPECT_TRUE((*h)->Start());
  EXPECT_TRUE((*h)->Update(data));
  EXPECT_TRUE((*h)->Finish(out));
  return ToHex(out);
}

// RFC 4231 §4.2 test case 1: key = 0x0b x 20, data = "Hi There".
TEST(HmacTest, Rfc4231Case1) {
  std::vector<uint8_t> key(20, 0x0b);
  EXPECT_EQ(Mac(Hmac::Hash::kSha256, key, Bytes("Hi There"), 32),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Mac(Hmac::Hash::kSha384, key, Bytes("Hi There"), 48),
            "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
            "faea9ea9076ede7f4af152e8b2fa9cb6");
  EXPECT_EQ(Mac(Hmac::Hash::kSha512, key, Bytes("Hi There"), 64),
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
}

// RFC 4231 §4.3 test case 2: key = "Jefe".
TEST(HmacTest, Rfc4231Case2) {
  EXPECT_EQ(Mac(Hmac::Hash::kSha256, Bytes("Jefe"), Bytes("what do ya want for nothing?"), 32),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231 §4.6 test case 5: truncation to 128 bits.
TEST(HmacTest, Rfc4231Case5Truncated) {
  std::vector<uint8_t> key(20, 0x0c);
  EXPECT_EQ(Mac(Hmac::Hash::kSha256, key, Bytes("Test With Truncation"), 16),
            "a3b6167473100ee06e0c796c2955552b");
}

// RFC 4868 §2.7.2: the authenticator vectors with key length = output
// length, truncated to the ICV sizes ESP sends.
TEST(HmacTest, Rfc4868AuthVectors) {
  EXPECT_EQ(Mac(Hmac::Hash::kSha256, std::vector<uint8_t>(32, 0x0b), Bytes("Hi There"), 16),
            "198a607eb44bfbc69903a0f1cf2bbdc5");
  EXPECT_EQ(Mac(Hmac::Hash::kSha384, std::vector<uint8_t>(48, 0x0b), Bytes("Hi There"), 24),
            "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973");
  EXPECT_EQ(Mac(Hmac::Hash::kSha512, std::vector<uint8_t>(64, 0x0b), Bytes("Hi There"), 32),
            "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8");
}

// RFC 2202 §3 test cases 1, 2 and 5 (the last truncated to 96 bits as
// HMAC-SHA1-96 of RFC 2404 does).
TEST(HmacTest, Rfc2202Sha1) {
  EXPECT_EQ(Mac(Hmac::Hash::kSha1, std::vector<uint8_t>(20, 0x0b), Bytes("Hi There"), 20),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(Mac(Hmac::Hash::kSha1, Bytes("Jefe"), Bytes("what do ya want for nothing?"), 20),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(Mac(Hmac::Hash::kSha1, std::vector<uint8_t>(20, 0x0c), Bytes("Test With Truncation"),
                12),
            "4c1a03424b55e07fe7f27be1");
}

// One keyed instance serves many messages; split updates equal one update.
TEST(HmacTest, ReusedAcrossMessagesAndSplitUpdates) {
  auto h = Hmac::Create(Hmac::Hash::kSha256, std::vector<uint8_t>(20, 0x0b));
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 3; ++i) {
    std::vector<uint8_t> out(32);
    ASSERT_TRUE((*h)->Start());
    ASSERT_TRUE((*h)->Update(Bytes("Hi ")));
    ASSERT_TRUE((*h)->Update(Bytes("There")));
    ASSERT_TRUE((*h)->Finish(out));
    EXPECT_EQ(ToHex(out), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  }
  std::vector<uint8_t> too_long(33);
  ASSERT_TRUE((*h)->Start());
  EXPECT_FALSE((*h)->Finish(too_long));
}

}  // namespace
}  // namespace ikeless::datapath::esp
