#include "storage/sqlite_codec.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/secret.h"

namespace ikeless::storage {
namespace {

constexpr int64_t kPast = std::numeric_limits<int64_t>::min();
constexpr int64_t kFuture = std::numeric_limits<int64_t>::max();

// uint64 ids and revisions keep all 64 bits in a signed INTEGER column.
int64_t ToColumn(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t FromColumn(int64_t v) { return static_cast<uint64_t>(v); }

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

void EncodeSaParameters(const v1::SaParameters& sa, std::string* out) { sa.SerializeToString(out); }

absl::Status DecodeSaParameters(absl::string_view stored, v1::SaParameters* out) {
  out->Clear();
  if (stored.empty()) return absl::OkStatus();
  if (!out->ParseFromArray(stored.data(), static_cast<int>(stored.size()))) {
    WipeKeys(out);  // a partial parse may hold key bytes
    return absl::DataLossError("stored SA parameters do not parse");
  }
  return absl::OkStatus();
}

SaBlobs::~SaBlobs() {
  WipeString(&a_to_b);
  WipeString(&b_to_a);
}

void BindAssociation(const AssociationRow& row, int first, SaBlobs* blobs, std::string* policy_body,
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
  if (row.a_to_b) {
    EncodeSaParameters(*row.a_to_b, &blobs->a_to_b);
    stmt.BindBlobNoCopy(i++, blobs->a_to_b);
  } else {
    stmt.BindNull(i++);
  }
  if (row.b_to_a) {
    EncodeSaParameters(*row.b_to_a, &blobs->b_to_a);
    stmt.BindBlobNoCopy(i++, blobs->b_to_a);
  } else {
    stmt.BindNull(i++);
  }
  stmt.BindInt64(i++, TimeToMicros(row.create_time));
  stmt.BindInt64(i++, TimeToMicros(row.establish_time));
  stmt.BindInt64(i++, TimeToMicros(row.expire_time));
  stmt.BindInt64(i++, TimeToMicros(row.next_startup_time));
  stmt.BindInt64(i++, row.startups_sent);
}

absl::Status ReadAssociation(const SqliteStatement& stmt, AssociationRow* row) {
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
  for (auto [col, sa] : {std::pair{10, &row->a_to_b}, std::pair{11, &row->b_to_a}}) {
    if (stmt.ColumnIsNull(col)) {
      sa->reset();
      continue;
    }
    s = DecodeSaParameters(stmt.ColumnBlob(col), &sa->emplace());
    if (!s.ok()) {
      return absl::DataLossError(absl::StrCat("association ", row->id, ": ", s.message()));
    }
  }
  row->create_time = MicrosToTime(stmt.ColumnInt64(12));
  row->establish_time = MicrosToTime(stmt.ColumnInt64(13));
  row->expire_time = MicrosToTime(stmt.ColumnInt64(14));
  row->next_startup_time = MicrosToTime(stmt.ColumnInt64(15));
  row->startups_sent = static_cast<uint32_t>(stmt.ColumnInt64(16));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AssociationRow>> ReadAssociations(SqliteStatement& stmt) {
  std::vector<AssociationRow> out;
  for (;;) {
    absl::StatusOr<bool> more = stmt.Step();
    if (!more.ok()) return more.status();
    if (!*more) return out;
    absl::Status s = ReadAssociation(stmt, &out.emplace_back());
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

}  // namespace ikeless::storage
