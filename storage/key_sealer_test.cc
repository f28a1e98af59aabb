// KeySealer: the sealed format, and that a wrong key, an altered byte or a
// blob moved to another place is refused with a clear error.
#include "storage/key_sealer.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ikeless::storage {
namespace {

constexpr char kContext[] = "ikeless/association/7/a_to_b";

std::string Key(char fill) { return std::string(kKekBytes, fill); }

std::unique_ptr<KeySealer> MustMake(const std::string& kek, RandomSource* random) {
  absl::StatusOr<std::unique_ptr<KeySealer>> s = KeySealer::FromKey(kek, random);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

std::string IdOf(const std::string& kek) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(kek.data()), kek.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 4));
}

std::string TempPath() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", info->name(), ".kek");
  unlink(path.c_str());
  return path;
}

class KeySealerTest : public ::testing::Test {
 protected:
  FakeRandom random_{3};
  std::unique_ptr<KeySealer> sealer_ = MustMake(Key('\x42'), &random_);
};

TEST_F(KeySealerTest, RoundTripsInTheDocumentedFormat) {
  ASSERT_NE(sealer_, nullptr);
  static constexpr char kBinary[] = "\0key\0with\xff nul bytes";
  for (const std::string& plain :
       {std::string(), std::string("k"), std::string(kBinary, sizeof kBinary - 1),
        std::string(1000, '\x5a')}) {
    absl::StatusOr<std::string> sealed = sealer_->Seal(plain, kContext);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    ASSERT_EQ(sealed->size(), plain.size() + KeySealer::kOverhead);
    EXPECT_EQ((*sealed)[0], '\x01');
    EXPECT_EQ(absl::BytesToHexString(sealed->substr(1, 4)), IdOf(Key('\x42')));
    EXPECT_TRUE(KeySealer::LooksSealed(*sealed));
    if (plain.size() >= 4) {
      EXPECT_EQ(sealed->find(plain.substr(0, 4)), std::string::npos) << "plaintext shows";
    }
    absl::StatusOr<std::string> opened = sealer_->Open(*sealed, kContext);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, plain);
  }
}

TEST_F(KeySealerTest, IdIsTheSha256PrefixOfTheKey) {
  EXPECT_EQ(sealer_->id(), IdOf(Key('\x42')));
  EXPECT_EQ(sealer_->id().size(), 8u);
}

TEST_F(KeySealerTest, EachSealHasItsOwnNonce) {
  absl::StatusOr<std::string> a = sealer_->Seal("same plaintext", kContext);
  absl::StatusOr<std::string> b = sealer_->Seal("same plaintext", kContext);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->substr(5, 12), b->substr(5, 12));
  EXPECT_NE(*a, *b);
}

TEST_F(KeySealerTest, AnotherKekIsFailedPreconditionNamingBothIds) {
  absl::StatusOr<std::string> sealed = sealer_->Seal("secret", kContext);
  ASSERT_TRUE(sealed.ok());
  std::unique_ptr<KeySealer> other = MustMake(Key('\x43'), &random_);
  absl::StatusOr<std::string> opened = other->Open(*sealed, kContext);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition) << opened.status();
  absl::string_view msg = opened.status().message();
  EXPECT_NE(msg.find("database was sealed with another key-encryption key (id " + sealer_->id()),
            absl::string_view::npos)
      << msg;
  EXPECT_NE(msg.find(other->id()), absl::string_view::npos) << msg;
}

TEST_F(KeySealerTest, EveryAlteredByteIsRefused) {
  absl::StatusOr<std::string> sealed = sealer_->Seal("0123456789abcdef0123456789abcdef", kContext);
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    for (uint8_t flip : {0x01, 0x80}) {
      std::string bad = *sealed;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      absl::StatusOr<std::string> opened = sealer_->Open(bad, kContext);
      ASSERT_FALSE(opened.ok()) << "byte " << i;
      // The KEK id bytes name a key; changed, they name another one.
      absl::StatusCode want =
          i >= 1 && i < 5 ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kDataLoss;
      EXPECT_EQ(opened.status().code(), want) << "byte " << i << ": " << opened.status();
    }
  }
  absl::StatusOr<std::string> opened = sealer_->Open(sealed->substr(0, 40), kContext);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
  std::string appended = *sealed + "x";
  EXPECT_EQ(sealer_->Open(appended, kContext).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(KeySealerTest, AuthenticationFailureSaysWhy) {
  absl::StatusOr<std::string> sealed = sealer_->Seal("secret", kContext);
  ASSERT_TRUE(sealed.ok());
  std::string bad = *sealed;
  bad.back() = static_cast<char>(bad.back() ^ 1);
  absl::StatusOr<std::string> opened = sealer_->Open(bad, kContext);
  EXPECT_NE(opened.status().message().find("failed authentication"), absl::string_view::npos)
      << opened.status();
}

TEST_F(KeySealerTest, TruncatedIsDataLoss) {
  absl::StatusOr<std::string> sealed = sealer_->Seal("", kContext);
  ASSERT_TRUE(sealed.ok());
  for (size_t n = 1; n < sealed->size(); ++n) {
    absl::StatusOr<std::string> opened = sealer_->Open(sealed->substr(0, n), kContext);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << n << opened.status();
  }
}

TEST_F(KeySealerTest, BlobForAnotherPlaceIsDataLoss) {
  absl::StatusOr<std::string> sealed = sealer_->Seal("secret", "ikeless/association/7/a_to_b");
  ASSERT_TRUE(sealed.ok());
  for (const char* place : {"ikeless/association/7/b_to_a", "ikeless/association/8/a_to_b", ""}) {
    absl::StatusOr<std::string> opened = sealer_->Open(*sealed, place);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << place;
  }
}

TEST_F(KeySealerTest, PlaintextIsNotSealed) {
  // A serialized SaParameters starts with a field tag (spi: 0x08).
  const std::string plain = std::string("\x08\x2a\x12\x0a", 4) + "198.18.0.1";
  EXPECT_FALSE(KeySealer::LooksSealed(plain));
  EXPECT_FALSE(KeySealer::LooksSealed(""));
  EXPECT_FALSE(KeySealer::SealedKeyId(plain).has_value());
  for (const std::string& blob : {plain, std::string()}) {
    absl::StatusOr<std::string> opened = sealer_->Open(blob, kContext);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
    EXPECT_NE(opened.status().message().find("not sealed"), absl::string_view::npos);
  }
}

TEST_F(KeySealerTest, UnknownVersionIsFailedPrecondition) {
  absl::StatusOr<std::string> sealed = sealer_->Seal("secret", kContext);
  ASSERT_TRUE(sealed.ok());
  std::string v2 = *sealed;
  v2[0] = '\x02';
  EXPECT_TRUE(KeySealer::LooksSealed(v2));
  absl::StatusOr<std::string> opened = sealer_->Open(v2, kContext);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition) << opened.status();
  EXPECT_NE(opened.status().message().find("version 2"), absl::string_view::npos);
}

TEST(KeySealer, KeyMustBe32Bytes) {
  FakeRandom random;
  for (size_t n : {0, 16, 31, 33, 64}) {
    EXPECT_EQ(KeySealer::FromKey(std::string(n, 'k'), &random).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(KeySealer, KeyFileIsCreatedWith0600AndReused) {
  std::string path = TempPath();
  absl::StatusOr<std::unique_ptr<KeySealer>> first =
      KeySealer::FromKeyFile(path, /*create_if_missing=*/true, CryptoRandom::Get());
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  absl::StatusOr<std::string> sealed = (*first)->Seal("secret", kContext);
  ASSERT_TRUE(sealed.ok());

  absl::StatusOr<std::unique_ptr<KeySealer>> second =
      KeySealer::FromKeyFile(path, /*create_if_missing=*/false, CryptoRandom::Get());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->id(), (*first)->id());
  absl::StatusOr<std::string> opened = (*second)->Open(*sealed, kContext);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "secret");
}

TEST(KeySealer, KeyFileReadableByGroupIsRefused) {
  std::string path = TempPath();
  ASSERT_TRUE(KeySealer::FromKeyFile(path, true, CryptoRandom::Get()).ok());
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  absl::StatusOr<std::unique_ptr<KeySealer>> s =
      KeySealer::FromKeyFile(path, true, CryptoRandom::Get());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_NE(s.status().message().find("chmod 600 " + path), absl::string_view::npos);
}

TEST(KeySealer, KeyFileOfWrongSizeIsRefused) {
  std::string path = TempPath();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "00112233", 8), 8);
  close(fd);
  absl::StatusOr<std::unique_ptr<KeySealer>> s =
      KeySealer::FromKeyFile(path, true, CryptoRandom::Get());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
  EXPECT_NE(s.status().message().find("8 bytes"), absl::string_view::npos) << s.status();
}

}  // namespace
}  // namespace ikeless::storage
