#ifndef IKELESS_STORAGE_SA_BLOB_CODEC_H_
#define IKELESS_STORAGE_SA_BLOB_CODEC_H_

// SA parameters (which hold keys) to the bytes a backend stores, and back:
// sealed under a key-encryption key (storage/key_sealer.h) and bound to the
// association row and column they belong to. Backend-neutral, so every store
// (SQLite today, PostgreSQL later) keeps keys at rest the same way and reads
// another's rows; the backend only decides where the bytes go.
//
// Stored format: with a sealer, KeySealer's sealed format of the serialized
// v1::SaParameters, context SealContext(where); without one, the serialized
// message itself. Changing either changes what is on disk.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/policy.pb.h"
#include "storage/key_sealer.h"

namespace ikeless::storage {

// Where a blob of SA parameters is stored. Names it in errors and, as the
// sealer's context ("ikeless/association/7/a_to_b"), binds the sealed blob
// to its row and column: a blob copied elsewhere does not open.
struct SaColumn {
  uint64_t id;             // association id (never reused)
  absl::string_view name;  // "a_to_b" or "b_to_a"
};
std::string SealContext(SaColumn where);

// The only place SA parameters become stored bytes. With a sealer the bytes
// are sealed under its key-encryption key; with nullptr they are the plain
// serialization (tests, and tools that only read policies). The plaintext
// serialization made on the way is wiped. `out` must be wiped with
// WipeString once written (it is the plaintext when there is no sealer).
// Fails only if sealing does (INTERNAL).
absl::Status EncodeSaParameters(const v1::SaParameters& sa, const KeySealer* sealer, SaColumn where,
                                std::string* out);

// And back. DATA_LOSS (the message names the association and column) if
// the blob does not open or parse, is sealed when `sealer` is nullptr, or is
// plaintext when it is not (a database with keys in the clear is noticed,
// not quietly used); FAILED_PRECONDITION if it was sealed under another
// key-encryption key. Without a sealer it parses straight from `stored`;
// with one, the opened plaintext is wiped. On error `out` holds no key.
absl::Status DecodeSaParameters(absl::string_view stored, const KeySealer* sealer, SaColumn where,
                                v1::SaParameters* out);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SA_BLOB_CODEC_H_
