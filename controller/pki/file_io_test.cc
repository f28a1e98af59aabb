#include "controller/pki/file_io.h"

#include <sys/stat.h>

#include "controller/pki/pki_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ikeless::pki {
namespace {

using test_util::FileMode;
using test_util::MakeTempDir;
using ::testing::HasSubstr;

TEST(FileIoTest, WriteNewFileSetsModeRegardlessOfUmaskAndReadsBack) {
  std::string dir = MakeTempDir();
  mode_t old = umask(0);  // the most permissive umask: mode must still be 0600
  absl::Status s = WriteNewFile(dir + "/k", "secret", 0600, "key");
  umask(old);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(FileMode(dir + "/k"), 0600);
  mode_t mode = 0;
  auto read = ReadSmallFile(dir + "/k", "key", &mode);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "secret");
  EXPECT_EQ(mode, 0600u);
}

TEST(FileIoTest, WriteNewFileRefusesToOverwrite) {
  std::string dir = MakeTempDir();
  ASSERT_TRUE(WriteNewFile(dir + "/f", "one", 0644, "cert").ok());
  absl::Status s = WriteNewFile(dir + "/f", "two", 0644, "cert");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cert: "));
  EXPECT_THAT(std::string(s.message()), HasSubstr("refusing to overwrite"));
  EXPECT_EQ(*ReadSmallFile(dir + "/f", "cert"), "one");
}

TEST(FileIoTest, ReadErrorsNameTheFieldAndPath) {
  std::string dir = MakeTempDir();
  auto missing = ReadSmallFile(dir + "/nope", "ca.crt");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("ca.crt: cannot read " + dir + "/nope"));
  auto directory = ReadSmallFile(dir, "csr");
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(directory.status().message()), HasSubstr("not a regular file"));
}

TEST(FileIoTest, RefusesHugeFiles) {
  std::string dir = MakeTempDir();
  ASSERT_TRUE(WriteNewFile(dir + "/big", std::string(kMaxPkiFileSize + 1, 'x'), 0600, "f").ok());
  auto big = ReadSmallFile(dir + "/big", "csr");
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("larger than"));
}

TEST(FileIoTest, EnsureDirectoryCreatesPrivateDirectoryOnce) {
  std::string dir = MakeTempDir() + "/ca";
  ASSERT_TRUE(EnsureDirectory(dir, "dir").ok());
  EXPECT_EQ(FileMode(dir) & 0077, 0);
  EXPECT_TRUE(EnsureDirectory(dir, "dir").ok());
  ASSERT_TRUE(WriteNewFile(dir + "/file", "x", 0600, "f").ok());
  absl::Status s = EnsureDirectory(dir + "/file", "dir");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("dir: "));
}

TEST(FileIoTest, JoinPath) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

}  // namespace
}  // namespace ikeless::pki
