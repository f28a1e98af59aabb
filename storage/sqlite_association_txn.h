#ifndef IKELESS_STORAGE_SQLITE_ASSOCIATION_TXN_H_
#define IKELESS_STORAGE_SQLITE_ASSOCIATION_TXN_H_

// The association table's reads and writes inside one SQLite transaction,
// for SqliteStore::Transact. The caller opens and closes the transaction;
// this class only runs statements on it.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "storage/association_store.h"
#include "storage/key_sealer.h"
#include "storage/sqlite_db.h"

namespace ikeless::storage {

// One transaction's view of the association table; lives inside Transact().
class SqliteAssociationTxn final : public AssociationTxn {
 public:
  // `sealer` seals and opens the SA blobs; nullptr stores them in the clear.
  SqliteAssociationTxn(SqliteDb* db, const KeySealer* sealer) : db_(db), sealer_(sealer) {}

  // The first database error any call hit, or OK. Once set, every further
  // call returns it and the caller must roll back even if the transaction's
  // function ignored the error and returned OK: SQLite may already have
  // rolled back on its own (disk full, I/O error). Contract errors
  // (NOT_FOUND from Update/Delete) are not failures.
  const absl::Status& failure() const { return failure_; }

  absl::StatusOr<std::optional<AssociationRow>> FindByRequestId(absl::string_view source,
                                                                absl::string_view peer,
                                                                uint64_t id) override;
  absl::StatusOr<std::optional<AssociationRow>> FindBySpi(absl::string_view source,
                                                          absl::string_view peer,
                                                          uint32_t spi) override;
  absl::StatusOr<std::optional<AssociationRow>> FindHalfOpen(
      absl::string_view opener, absl::string_view other, const v1::Selector& selector,
      absl::string_view opener_prefix, absl::string_view other_prefix) override;
  absl::StatusOr<uint64_t> CountHalfOpen(absl::string_view opener) override;
  absl::StatusOr<std::vector<AssociationRow>> ListRows(absl::string_view address,
                                                       absl::string_view peer) override;
  absl::StatusOr<std::vector<SideEntry>> ListEntries(absl::string_view source,
                                                     absl::string_view peer) override;
  absl::StatusOr<uint64_t> Insert(const AssociationRow& row) override;
  absl::Status Update(const AssociationRow& row) override;
  absl::Status Delete(uint64_t id) override;
  absl::StatusOr<std::vector<AssociationRow>> All() override;
  absl::StatusOr<std::vector<AssociationRow>> DueStartups(absl::Time now, size_t limit) override;
  absl::StatusOr<std::vector<AssociationRow>> Expired(absl::Time now, size_t limit) override;

 private:
  // Records `s` as the failure if it is the first; returns it.
  absl::Status Fail(absl::Status s);
  // Runs a prepared statement expected to yield at most one row.
  absl::StatusOr<std::optional<AssociationRow>> FindOne(SqliteStatement& stmt);
  absl::StatusOr<std::vector<AssociationRow>> FindAll(SqliteStatement& stmt);

  SqliteDb* db_;
  const KeySealer* sealer_;
  absl::Status failure_;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_SQLITE_ASSOCIATION_TXN_H_
