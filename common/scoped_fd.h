#ifndef IKELESS_COMMON_SCOPED_FD_H_
#define IKELESS_COMMON_SCOPED_FD_H_

// A file descriptor closed when it goes out of scope.

#include <unistd.h>

namespace ikeless {

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  // Closes now and returns close()'s result: some file systems report a
  // failed write only there.
  int Close() {
    int rc = close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace ikeless

#endif  // IKELESS_COMMON_SCOPED_FD_H_
