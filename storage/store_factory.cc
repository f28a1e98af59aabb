#include "storage/store_factory.h"

#include "storage/store_url.h"

namespace ikeless::storage {

absl::StatusOr<std::unique_ptr<ControllerStore>> OpenControllerStore(absl::string_view url,
                                                                     const StoreOptions& options) {
  absl::StatusOr<StoreUrl> parsed = ParseStoreUrl(url);
  if (!parsed.ok()) return parsed.status();
  switch (parsed->backend) {
    case StoreUrl::Backend::kSqlite: {
      SqliteStore::Options sqlite = options.sqlite;
      sqlite.sealer = options.sealer;
      absl::StatusOr<std::unique_ptr<SqliteStore>> store =
          SqliteStore::Open(parsed->sqlite_path, sqlite);
      if (!store.ok()) return store.status();
      return ControllerStore::Own(*std::move(store), RedactStoreUrl(url));
    }
  }
  return absl::InternalError("--store: unhandled backend");
}

}  // namespace ikeless::storage
