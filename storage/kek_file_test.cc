// The key-encryption key file: created safely, read back, and refused with
// the fix when it is exposed or malformed.
#include "storage/kek_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ikeless::storage {
namespace {

constexpr char kHex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// A path under TEST_TMPDIR named after the running test, with nothing there.
std::string TempPath(const std::string& suffix = "kek.key") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", info->name(), ".", suffix);
  unlink(path.c_str());
  rmdir(path.c_str());
  return path;
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ASSERT_EQ(fchmod(fd, mode), 0);
  close(fd);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Hex(const KekBytes& kek) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(kek.data()), kek.size()));
}

absl::Status Load(const std::string& path, KekBytes* kek = nullptr) {
  KekBytes scratch{};
  FakeRandom random(7);
  return LoadKekFile(path, /*create_if_missing=*/false, &random, kek ? kek : &scratch);
}

TEST(KekFile, CreatesMode0600FileAndReusesIt) {
  std::string path = TempPath();
  FakeRandom random(42);
  KekBytes created{};
  ASSERT_TRUE(LoadKekFile(path, /*create_if_missing=*/true, &random, &created).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(ReadFile(path), Hex(created) + "\n");
  EXPECT_NE(Hex(created), std::string(64, '0'));

  // Read back, and never overwritten by a second create.
  KekBytes again{};
  ASSERT_TRUE(LoadKekFile(path, /*create_if_missing=*/true, &random, &again).ok());
  EXPECT_EQ(Hex(again), Hex(created));
  KekBytes read{};
  ASSERT_TRUE(Load(path, &read).ok());
  EXPECT_EQ(Hex(read), Hex(created));
}

TEST(KekFile, CreatedFileIsReadableWhateverTheUmask) {
  std::string path = TempPath();
  mode_t old = umask(0777);
  FakeRandom random(1);
  KekBytes kek{};
  absl::Status s = LoadKekFile(path, true, &random, &kek);
  umask(old);
  ASSERT_TRUE(s.ok()) << s;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(Load(path).ok());
}

TEST(KekFile, MissingFileWithoutCreateIsNotFound) {
  std::string path = TempPath();
  absl::Status s = Load(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find(path), absl::string_view::npos) << s;
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "created although told not to";
}

TEST(KekFile, CreateInMissingDirectoryFailsNamingThePath) {
  std::string path = TempPath("no-such-dir/kek.key");
  FakeRandom random(1);
  KekBytes kek{};
  absl::Status s = LoadKekFile(path, true, &random, &kek);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), absl::string_view::npos) << s;
}

TEST(KekFile, AcceptsHexWithoutNewlineInEitherCase) {
  std::string path = TempPath();
  std::string upper = kHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  for (const std::string& content : {std::string(kHex), upper, std::string(kHex) + "\n"}) {
    WriteFile(path, content, 0600);
    KekBytes kek{};
    absl::Status s = Load(path, &kek);
    ASSERT_TRUE(s.ok()) << s << " for '" << content << "'";
    EXPECT_EQ(Hex(kek), kHex);
  }
  WriteFile(path, kHex, 0400);  // read-only for its owner is fine too
  EXPECT_TRUE(Load(path).ok());
}

TEST(KekFile, RefusesAccessByGroupOrOthersWithTheFix) {
  std::string path = TempPath();
  for (mode_t mode : {0640, 0604, 0620, 0660, 0644, 0610}) {
    WriteFile(path, kHex, mode);
    absl::Status s = Load(path);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(s.message().find(absl::StrCat("chmod 600 ", path)), absl::string_view::npos) << s;
    EXPECT_NE(s.message().find(absl::StrCat("mode 0", mode >> 6, (mode >> 3) & 7, mode & 7)),
              absl::string_view::npos)
        << s;
  }
}

TEST(KekFile, RefusesWrongSize) {
  std::string path = TempPath();
  std::string raw32(32, '\x11');
  for (const std::string& content :
       {std::string(), std::string(kHex).substr(0, 62), std::string(kHex) + "00",
        std::string(kHex) + "\n\n", std::string(kHex) + " ", raw32,
        std::string(kHex) + std::string(kHex)}) {
    WriteFile(path, content, 0600);
    absl::Status s = Load(path);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s << " for " << content.size();
    EXPECT_NE(s.message().find("64 hex digits"), absl::string_view::npos) << s;
  }
}

TEST(KekFile, RefusesNonHexWithoutShowingTheKey) {
  std::string path = TempPath();
  std::string content = kHex;
  content[10] = 'g';
  WriteFile(path, content, 0600);
  absl::Status s = Load(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("byte 10 is not a hex digit"), absl::string_view::npos) << s;
  EXPECT_EQ(s.message().find(content.substr(0, 10)), absl::string_view::npos) << s;
}

TEST(KekFile, RefusesNonRegularFiles) {
  std::string dir = TempPath("dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  absl::Status s = Load(dir);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("not a regular file"), absl::string_view::npos) << s;

  // A FIFO is refused at once rather than waiting for a writer.
  std::string fifo = TempPath("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  s = Load(fifo);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("not a regular file"), absl::string_view::npos) << s;
}

TEST(KekFile, FollowsSymlinkToARegularFile) {
  // Kubernetes mounts secrets as symbolic links into a ..data directory.
  std::string target = TempPath("target");
  std::string link = TempPath();
  WriteFile(target, kHex, 0400);
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  KekBytes kek{};
  ASSERT_TRUE(Load(link, &kek).ok());
  EXPECT_EQ(Hex(kek), kHex);
}

}  // namespace
}  // namespace ikeless::storage
