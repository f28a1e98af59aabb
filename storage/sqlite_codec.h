#ifndef IKELESS_STORAGE_SQLITE_CODEC_H_
#define IKELESS_STORAGE_SQLITE_CODEC_H_

// How SqliteStore's values map to columns: times, policies, association
// rows, and the SA parameter blobs. Kept apart from the SQL so the blob
// format (to be encrypted with a key-encryption key) changes in one place.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/policy.pb.h"
#include "storage/association.h"
#include "storage/sqlite_db.h"

namespace ikeless::storage {

// Microseconds since the Unix epoch; InfinitePast/InfiniteFuture are INT64
// min/max. Sub-microsecond parts are dropped.
int64_t TimeToMicros(absl::Time t);
absl::Time MicrosToTime(int64_t us);

// The only place SA parameters (which hold keys) become stored bytes and
// back. `out` must be wiped with WipeString once written.
void EncodeSaParameters(const v1::SaParameters& sa, std::string* out);
// Parses straight from SQLite's buffer, so no copy of the keys is left in a
// temporary string. (Once the blobs are encrypted, the plaintext buffer made
// here is the one to wipe.)
absl::Status DecodeSaParameters(absl::string_view stored, v1::SaParameters* out);

// Serialized SA parameters bound to a statement without copying; wiped when
// this goes away. Declare it before the statement so the statement is reset
// (and lets go of the buffers) first.
struct SaBlobs {
  std::string a_to_b;
  std::string b_to_a;
  SaBlobs() = default;
  SaBlobs(const SaBlobs&) = delete;
  SaBlobs& operator=(const SaBlobs&) = delete;
  ~SaBlobs();
};

// Every association column, in the order ReadAssociation expects. A macro so
// it can be pasted into SQL string literals (the statement cache is keyed by
// the SQL text, so the text should be a constant).
#define IKELESS_ASSOCIATION_COLUMNS                                         \
  "id, a_address, a_request_id, a_spi, b_address, b_request_id, b_spi, "    \
  "selector_protocol, selector_port, policy, a_to_b, b_to_a, create_time, " \
  "establish_time, expire_time, next_startup_time, startups_sent"

// Binds every column of IKELESS_ASSOCIATION_COLUMNS but id to parameters
// first .. first + 15, in that order.
void BindAssociation(const AssociationRow& row, int first, SaBlobs* blobs, std::string* policy_body,
                     SqliteStatement& stmt);
// Reads a row selected with IKELESS_ASSOCIATION_COLUMNS. DATA_LOSS if a blob
// does not parse.
absl::Status ReadAssociation(const SqliteStatement& stmt, AssociationRow* row);
// Steps `stmt` to the end, reading every row.
absl::StatusOr<std::vector<AssociationRow>> ReadAssociations(SqliteStatement& stmt);

// Policy columns: name, a_address, b_address, selector_protocol,
// selector_port, priority, revision, create_time_unix, update_time_unix,
// body, bound to parameters 1..10. `body` must outlive the Step.
void BindPolicy(const v1::Policy& policy, std::string* body, SqliteStatement& stmt);
absl::Status DecodePolicy(absl::string_view body, v1::Policy* out);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SQLITE_CODEC_H_
