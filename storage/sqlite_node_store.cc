// SqliteStore's NodeStore: one row per node in `nodes` (schema version 3),
// the whole v1::Node (without status) in `body`; and its IntentStore, which
// writes nodes and policies together. Nodes are read rarely (the
// controller keeps its intent in memory, controller/fleet_intent.h), so
// there is no cache here.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "storage/sqlite_codec.h"
#include "storage/sqlite_store.h"

namespace ikeless::storage {
namespace {

absl::Status NodeNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("node '", name, "' not found"));
}

absl::Status DecodeNode(absl::string_view body, v1::Node* out) {
  out->Clear();
  if (!out->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError("stored node does not parse");
  }
  return absl::OkStatus();
}

// The row of `name` inside the current transaction, or NOT_FOUND.
absl::StatusOr<v1::Node> ReadNode(SqliteDb& db, absl::string_view name) {
  absl::StatusOr<SqliteStatement> stmt = db.Prepare("SELECT body FROM nodes WHERE name = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, name);
  absl::StatusOr<bool> found = stmt->Step();
  if (!found.ok()) return found.status();
  if (!*found) return NodeNotFound(name);
  v1::Node n;
  if (absl::Status s = DecodeNode(stmt->ColumnBlob(0), &n); !s.ok()) return s;
  return n;
}

absl::Status WriteNode(SqliteDb& db, const v1::Node& n, bool insert) {
  std::string body;
  n.SerializeToString(&body);
  absl::StatusOr<SqliteStatement> stmt = db.Prepare(
      insert ? "INSERT INTO nodes (revision, create_time_unix, update_time_unix, body, name)"
               " VALUES (?, ?, ?, ?, ?)"
             : "UPDATE nodes SET revision = ?, create_time_unix = ?, update_time_unix = ?,"
               " body = ? WHERE name = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt64(1, static_cast<int64_t>(n.revision()));
  stmt->BindInt64(2, n.create_time_unix());
  stmt->BindInt64(3, n.update_time_unix());
  stmt->BindBlobNoCopy(4, body);
  stmt->BindText(5, n.name());
  return stmt->Run();
}

absl::Status DeleteByName(SqliteDb& db, const char* sql, absl::string_view what,
                          absl::string_view name) {
  absl::StatusOr<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, name);
  if (absl::Status s = stmt->Run(); !s.ok()) return s;
  if (db.changes() == 0) return absl::NotFoundError(absl::StrCat(what, " '", name, "' not found"));
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteStore::WriteIntent(const IntentWrite& write) {
  absl::MutexLock l(&mu_);
  absl::MutexLock cache_lock(&policy_mu_);
  // The policy cache after the write; swapped in only once COMMIT succeeded.
  std::vector<v1::Policy> next;
  auto find = [&next](absl::string_view name) {
    return std::find_if(next.begin(), next.end(),
                        [&](const v1::Policy& p) { return p.name() == name; });
  };
  absl::Status s = InTransaction([&]() -> absl::Status {
    mu_.AssertHeld();  // InTransaction runs `fn` under mu_ (for -Wthread-safety)
    policy_mu_.AssertHeld();  // taken above, for the cache
    next = policies_;  // anew at each attempt: InTransaction may retry
    for (const v1::Policy& policy : write.put_policies) {
      v1::Policy p = policy;
      auto old = find(p.name());
      const bool insert = old == next.end();
      p.set_revision(insert ? 1 : old->revision() + 1);
      if (!insert) p.set_create_time_unix(old->create_time_unix());
      if (absl::Status w = WritePolicyRow(*db_, p, insert); !w.ok()) return w;
      if (insert) {
        next.push_back(std::move(p));
      } else {
        *old = std::move(p);
      }
    }
    for (const std::string& name : write.delete_policies) {
      absl::Status d = DeleteByName(*db_, "DELETE FROM policies WHERE name = ?", "policy", name);
      if (!d.ok()) return d;
      auto gone = find(name);
      if (gone == next.end()) {
        return absl::InternalError(absl::StrCat("policy '", name, "' is in the table but not the cache"));
      }
      next.erase(gone);
    }
    for (const v1::Node& node : write.put_nodes) {
      v1::Node n = node;
      n.clear_status();
      absl::StatusOr<v1::Node> old = ReadNode(*db_, n.name());
      if (!old.ok() && !absl::IsNotFound(old.status())) return old.status();
      n.set_revision(old.ok() ? old->revision() + 1 : 1);
      if (old.ok()) n.set_create_time_unix(old->create_time_unix());
      if (absl::Status w = WriteNode(*db_, n, /*insert=*/!old.ok()); !w.ok()) return w;
    }
    for (const std::string& name : write.delete_nodes) {
      absl::Status d = DeleteByName(*db_, "DELETE FROM nodes WHERE name = ?", "node", name);
      if (!d.ok()) return d;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::sort(next.begin(), next.end(),
            [](const v1::Policy& x, const v1::Policy& y) { return x.name() < y.name(); });
  policies_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<v1::Node> SqliteStore::CreateNode(const v1::Node& node) {
  absl::MutexLock l(&mu_);
  v1::Node n = node;
  n.clear_status();
  n.set_revision(1);
  absl::Status s = InTransaction([&]() -> absl::Status {
    mu_.AssertHeld();  // InTransaction runs `fn` under mu_ (for -Wthread-safety)
    absl::StatusOr<v1::Node> old = ReadNode(*db_, n.name());
    if (old.ok()) return absl::AlreadyExistsError(absl::StrCat("node '", n.name(), "' already exists"));
    if (!absl::IsNotFound(old.status())) return old.status();
    return WriteNode(*db_, n, /*insert=*/true);
  });
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<v1::Node> SqliteStore::GetNode(absl::string_view name) {
  absl::MutexLock l(&mu_);
  return ReadNode(*db_, name);
}

absl::StatusOr<std::vector<v1::Node>> SqliteStore::ListNodes() {
  absl::MutexLock l(&mu_);
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare("SELECT body FROM nodes ORDER BY name");
  if (!stmt.ok()) return stmt.status();
  std::vector<v1::Node> out;
  for (;;) {
    absl::StatusOr<bool> more = stmt->Step();
    if (!more.ok()) return more.status();
    if (!*more) return out;
    if (absl::Status s = DecodeNode(stmt->ColumnBlob(0), &out.emplace_back()); !s.ok()) return s;
  }
}

absl::StatusOr<v1::Node> SqliteStore::UpdateNode(const v1::Node& node,
                                                 uint64_t expected_revision) {
  absl::MutexLock l(&mu_);
  v1::Node n = node;
  n.clear_status();
  absl::Status s = InTransaction([&]() -> absl::Status {
    mu_.AssertHeld();  // InTransaction runs `fn` under mu_ (for -Wthread-safety)
    absl::StatusOr<v1::Node> old = ReadNode(*db_, n.name());
    if (!old.ok()) return old.status();
    if (expected_revision != 0 && old->revision() != expected_revision) {
      return absl::AbortedError(absl::StrCat("node '", n.name(), "' is at revision ",
                                             old->revision(), ", not ", expected_revision));
    }
    n.set_revision(old->revision() + 1);
    n.set_create_time_unix(old->create_time_unix());
    return WriteNode(*db_, n, /*insert=*/false);
  });
  if (!s.ok()) return s;
  return n;
}

absl::Status SqliteStore::DeleteNode(absl::string_view name) {
  absl::MutexLock l(&mu_);
  absl::StatusOr<SqliteStatement> stmt = db_->Prepare("DELETE FROM nodes WHERE name = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, name);
  if (absl::Status s = stmt->Run(); !s.ok()) return s;
  return db_->changes() == 0 ? NodeNotFound(name) : absl::OkStatus();
}

absl::StatusOr<uint64_t> SqliteStore::NextSpdRevision() {
  absl::MutexLock l(&mu_);
  uint64_t value = 0;
  absl::Status s = InTransaction([&]() -> absl::Status {
    mu_.AssertHeld();  // InTransaction runs `fn` under mu_ (for -Wthread-safety)
    absl::StatusOr<SqliteStatement> read =
        db_->Prepare("SELECT next_value FROM sequences WHERE name = 'spd_revisions'");
    if (!read.ok()) return read.status();
    absl::StatusOr<bool> found = read->Step();
    if (!found.ok()) return found.status();
    if (!*found) return absl::InternalError("sequence 'spd_revisions' is missing");
    value = static_cast<uint64_t>(read->ColumnInt64(0));
    absl::StatusOr<SqliteStatement> bump =
        db_->Prepare("UPDATE sequences SET next_value = ? WHERE name = 'spd_revisions'");
    if (!bump.ok()) return bump.status();
    bump->BindInt64(1, static_cast<int64_t>(value + 1));
    return bump->Run();
  });
  if (!s.ok()) return s;
  return value;
}

}  // namespace ikeless::storage
