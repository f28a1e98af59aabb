#ifndef IKELESS_BENCH_TEMP_DIR_H_
#define IKELESS_BENCH_TEMP_DIR_H_

// A private directory for one benchmark run (the controller's database and
// log), removed with everything in it when the object goes away.

#include <string>

#include "absl/status/statusor.h"

namespace ikeless::bench {

class TempDir {
 public:
  // Creates $TMPDIR/ikeless-bench-XXXXXX (or under /tmp).
  static absl::StatusOr<TempDir> Create();

  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
    other.path_.clear();
  }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // Leaves the directory in place (for a look at the controller's log).
  void Keep() { keep_ = true; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_TEMP_DIR_H_
