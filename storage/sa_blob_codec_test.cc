// The SA parameter blob codec on its own, without any database: the stored
// bytes round-trip, are bound to their row and column, hold no key in the
// clear when sealed, and every mismatch between how a blob was written and
// how it is read is refused with DATA_LOSS or FAILED_PRECONDITION naming the
// association and column.
#include "storage/sa_blob_codec.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "common/secret.h"
#include "gtest/gtest.h"
#include "storage/key_sealer.h"

namespace ikeless::storage {
namespace {

std::unique_ptr<KeySealer> MustMake(char fill, RandomSource* random) {
  absl::StatusOr<std::unique_ptr<KeySealer>> s =
      KeySealer::FromKey(std::string(kKekBytes, fill), random);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

v1::SaParameters Sa() {
  v1::SaParameters sa;
  sa.set_spi(0x1234abcd);
  sa.set_source("198.18.0.1");
  sa.set_destination("198.18.0.2");
  sa.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  sa.set_encryption_key("ENCRYPTION-KEY-0123456789abcdef!");
  sa.set_salt("SALT");
  sa.add_successors()->set_encryption_key("SUCCESSOR-KEY-0123456789abcdef!!");
  return sa;
}

class SaBlobCodecTest : public ::testing::Test {
 protected:
  std::string Encode(const KeySealer* sealer, SaColumn where) {
    std::string out;
    absl::Status s = EncodeSaParameters(Sa(), sealer, where, &out);
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }

  FakeRandom random_{7};
  std::unique_ptr<KeySealer> sealer_ = MustMake('\x42', &random_);
  std::unique_ptr<KeySealer> other_ = MustMake('\x43', &random_);
  const SaColumn here_{7, "a_to_b"};
};

TEST_F(SaBlobCodecTest, ContextNamesRowAndColumn) {
  // Part of the on-disk format: every sealed blob was authenticated with it.
  EXPECT_EQ(SealContext({7, "a_to_b"}), "ikeless/association/7/a_to_b");
  EXPECT_EQ(SealContext({18446744073709551615u, "b_to_a"}),
            "ikeless/association/18446744073709551615/b_to_a");
}

TEST_F(SaBlobCodecTest, SealedRoundTripHoldsNoKeyInTheClear) {
  ASSERT_NE(sealer_, nullptr);
  const std::string stored = Encode(sealer_.get(), here_);
  EXPECT_TRUE(KeySealer::LooksSealed(stored));
  EXPECT_EQ(KeySealer::SealedKeyId(stored), sealer_->id());
  EXPECT_FALSE(absl::StrContains(stored, "ENCRYPTION-KEY"));
  EXPECT_FALSE(absl::StrContains(stored, "SUCCESSOR-KEY"));
  v1::SaParameters back;
  absl::Status s = DecodeSaParameters(stored, sealer_.get(), here_, &back);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(back.SerializeAsString(), Sa().SerializeAsString());
}

TEST_F(SaBlobCodecTest, ClearRoundTripIsThePlainSerialization) {
  const std::string stored = Encode(nullptr, here_);
  EXPECT_EQ(stored, Sa().SerializeAsString());  // the unsealed on-disk format
  v1::SaParameters back;
  ASSERT_TRUE(DecodeSaParameters(stored, nullptr, here_, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), Sa().SerializeAsString());
}

TEST_F(SaBlobCodecTest, EmptyParametersRoundTrip) {
  for (const KeySealer* sealer : std::vector<const KeySealer*>{nullptr, sealer_.get()}) {
    std::string stored;
    ASSERT_TRUE(EncodeSaParameters(v1::SaParameters(), sealer, here_, &stored).ok());
    v1::SaParameters back = Sa();
    ASSERT_TRUE(DecodeSaParameters(stored, sealer, here_, &back).ok());
    EXPECT_EQ(back.ByteSizeLong(), 0u) << (sealer ? "sealed" : "clear");
  }
}

TEST_F(SaBlobCodecTest, BlobMovedToAnotherRowOrColumnIsDataLoss) {
  const std::string stored = Encode(sealer_.get(), here_);
  for (SaColumn elsewhere : {SaColumn{8, "a_to_b"}, SaColumn{7, "b_to_a"}}) {
    v1::SaParameters back;
    absl::Status s = DecodeSaParameters(stored, sealer_.get(), elsewhere, &back);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_TRUE(absl::StrContains(s.message(),
                                  absl::StrCat("association ", elsewhere.id, ": ", elsewhere.name)))
        << s;
    EXPECT_TRUE(back.encryption_key().empty());
  }
}

TEST_F(SaBlobCodecTest, SealedBlobReadWithoutSealerIsDataLossNamingTheKey) {
  const std::string stored = Encode(sealer_.get(), here_);
  v1::SaParameters back;
  absl::Status s = DecodeSaParameters(stored, nullptr, here_, &back);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "association 7: a_to_b")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), sealer_->id())) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "opened without one")) << s;
}

TEST_F(SaBlobCodecTest, ClearBlobReadWithSealerIsDataLoss) {
  const std::string stored = Encode(nullptr, here_);
  v1::SaParameters back;
  absl::Status s = DecodeSaParameters(stored, sealer_.get(), here_, &back);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "association 7: a_to_b is not sealed")) << s;
  EXPECT_TRUE(back.encryption_key().empty());
}

TEST_F(SaBlobCodecTest, OtherKeyEncryptionKeyIsFailedPrecondition) {
  const std::string stored = Encode(sealer_.get(), here_);
  v1::SaParameters back;
  absl::Status s = DecodeSaParameters(stored, other_.get(), here_, &back);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), sealer_->id())) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), other_->id())) << s;
}

TEST_F(SaBlobCodecTest, AlteredOrTruncatedSealedBlobIsDataLoss) {
  const std::string stored = Encode(sealer_.get(), here_);
  std::string altered = stored;
  altered[KeySealer::kHeaderBytes + KeySealer::kNonceBytes] ^= 0x01;
  const std::string truncated = stored.substr(0, stored.size() - 1);
  for (const std::string& bad : {altered, truncated}) {
    v1::SaParameters back;
    absl::Status s = DecodeSaParameters(bad, sealer_.get(), here_, &back);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  }
}

TEST_F(SaBlobCodecTest, ClearBlobThatDoesNotParseIsDataLossWithoutKeys) {
  // A length-delimited field (encryption_key, field 8) that claims more
  // bytes than follow: the message does not parse.
  std::string stored = Sa().SerializeAsString();
  stored += std::string("\x42\x7f", 2) + "KEY";
  v1::SaParameters back;
  absl::Status s = DecodeSaParameters(stored, nullptr, here_, &back);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "do not parse")) << s;
  // The part that did parse held the keys; they are wiped.
  EXPECT_FALSE(absl::StrContains(back.encryption_key(), "ENCRYPTION-KEY"));
  for (const v1::SaParameters& next : back.successors()) {
    EXPECT_FALSE(absl::StrContains(next.encryption_key(), "SUCCESSOR-KEY"));
  }
}

TEST_F(SaBlobCodecTest, SealedGarbageThatDoesNotParseIsDataLoss) {
  absl::StatusOr<std::string> sealed =
      sealer_->Seal(std::string("\x42\x7f", 2), SealContext(here_));
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  v1::SaParameters back;
  absl::Status s = DecodeSaParameters(*sealed, sealer_.get(), here_, &back);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "association 7: a_to_b: stored SA parameters")) << s;
}

}  // namespace
}  // namespace ikeless::storage
