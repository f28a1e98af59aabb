#ifndef IKELESS_CONTROLLER_REVOCATION_LIST_H_
#define IKELESS_CONTROLLER_REVOCATION_LIST_H_

// The deny list: a text file the operator edits, one entry per line, '#'
// starts a comment: a certificate serial in hex (`ikeless-ca show FILE.crt`
// prints it), or `node:NAME` for every certificate of that node or admin —
// including ones it renewed itself after a key was stolen. The controller re-reads it when it changes
// and, within a second, refuses and disconnects every holder of a listed
// certificate.

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ikeless::controller {

class RevocationList {
 public:
  // `path` empty: nothing is ever revoked.
  explicit RevocationList(std::string path) : path_(std::move(path)) {}

  // Re-reads the file if its size or modification time changed. A missing
  // file is an empty list. Returns true if the list changed. A malformed
  // line is an error naming the line; the previous list stays in force.
  absl::StatusOr<bool> Reload();

  // Appends `node:NAME` (with a comment saying why) to the file, creating
  // it, and reloads: every certificate of the node or admin is refused from
  // now on. FAILED_PRECONDITION without a file.
  absl::Status RevokeName(const std::string& name, const std::string& why);

  bool IsRevoked(const std::string& serial_hex) const;
  bool IsNameRevoked(const std::string& name) const;
  size_t size() const;

  // "00AB12" and "ab12" are the same serial.
  static std::string Normalize(const std::string& serial_hex);

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> serials_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> names_ ABSL_GUARDED_BY(mu_);
  int64_t seen_size_ ABSL_GUARDED_BY(mu_) = -1;
  absl::Time seen_mtime_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REVOCATION_LIST_H_
