#ifndef IKELESS_STORAGE_KEK_FILE_H_
#define IKELESS_STORAGE_KEK_FILE_H_

// The file that holds the key-encryption key (KEK) the association table's
// keys are sealed with (storage/key_sealer.h). The database may be copied,
// backed up or stolen; this file is what must not be.
//
// Format: 64 hex digits (the 32 key bytes), optionally followed by one
// newline, nothing else. Hex rather than raw bytes so the file survives text
// tooling (configuration management templates, secret stores that hold
// strings, copy and paste) and can be made by hand with
//   (umask 077; openssl rand -hex 32 > kek.key)
// Either case of hex digit is accepted; a created file is lower case.
//
// The file must be a regular file (a symbolic link to one is fine, as
// Kubernetes mounts secrets that way) that only its owner may access: any
// group or other permission bit is refused, as ssh refuses private keys.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/random.h"

namespace ikeless::storage {

inline constexpr size_t kKekBytes = 32;
using KekBytes = std::array<uint8_t, kKekBytes>;

// Reads the KEK at `path` into `kek`; the caller wipes it (OPENSSL_cleanse)
// when done. If there is no file at `path` and `create_if_missing`, creates
// one holding 32 bytes from `random`: O_CREAT|O_EXCL with mode 0600, written,
// fsynced, and its directory fsynced, all before returning, so no row is
// ever sealed with a key that a power loss could take away. If another
// process creates the file first, its key is read instead (two controllers
// starting on one data directory at the same instant may see it half
// written and fail with a format error; the retry reads it whole).
//
// The controller does not pass create_if_missing itself: LoadKekForDatabase
// (database_kek.h) decides it from the database beside the file.
//
// Errors name the path and the fix; none contains key bytes:
// NOT_FOUND (missing, !create_if_missing), FAILED_PRECONDITION (not a
// regular file, group/other access, wrong size or content), or the errno's
// status for I/O failures.
absl::Status LoadKekFile(const std::string& path, bool create_if_missing, RandomSource* random,
                         KekBytes* kek);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_KEK_FILE_H_
