#include "storage/kek_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/scoped_fd.h"
#include "common/wiped_array.h"

namespace ikeless::storage {
namespace {

constexpr size_t kHexDigits = 2 * kKekBytes;
// Hex digits and the optional newline.
constexpr size_t kMaxFileBytes = kHexDigits + 1;



std::string Subject(const std::string& path) {
  return absl::StrCat("key-encryption key file ", path);
}

absl::Status FileError(int error, const std::string& path, absl::string_view what) {
  return absl::ErrnoToStatus(error, absl::StrCat(Subject(path), ": ", what));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status FormatError(const std::string& path, absl::string_view problem) {
  return absl::FailedPreconditionError(
      absl::StrCat(Subject(path), ": ", problem, "; it must hold ", kHexDigits,
                   " hex digits (a 32-byte key), optionally followed by a newline, e.g. from"
                   " `openssl rand -hex 32`"));
}

// Reads up to `cap` bytes, retrying short reads and EINTR.
absl::StatusOr<size_t> ReadUpTo(int fd, char* out, size_t cap, const std::string& path) {
  size_t n = 0;
  while (n < cap) {
    ssize_t r = read(fd, out + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return FileError(errno, path, "cannot read");
    if (r == 0) break;
    n += static_cast<size_t>(r);
  }
  return n;
}

absl::Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  size_t n = 0;
  while (n < size) {
    ssize_t w = write(fd, data + n, size - n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return FileError(errno, path, "cannot write");
    n += static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

// The directory entry of a new file is only durable once its directory is
// fsynced.
absl::Status SyncParentDirectory(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  ScopedFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return FileError(errno, path, absl::StrCat("cannot open directory ", dir));
  if (fsync(fd.get()) != 0) return FileError(errno, path, absl::StrCat("cannot fsync ", dir));
  return absl::OkStatus();
}

// Checks what `fd` is, then parses it into `kek`.
absl::Status ReadKek(int fd, const std::string& path, KekBytes* kek) {
  struct stat st;
  if (fstat(fd, &st) != 0) return FileError(errno, path, "cannot stat");
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(Subject(path), " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(Subject(path), " may be accessed by group or others (mode ",
                     absl::StrFormat("%04o", st.st_mode & 07777),
                     "); only its owner may read it. Fix: chmod 600 ", path));
  }
  WipedArray<kMaxFileBytes + 1> text;  // one more, to notice a longer file
  absl::StatusOr<size_t> n = ReadUpTo(fd, text.bytes, sizeof text.bytes, path);
  if (!n.ok()) return n.status();
  size_t digits = *n;
  if (digits == kMaxFileBytes && text.bytes[kHexDigits] == '\n') --digits;
  if (digits != kHexDigits) {
    return FormatError(path, *n > kMaxFileBytes
                                 ? absl::StrCat("it has more than ", kMaxFileBytes, " bytes")
                                 : absl::StrCat("it has ", *n, " bytes"));
  }
  for (size_t i = 0; i < kKekBytes; ++i) {
    int hi = HexValue(text.bytes[2 * i]);
    int lo = HexValue(text.bytes[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(kek->data(), kek->size());
      // The offending character is not shown: it is part of the key.
      return FormatError(path,
                         absl::StrCat("byte ", hi < 0 ? 2 * i : 2 * i + 1, " is not a hex digit"));
    }
    (*kek)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return absl::OkStatus();
}

// Creates the file with a new key. False if it already exists (another
// process won the race; the caller reads that one).
absl::StatusOr<bool> CreateKekFile(const std::string& path, RandomSource* random, KekBytes* kek) {
  ScopedFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0 && errno == EEXIST) return false;
  if (fd.get() < 0) return FileError(errno, path, "cannot create");
  random->Fill(kek->data(), kek->size());
  static constexpr char kDigits[] = "0123456789abcdef";
  WipedArray<kMaxFileBytes> text;
  for (size_t i = 0; i < kKekBytes; ++i) {
    text.bytes[2 * i] = kDigits[(*kek)[i] >> 4];
    text.bytes[2 * i + 1] = kDigits[(*kek)[i] & 0xf];
  }
  text.bytes[kHexDigits] = '\n';
  absl::Status s;
  // fchmod: the umask could only have removed bits, but a umask that took
  // the owner's read bit would leave a file the next start cannot read.
  if (fchmod(fd.get(), 0600) != 0) s = FileError(errno, path, "cannot chmod");
  if (s.ok()) s = WriteAll(fd.get(), text.bytes, sizeof text.bytes, path);
  if (s.ok() && fsync(fd.get()) != 0) s = FileError(errno, path, "cannot fsync");
  if (s.ok() && fd.Close() != 0) s = FileError(errno, path, "cannot close");
  if (s.ok()) s = SyncParentDirectory(path);
  if (!s.ok()) {
    // A short file would stop every later start with a format error; no
    // row has been sealed with this key yet, so it can simply go.
    unlink(path.c_str());
    OPENSSL_cleanse(kek->data(), kek->size());
    return s;
  }
  LogInfo("kek_file_created").Kv("path", path);
  return true;
}

}  // namespace

absl::Status LoadKekFile(const std::string& path, bool create_if_missing, RandomSource* random,
                         KekBytes* kek) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer, and a misconfigured path would hang the start instead of
  // failing it. It changes nothing for a regular file.
  constexpr int kReadFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  int raw = open(path.c_str(), kReadFlags);
  if (raw < 0 && errno == ENOENT && create_if_missing) {
    absl::StatusOr<bool> created = CreateKekFile(path, random, kek);
    if (!created.ok()) return created.status();
    if (*created) return absl::OkStatus();
    raw = open(path.c_str(), kReadFlags);
  }
  if (raw < 0) return FileError(errno, path, "cannot open");
  ScopedFd fd(raw);
  return ReadKek(fd.get(), path, kek);
}

}  // namespace ikeless::storage
