#ifndef IKELESS_STORAGE_SQLITE_CODEC_H_
#define IKELESS_STORAGE_SQLITE_CODEC_H_

// How SqliteStore's values map to columns and statement parameters: times,
// policies and association rows. The SA parameter blobs inside a row are
// made and opened by storage/sa_blob_codec.h (sealing is not SQLite's
// business); this file only binds and reads the bytes.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/policy.pb.h"
#include "storage/association.h"
#include "storage/key_sealer.h"
#include "storage/sa_blob_codec.h"
#include "storage/sqlite_db.h"

namespace ikeless::storage {

// Microseconds since the Unix epoch; InfinitePast/InfiniteFuture are INT64
// min/max. Sub-microsecond parts are dropped.
int64_t TimeToMicros(absl::Time t);
absl::Time MicrosToTime(int64_t us);

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
  "establish_time, expire_time, next_startup_time, startups_sent, a_prefix, b_prefix, " \
  "a_successor_spis, b_successor_spis"

// The same columns with NULL for the SA blobs: rows read without their
// keys (AssociationTxn::ListRows).
#define IKELESS_ASSOCIATION_COLUMNS_WITHOUT_KEYS                            \
  "id, a_address, a_request_id, a_spi, b_address, b_request_id, b_spi, "    \
  "selector_protocol, selector_port, policy, NULL, NULL, create_time, "     \
  "establish_time, expire_time, next_startup_time, startups_sent, a_prefix, b_prefix, " \
  "a_successor_spis, b_successor_spis"

// Binds every column of IKELESS_ASSOCIATION_COLUMNS but id to parameters
// first .. first + 19, in that order. `id` is the row's (row.id may not be
// set yet on insert); the SA blobs are sealed for it. Fails only if sealing
// does.
absl::Status BindAssociation(const AssociationRow& row, uint64_t id, int first,
                             const KeySealer* sealer, SaBlobs* blobs, std::string* policy_body,
                             SqliteStatement& stmt);
// Reads a row selected with IKELESS_ASSOCIATION_COLUMNS, opening its SA
// blobs with `sealer` (see DecodeSaParameters for the errors).
absl::Status ReadAssociation(const SqliteStatement& stmt, const KeySealer* sealer,
                             AssociationRow* row);
// Steps `stmt` to the end, reading every row.
absl::StatusOr<std::vector<AssociationRow>> ReadAssociations(SqliteStatement& stmt,
                                                             const KeySealer* sealer);

// Policy columns: name, a_address, b_address, selector_protocol,
// selector_port, priority, revision, create_time_unix, update_time_unix,
// body, bound to parameters 1..10. `body` must outlive the Step.
void BindPolicy(const v1::Policy& policy, std::string* body, SqliteStatement& stmt);
absl::Status DecodePolicy(absl::string_view body, v1::Policy* out);
// Inserts `policy`, or (insert = false) replaces the row of its name.
absl::Status WritePolicyRow(SqliteDb& db, const v1::Policy& policy, bool insert);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SQLITE_CODEC_H_
