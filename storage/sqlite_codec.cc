#include "storage/sqlite_codec.h"

#include <limits>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/secret.h"

namespace ikeless::storage {
namespace {

constexpr int64_t kPast = std::numeric_limits<int64_t>::min();
constexpr int64_t kFuture = std::numeric_limits<int64_t>::max();

// uint64 ids and revisions keep all 64 bits in a signed INTEGER column.
int64_t ToColumn(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t FromColumn(int64_t v) { return static_cast<uint64_t>(v); }

// Successor SPIs as decimal numbers separated by commas ("" for none): a
// handful per row, read only at S10 and never searched.
std::string SpiListToColumn(const std::vector<uint32_t>& spis) {
  return absl::StrJoin(spis, ",");
}

absl::StatusOr<std::vector<uint32_t>> SpiListFromColumn(absl::string_view text) {
  std::vector<uint32_t> out;
  if (text.empty()) return out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    uint32_t spi = 0;
    if (!absl::SimpleAtoi(part, &spi)) {
      return absl::DataLossError(absl::StrCat("successor SPI list '", text, "' does not parse"));
    }
    out.push_back(spi);
  }
  return out;
}

}  // namespace

int64_t TimeToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return kPast;
  if (t == absl::InfiniteFuture()) return kFuture;
  return absl::ToUnixMicros(t);
}

absl::Time MicrosToTime(int64_t us) {
  if (us == kPast) return absl::InfinitePast();
  if (us == kFuture) return absl::InfiniteFuture();
  return absl::FromUnixMicros(us);
}

SaBlobs::~SaBlobs() {
  WipeString(&a_to_b);
  WipeString(&b_to_a);
}

absl::Status BindAssociation(const AssociationRow& row, uint64_t id, int first,
                             const KeySealer* sealer, SaBlobs* blobs, std::string* policy_body,
                             SqliteStatement& stmt) {
  int i = first;
  stmt.BindText(i++, row.a.address);
  stmt.BindInt64(i++, ToColumn(row.a.request_id));
  stmt.BindInt64(i++, row.a.spi);
  stmt.BindText(i++, row.b.address);
  stmt.BindInt64(i++, ToColumn(row.b.request_id));
  stmt.BindInt64(i++, row.b.spi);
  stmt.BindInt64(i++, row.selector.protocol());
  stmt.BindInt64(i++, row.selector.port());
  row.policy.SerializeToString(policy_body);
  stmt.BindBlobNoCopy(i++, *policy_body);
  for (auto [name, sa, blob] : {std::tuple{"a_to_b", &row.a_to_b, &blobs->a_to_b},
                                std::tuple{"b_to_a", &row.b_to_a, &blobs->b_to_a}}) {
    if (!sa->has_value()) {
      stmt.BindNull(i++);
      continue;
    }
    absl::Status s = EncodeSaParameters(**sa, sealer, {id, name}, blob);
    if (!s.ok()) return s;
    stmt.BindBlobNoCopy(i++, *blob);
  }
  stmt.BindInt64(i++, TimeToMicros(row.create_time));
  stmt.BindInt64(i++, TimeToMicros(row.establish_time));
  stmt.BindInt64(i++, TimeToMicros(row.expire_time));
  stmt.BindInt64(i++, TimeToMicros(row.next_startup_time));
  stmt.BindInt64(i++, row.startups_sent);
  stmt.BindText(i++, row.a_prefix);
  stmt.BindText(i++, row.b_prefix);
  stmt.BindText(i++, SpiListToColumn(row.a.successor_spis));
  stmt.BindText(i++, SpiListToColumn(row.b.successor_spis));
  return absl::OkStatus();
}

absl::Status ReadAssociation(const SqliteStatement& stmt, const KeySealer* sealer,
                             AssociationRow* row) {
  row->id = FromColumn(stmt.ColumnInt64(0));
  row->a.address = std::string(stmt.ColumnText(1));
  row->a.request_id = FromColumn(stmt.ColumnInt64(2));
  row->a.spi = static_cast<uint32_t>(stmt.ColumnInt64(3));
  row->b.address = std::string(stmt.ColumnText(4));
  row->b.request_id = FromColumn(stmt.ColumnInt64(5));
  row->b.spi = static_cast<uint32_t>(stmt.ColumnInt64(6));
  row->selector.Clear();
  row->selector.set_protocol(static_cast<uint32_t>(stmt.ColumnInt64(7)));
  row->selector.set_port(static_cast<uint32_t>(stmt.ColumnInt64(8)));
  absl::Status s = DecodePolicy(stmt.ColumnBlob(9), &row->policy);
  if (!s.ok()) return absl::DataLossError(absl::StrCat("association ", row->id, ": ", s.message()));
  for (auto [col, name, sa] :
       {std::tuple{10, "a_to_b", &row->a_to_b}, std::tuple{11, "b_to_a", &row->b_to_a}}) {
    if (stmt.ColumnIsNull(col)) {
      sa->reset();
      continue;
    }
    s = DecodeSaParameters(stmt.ColumnBlob(col), sealer, {row->id, name}, &sa->emplace());
    if (!s.ok()) return s;
  }
  row->create_time = MicrosToTime(stmt.ColumnInt64(12));
  row->establish_time = MicrosToTime(stmt.ColumnInt64(13));
  row->expire_time = MicrosToTime(stmt.ColumnInt64(14));
  row->next_startup_time = MicrosToTime(stmt.ColumnInt64(15));
  row->startups_sent = static_cast<uint32_t>(stmt.ColumnInt64(16));
  row->a_prefix = std::string(stmt.ColumnText(17));
  row->b_prefix = std::string(stmt.ColumnText(18));
  for (auto [col, side] : {std::pair{19, &row->a}, std::pair{20, &row->b}}) {
    absl::StatusOr<std::vector<uint32_t>> spis = SpiListFromColumn(stmt.ColumnText(col));
    if (!spis.ok()) {
      return absl::DataLossError(absl::StrCat("association ", row->id, ": ", spis.status().message()));
    }
    side->successor_spis = *std::move(spis);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AssociationRow>> ReadAssociations(SqliteStatement& stmt,
                                                             const KeySealer* sealer) {
  std::vector<AssociationRow> out;
  for (;;) {
    absl::StatusOr<bool> more = stmt.Step();
    if (!more.ok()) return more.status();
    if (!*more) return out;
    absl::Status s = ReadAssociation(stmt, sealer, &out.emplace_back());
    if (!s.ok()) return s;
  }
}

void BindPolicy(const v1::Policy& policy, std::string* body, SqliteStatement& stmt) {
  policy.SerializeToString(body);
  stmt.BindText(1, policy.name());
  stmt.BindText(2, policy.a().address());
  stmt.BindText(3, policy.b().address());
  stmt.BindInt64(4, policy.selector().protocol());
  stmt.BindInt64(5, policy.selector().port());
  stmt.BindInt64(6, policy.priority());
  stmt.BindInt64(7, ToColumn(policy.revision()));
  stmt.BindInt64(8, policy.create_time_unix());
  stmt.BindInt64(9, policy.update_time_unix());
  stmt.BindBlobNoCopy(10, *body);
}

absl::Status DecodePolicy(absl::string_view body, v1::Policy* out) {
  out->Clear();
  if (body.empty()) return absl::OkStatus();
  if (!out->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError("stored policy does not parse");
  }
  return absl::OkStatus();
}

absl::Status WritePolicyRow(SqliteDb& db, const v1::Policy& p, bool insert) {
  std::string body;
  // Parameters 1..10 as BindPolicy binds them (UPDATE's name = name is a
  // no-op that keeps the binding shared), then the key.
  absl::StatusOr<SqliteStatement> stmt = db.Prepare(
      insert ? "INSERT INTO policies (name, a_address, b_address, selector_protocol,"
               " selector_port, priority, revision, create_time_unix, update_time_unix, body)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
             : "UPDATE policies SET name = ?, a_address = ?, b_address = ?,"
               " selector_protocol = ?, selector_port = ?, priority = ?, revision = ?,"
               " create_time_unix = ?, update_time_unix = ?, body = ? WHERE name = ?");
  if (!stmt.ok()) return stmt.status();
  BindPolicy(p, &body, *stmt);
  if (!insert) stmt->BindText(11, p.name());
  return stmt->Run();
}

}  // namespace ikeless::storage
