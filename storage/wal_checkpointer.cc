#include "storage/wal_checkpointer.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace ikeless::storage {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                       SqliteDb* writer,
                                                                       absl::Duration interval,
                                                                       int wal_pages) {
  auto db = SqliteDb::Open(path);
  if (!db.ok()) return db.status();
  // Reading the header also makes the connection see the WAL; until then a
  // checkpoint reports "not in WAL mode".
  auto mode = (*db)->QueryText("PRAGMA journal_mode");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat("sqlite: ", path, " is in journal mode '", *mode, "', not wal"));
  }
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(*std::move(db), interval, wal_pages));
  c->writer_ = writer;
  sqlite3_wal_hook(writer->raw(), &WalCheckpointer::OnCommit, c.get());
  c->thread_ = std::thread([raw = c.get()] { raw->Run(); });
  return c;
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<SqliteDb> db, absl::Duration interval,
                                 int wal_pages)
    : db_(std::move(db)), interval_(interval), wal_pages_(wal_pages) {}

int WalCheckpointer::OnCommit(void* self, sqlite3*, const char*, int pages) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (pages >= c->wal_pages_) {
    absl::MutexLock l(&c->mu_);
    c->wanted_ = true;
  }
  return SQLITE_OK;
}

WalCheckpointer::~WalCheckpointer() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  sqlite3_wal_hook(writer_->raw(), nullptr, nullptr);
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

void WalCheckpointer::Run() {
  absl::Time next_error_log = absl::InfinitePast();
  while (true) {
    {
      absl::MutexLock l(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || wanted_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken), interval_);
      if (stop_) return;
      wanted_ = false;
    }
    int in_wal = 0;
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_->raw(), "main", SQLITE_CHECKPOINT_PASSIVE, &in_wal,
                                       &copied);
    absl::MutexLock l(&mu_);
    if (rc != SQLITE_OK) {
      ++stats_.errors;
      // SQLITE_BUSY: another checkpointer runs (sqlite3 CLI); try again later.
      if (rc != SQLITE_BUSY && absl::Now() >= next_error_log) {
        LogWarning("sqlite_checkpoint_failed").Kv("error", sqlite3_errstr(rc));
        next_error_log = absl::Now() + absl::Minutes(1);
      }
      continue;
    }
    ++stats_.checkpoints;
    stats_.last_frames_in_wal = in_wal;
    stats_.last_frames_copied = copied;
  }
}

}  // namespace ikeless::storage
