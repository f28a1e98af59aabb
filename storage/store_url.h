#ifndef IKELESS_STORAGE_STORE_URL_H_
#define IKELESS_STORAGE_STORE_URL_H_

// Where the controller keeps its state, named by one URL (the controller's
// --store flag), so the backend can change without new flags:
//
//   sqlite:///var/lib/ikeless/controller.db   an absolute path (three slashes:
//                                            an empty host, then the path)
//   sqlite:data/controller.db                 a path as given, relative to the
//                                            working directory (or absolute:
//                                            sqlite:/abs/path also works)
//   sqlite::memory:                           a private in-memory database that
//                                            keeps nothing (tests)
//   postgres://... or postgresql://...        reserved for the PostgreSQL
//                                            backend (issue #15): UNIMPLEMENTED
//
// Paths are taken literally but for three escapes, %25 %3F %23 for '%', '?'
// and '#' (SqliteStoreUrl writes them, so any --database path round-trips).
// A host (sqlite://host/..), a query (?...) or a fragment (#...) is refused:
// SQLite's options are the controller's flags, not URL parameters. A
// relative path, and so kek.key and revoked.txt beside it, resolves against
// the working directory (/ under systemd): services use sqlite:///.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ikeless::storage {

// A parsed store URL.
struct StoreUrl {
  enum class Backend { kSqlite };
  Backend backend = Backend::kSqlite;
  // kSqlite: the database file, or ":memory:".
  std::string sqlite_path;
};

// What `url` names. INVALID_ARGUMENT naming --store and the accepted forms
// for anything not listed above; UNIMPLEMENTED for postgres:// and
// postgresql:// (not built yet).
absl::StatusOr<StoreUrl> ParseStoreUrl(absl::string_view url);

// The URL that opens the SQLite database at `path` (":memory:" included):
// what the controller's --database and --data_dir flags mean as a --store.
std::string SqliteStoreUrl(absl::string_view path);

// `url` safe to log: a password in its user info (scheme://user:secret@host)
// or in a query parameter named password is removed.
std::string RedactStoreUrl(absl::string_view url);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_STORE_URL_H_
