#include "storage/sqlite_association_txn.h"

#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/sqlite_codec.h"

namespace ikeless::storage {
namespace {

int64_t LimitColumn(size_t limit) {
  constexpr size_t kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  return static_cast<int64_t>(limit > kMax ? kMax : limit);
}

absl::Status NotFound(uint64_t id) {
  return absl::NotFoundError(absl::StrCat("association ", id, " not found"));
}

}  // namespace

absl::Status SqliteAssociationTxn::Fail(absl::Status s) {
  if (!s.ok() && failure_.ok()) failure_ = s;
  return s;
}

absl::StatusOr<std::vector<AssociationRow>> SqliteAssociationTxn::FindAll(SqliteStatement& stmt) {
  absl::StatusOr<std::vector<AssociationRow>> rows = ReadAssociations(stmt, sealer_);
  if (!rows.ok()) return Fail(rows.status());
  return rows;
}

absl::StatusOr<std::optional<AssociationRow>> SqliteAssociationTxn::FindOne(SqliteStatement& stmt) {
  absl::StatusOr<std::vector<AssociationRow>> rows = FindAll(stmt);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  return std::move(rows->front());
}

absl::StatusOr<std::optional<AssociationRow>> SqliteAssociationTxn::FindByRequestId(
    absl::string_view source, absl::string_view peer, uint64_t id) {
  if (!failure_.ok()) return failure_;
  if (id == 0) return std::nullopt;  // 0 marks a blank side, never a request
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS
                   " FROM associations"
                   " WHERE (a_address = ? AND b_address = ? AND a_request_id = ?)"
                   " OR (b_address = ? AND a_address = ? AND b_request_id = ?)"
                   " ORDER BY id LIMIT 1");
  if (!stmt.ok()) return Fail(stmt.status());
  for (int side : {0, 3}) {
    stmt->BindText(side + 1, source);
    stmt->BindText(side + 2, peer);
    stmt->BindInt64(side + 3, static_cast<int64_t>(id));
  }
  return FindOne(*stmt);
}

absl::StatusOr<std::optional<AssociationRow>> SqliteAssociationTxn::FindBySpi(
    absl::string_view source, absl::string_view peer, uint32_t spi) {
  if (!failure_.ok()) return failure_;
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS
                   " FROM associations"
                   " WHERE (a_address = ? AND b_address = ? AND a_spi = ? AND a_request_id <> 0)"
                   " OR (b_address = ? AND a_address = ? AND b_spi = ? AND b_request_id <> 0)"
                   " ORDER BY id LIMIT 1");
  if (!stmt.ok()) return Fail(stmt.status());
  for (int side : {0, 3}) {
    stmt->BindText(side + 1, source);
    stmt->BindText(side + 2, peer);
    stmt->BindInt64(side + 3, spi);
  }
  return FindOne(*stmt);
}

absl::StatusOr<std::optional<AssociationRow>> SqliteAssociationTxn::FindHalfOpen(
    absl::string_view opener, absl::string_view other, const v1::Selector& selector,
    absl::string_view opener_prefix, absl::string_view other_prefix) {
  if (!failure_.ok()) return failure_;
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS
                   " FROM associations"
                   " WHERE a_address = ? AND b_address = ? AND b_request_id = 0"
                   " AND selector_protocol = ? AND selector_port = ?"
                   " AND a_prefix = ? AND b_prefix = ?"
                   " ORDER BY id LIMIT 1");
  if (!stmt.ok()) return Fail(stmt.status());
  stmt->BindText(1, opener);
  stmt->BindText(2, other);
  stmt->BindInt64(3, selector.protocol());
  stmt->BindInt64(4, selector.port());
  stmt->BindText(5, opener_prefix);
  stmt->BindText(6, other_prefix);
  return FindOne(*stmt);
}

absl::StatusOr<std::vector<AssociationRow>> SqliteAssociationTxn::ListRows(
    absl::string_view address, absl::string_view peer) {
  if (!failure_.ok()) return failure_;
  // Each arm is led by an indexed column (associations_by_a_request,
  // associations_by_b_request); ? = '' matches every peer.
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS_WITHOUT_KEYS
                   " FROM associations"
                   " WHERE (a_address = ? AND (? = '' OR b_address = ?))"
                   " OR (b_address = ? AND (? = '' OR a_address = ?))"
                   " ORDER BY id");
  if (!stmt.ok()) return Fail(stmt.status());
  for (int side : {0, 3}) {
    stmt->BindText(side + 1, address);
    stmt->BindText(side + 2, peer);
    stmt->BindText(side + 3, peer);
  }
  return FindAll(*stmt);
}

absl::StatusOr<uint64_t> SqliteAssociationTxn::CountHalfOpen(absl::string_view opener) {
  if (!failure_.ok()) return failure_;
  // An index led by a_address (associations_by_a_request) narrows to the
  // opener's rows; established ones are read and skipped.
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare(
      "SELECT COUNT(*) FROM associations WHERE a_address = ? AND b_request_id = 0");
  if (!stmt.ok()) return Fail(stmt.status());
  stmt->BindText(1, opener);
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return Fail(row.status());
  return *row ? static_cast<uint64_t>(stmt->ColumnInt64(0)) : 0;
}

absl::StatusOr<std::vector<SideEntry>> SqliteAssociationTxn::ListEntries(absl::string_view source,
                                                                         absl::string_view peer) {
  if (!failure_.ok()) return failure_;
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare(
      "SELECT a_address, b_address, a_request_id, a_spi, b_request_id, b_spi"
      " FROM associations"
      " WHERE (a_address = ? AND b_address = ?) OR (b_address = ? AND a_address = ?)"
      " ORDER BY id");
  if (!stmt.ok()) return Fail(stmt.status());
  for (int side : {0, 2}) {
    stmt->BindText(side + 1, source);
    stmt->BindText(side + 2, peer);
  }
  std::vector<SideEntry> out;
  for (;;) {
    absl::StatusOr<bool> more = stmt->Step();
    if (!more.ok()) return Fail(more.status());
    if (!*more) return out;
    // Side a is source's if the row runs source -> peer, else side b is.
    bool forward = stmt->ColumnText(0) == source && stmt->ColumnText(1) == peer;
    int col = forward ? 2 : 4;
    auto request_id = static_cast<uint64_t>(stmt->ColumnInt64(col));
    if (request_id == 0) continue;  // that side has not asked yet
    out.push_back({request_id, static_cast<uint32_t>(stmt->ColumnInt64(col + 1))});
  }
}

absl::StatusOr<uint64_t> SqliteAssociationTxn::Insert(const AssociationRow& row) {
  if (!failure_.ok()) return failure_;
  uint64_t id;
  {
    absl::StatusOr<SqliteStatement> next =
        db_->Prepare("SELECT next_value FROM sequences WHERE name = 'associations'");
    if (!next.ok()) return Fail(next.status());
    absl::StatusOr<bool> found = next->Step();
    if (!found.ok()) return Fail(found.status());
    if (!*found) return Fail(absl::InternalError("sequence 'associations' is missing"));
    id = static_cast<uint64_t>(next->ColumnInt64(0));
  }
  absl::StatusOr<SqliteStatement> bump =
      db_->Prepare("UPDATE sequences SET next_value = ? WHERE name = 'associations'");
  if (!bump.ok()) return Fail(bump.status());
  bump->BindInt64(1, static_cast<int64_t>(id + 1));
  absl::Status s = bump->Run();
  if (!s.ok()) return Fail(s);

  SaBlobs blobs;
  std::string policy;
  absl::StatusOr<SqliteStatement> insert =
      db_->Prepare("INSERT INTO associations (" IKELESS_ASSOCIATION_COLUMNS
                   ")"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return Fail(insert.status());
  insert->BindInt64(1, static_cast<int64_t>(id));
  s = BindAssociation(row, id, 2, sealer_, &blobs, &policy, *insert);
  if (s.ok()) s = insert->Run();
  if (!s.ok()) return Fail(s);
  return id;
}

absl::Status SqliteAssociationTxn::Update(const AssociationRow& row) {
  if (!failure_.ok()) return failure_;
  SaBlobs blobs;
  std::string policy;
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare(
      "UPDATE associations SET a_address = ?, a_request_id = ?, a_spi = ?,"
      " b_address = ?, b_request_id = ?, b_spi = ?, selector_protocol = ?,"
      " selector_port = ?, policy = ?, a_to_b = ?, b_to_a = ?, create_time = ?,"
      " establish_time = ?, expire_time = ?, next_startup_time = ?, startups_sent = ?,"
      " a_prefix = ?, b_prefix = ?, a_successor_spis = ?, b_successor_spis = ?"
      " WHERE id = ?");
  if (!stmt.ok()) return Fail(stmt.status());
  absl::Status s = BindAssociation(row, row.id, 1, sealer_, &blobs, &policy, *stmt);
  stmt->BindInt64(21, static_cast<int64_t>(row.id));
  if (s.ok()) s = stmt->Run();
  if (!s.ok()) return Fail(s);
  if (db_->changes() == 0) return NotFound(row.id);
  return absl::OkStatus();
}

absl::Status SqliteAssociationTxn::Delete(uint64_t id) {
  if (!failure_.ok()) return failure_;
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare("DELETE FROM associations WHERE id = ?");
  if (!stmt.ok()) return Fail(stmt.status());
  stmt->BindInt64(1, static_cast<int64_t>(id));
  absl::Status s = stmt->Run();
  if (!s.ok()) return Fail(s);
  if (db_->changes() == 0) return NotFound(id);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AssociationRow>> SqliteAssociationTxn::DueStartups(absl::Time now,
                                                                              size_t limit) {
  if (!failure_.ok()) return failure_;
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS
                   " FROM associations"
                   " WHERE b_request_id = 0 AND next_startup_time <= ?"
                   " ORDER BY next_startup_time, id LIMIT ?");
  if (!stmt.ok()) return Fail(stmt.status());
  stmt->BindInt64(1, TimeToMicros(now));
  stmt->BindInt64(2, LimitColumn(limit));
  return FindAll(*stmt);
}

absl::StatusOr<std::vector<AssociationRow>> SqliteAssociationTxn::Expired(absl::Time now,
                                                                          size_t limit) {
  if (!failure_.ok()) return failure_;
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS
                   " FROM associations"
                   " WHERE expire_time <= ? ORDER BY id LIMIT ?");
  if (!stmt.ok()) return Fail(stmt.status());
  stmt->BindInt64(1, TimeToMicros(now));
  stmt->BindInt64(2, LimitColumn(limit));
  return FindAll(*stmt);
}

absl::StatusOr<std::vector<AssociationRow>> SqliteAssociationTxn::All() {
  if (!failure_.ok()) return failure_;
  absl::StatusOr<SqliteStatement> stmt =
      db_->Prepare("SELECT " IKELESS_ASSOCIATION_COLUMNS " FROM associations ORDER BY id");
  if (!stmt.ok()) return Fail(stmt.status());
  return FindAll(*stmt);
}

}  // namespace ikeless::storage
