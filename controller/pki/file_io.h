#ifndef IKELESS_CONTROLLER_PKI_FILE_IO_H_
#define IKELESS_CONTROLLER_PKI_FILE_IO_H_

// Reading and writing the CA's small files (keys, certificates, requests).
// Private keys must never be readable by others, not even for a moment, and
// an existing key must never be overwritten by accident: new files are
// created exclusively with their final mode and synced before the call
// returns. Reads go straight into the returned string (no stream buffers
// that would keep a copy of a key).

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ikeless::pki {

// Larger files are refused: no key, certificate or request is near this.
inline constexpr size_t kMaxPkiFileSize = 1 << 20;

// The whole of a regular file of at most kMaxPkiFileSize bytes. Errors name
// `field` and the path. With `mode`, also returns the permission bits.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, absl::string_view field,
                                          mode_t* mode = nullptr);

// Creates `path` with permission bits `mode` (independent of the umask),
// writes `contents` and fsyncs. ALREADY_EXISTS if `path` exists (nothing is
// overwritten); on a later failure the half-written file is removed.
absl::Status WriteNewFile(const std::string& path, absl::string_view contents, mode_t mode,
                          absl::string_view field);

// True if something (file, directory, dangling link) exists at `path`.
bool PathExists(const std::string& path);

// Creates directory `path` with mode 0700 unless it exists already as a
// directory. Not recursive.
absl::Status EnsureDirectory(const std::string& path, absl::string_view field);

// "dir/name", without doubling a trailing slash.
std::string JoinPath(absl::string_view dir, absl::string_view name);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_FILE_IO_H_
