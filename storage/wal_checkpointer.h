#ifndef IKELESS_STORAGE_WAL_CHECKPOINTER_H_
#define IKELESS_STORAGE_WAL_CHECKPOINTER_H_

// Moves a WAL database's committed pages into the main file from a thread
// of its own, so that no commit on the request path ever does. With
// SQLite's default (wal_autocheckpoint = 1000 pages) the commit that
// crosses the threshold runs the checkpoint itself, fsync included: about
// one setup in a hundred paid milliseconds for it (the setup latency p99).
// Here the writer's connection gets a WAL hook instead, which only wakes
// this thread once the WAL holds `wal_pages` pages (the same cadence); the
// thread also runs every `interval` in case it was not woken. A PASSIVE
// checkpoint (https://sqlite.org/c3ref/wal_checkpoint_v2.html) never
// blocks writers or readers; it copies what it can and returns.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/sqlite_db.h"

namespace ikeless::storage {

class WalCheckpointer {
 public:
  // Opens its own connection to the database at `path` (a file in WAL mode)
  // and installs the WAL hook on `writer` (which replaces SQLite's
  // auto-checkpoint there). `writer` must outlive this object or be closed
  // first.
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Start(const std::string& path,
                                                               SqliteDb* writer,
                                                               absl::Duration interval,
                                                               int wal_pages = 1000);
  ~WalCheckpointer();  // stops the thread; the pages left go at the next start or close

  struct Stats {
    int64_t checkpoints = 0;         // PASSIVE checkpoints run
    int64_t last_frames_in_wal = 0;  // the WAL's frames at the last one
    int64_t last_frames_copied = 0;  // of those, in the database now
    int64_t errors = 0;
  };
  Stats stats() const;

 private:
  WalCheckpointer(std::unique_ptr<SqliteDb> db, absl::Duration interval, int wal_pages);
  // sqlite3_wal_hook: called by the writer after each commit.
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Run();

  std::unique_ptr<SqliteDb> db_;  // the thread's only
  SqliteDb* writer_ = nullptr;    // whose hook points here
  const absl::Duration interval_;
  const int wal_pages_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_WAL_CHECKPOINTER_H_
