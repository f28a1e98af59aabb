#include "controller/pki/file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/scoped_fd.h"

namespace ikeless::pki {
namespace {

absl::Status FileError(int err, absl::string_view field, absl::string_view action,
                       absl::string_view path) {
  return absl::ErrnoToStatus(err, absl::StrCat(field, ": cannot ", action, " ", path));
}


}  // namespace

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, absl::string_view field,
                                          mode_t* mode) {
  ScopedFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return FileError(errno, field, "read", path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return FileError(errno, field, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", path, " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxPkiFileSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", path, " is larger than ", kMaxPkiFileSize, " bytes"));
  }
  if (mode != nullptr) *mode = st.st_mode & 07777;
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(errno, field, "read", path);
    if (n == 0) break;  // shrank while we read
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

absl::Status WriteNewFile(const std::string& path, absl::string_view contents, mode_t mode,
                          absl::string_view field) {
  ScopedFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat(field, ": ", path, " already exists; refusing to overwrite it"));
    }
    return FileError(errno, field, "create", path);
  }
  // The umask may have taken bits away; never added any, so the file was
  // never more open than `mode`.
  absl::Status status;
  if (fchmod(fd.get(), mode) != 0) status = FileError(errno, field, "chmod", path);
  size_t done = 0;
  while (status.ok() && done < contents.size()) {
    ssize_t n = write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = FileError(errno, field, "write", path);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd.get()) != 0) status = FileError(errno, field, "sync", path);
  if (fd.Close() != 0 && status.ok()) status = FileError(errno, field, "close", path);
  if (!status.ok()) unlink(path.c_str());
  return status;
}

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

absl::Status EnsureDirectory(const std::string& path, absl::string_view field) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", path, " exists and is not a directory"));
  }
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return FileError(errno, field, "create directory", path);
  }
  return absl::OkStatus();
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

}  // namespace ikeless::pki
