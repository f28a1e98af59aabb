#ifndef IKELESS_STORAGE_ASSOCIATION_STORE_H_
#define IKELESS_STORAGE_ASSOCIATION_STORE_H_

// The association table behind an interface: the request processor runs each
// state transition of FIG. 12/13 inside one Transact() call, so a crash
// leaves either the state before or the state after, never half of it.
// Backends: SQLite (storage/sqlite_store.h) and an in-memory fake
// (storage/memory_store.h). Kept backend-neutral so a PostgreSQL backend can
// serve several controller replicas.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/association.h"

namespace ikeless::storage {

// (request id, SPI) of one side of a row: an entry of FIG. 10's list.
struct SideEntry {
  uint64_t request_id;
  uint32_t spi;
  friend bool operator==(const SideEntry& x, const SideEntry& y) {
    return x.request_id == y.request_id && x.spi == y.spi;
  }
};

// Reads and writes inside one transaction. Addresses are canonical text.
class AssociationTxn {
 public:
  virtual ~AssociationTxn() = default;

  // S2: the row in which `source`'s side has request id `id` and the other
  // side is `peer`.
  virtual absl::StatusOr<std::optional<AssociationRow>> FindByRequestId(
      absl::string_view source, absl::string_view peer, uint64_t id) = 0;

  // S7: the row in which `source`'s side uses SPI `spi` towards `peer`.
  virtual absl::StatusOr<std::optional<AssociationRow>> FindBySpi(
      absl::string_view source, absl::string_view peer, uint32_t spi) = 0;

  // S9: the oldest half-open row opened by `opener` towards `other` for
  // exactly `selector` and the inner prefixes (a_prefix == opener_prefix,
  // b_prefix == other_prefix), whose `other` side is still blank.
  virtual absl::StatusOr<std::optional<AssociationRow>> FindHalfOpen(
      absl::string_view opener, absl::string_view other, const v1::Selector& selector,
      absl::string_view opener_prefix, absl::string_view other_prefix) = 0;

  // S8: `source`'s (request id, SPI) in every row between `source` and
  // `peer`, in row order.
  virtual absl::StatusOr<std::vector<SideEntry>> ListEntries(
      absl::string_view source, absl::string_view peer) = 0;

  // Every row with `address` on one side and, unless `peer` is empty, `peer`
  // on the other, by id: what a node's Hello is reconciled against, and the
  // rows the per-pair cap weighs. Without their SA parameters (a_to_b and
  // b_to_a empty): those callers need none, and a pair may hold hundreds of
  // rows whose keys would otherwise be unsealed and copied for every new
  // request.
  virtual absl::StatusOr<std::vector<AssociationRow>> ListRows(absl::string_view address,
                                                               absl::string_view peer) = 0;

  // Rows `opener` opened (S22) that still wait for their peer (S9): what a
  // node flooding requests to fresh peers piles up.
  virtual absl::StatusOr<uint64_t> CountHalfOpen(absl::string_view opener) = 0;

  // Inserts `row` (its id is ignored) and returns the new id.
  virtual absl::StatusOr<uint64_t> Insert(const AssociationRow& row) = 0;
  // Replaces the row with row.id; NOT_FOUND if it is gone.
  virtual absl::Status Update(const AssociationRow& row) = 0;
  // NOT_FOUND if it is gone.
  virtual absl::Status Delete(uint64_t id) = 0;

  // Half-open rows whose next startup is due (next_startup_time <= now),
  // earliest first, at most `limit`.
  virtual absl::StatusOr<std::vector<AssociationRow>> DueStartups(absl::Time now,
                                                                  size_t limit) = 0;
  // Every row, by id (the policy enforcer re-checks all of them after an
  // operator's change).
  virtual absl::StatusOr<std::vector<AssociationRow>> All() = 0;
  // Rows whose hard lifetime has ended (expire_time <= now), at most `limit`.
  virtual absl::StatusOr<std::vector<AssociationRow>> Expired(absl::Time now,
                                                              size_t limit) = 0;
};

class AssociationStore {
 public:
  virtual ~AssociationStore() = default;

  // Runs `fn` in one transaction: commits if it returns OK, rolls back (and
  // returns its status) otherwise. Transactions are serialised.
  virtual absl::Status Transact(absl::FunctionRef<absl::Status(AssociationTxn&)> fn) = 0;

  // Rows with `address` on either side ("" = all), by id.
  virtual absl::StatusOr<std::vector<AssociationRow>> ListAssociations(
      absl::string_view address) = 0;
  virtual absl::StatusOr<std::optional<AssociationRow>> GetAssociation(uint64_t id) = 0;
  // The earliest next_startup_time or expire_time of any row, or
  // InfiniteFuture; tells the timer when to wake.
  virtual absl::StatusOr<absl::Time> NextDeadline() = 0;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_ASSOCIATION_STORE_H_
