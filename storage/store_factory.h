#ifndef IKELESS_STORAGE_STORE_FACTORY_H_
#define IKELESS_STORAGE_STORE_FACTORY_H_

// Opens the controller's store by URL (storage/store_url.h) and hands out
// its five interfaces, so the controller never names a backend: the seam a
// PostgreSQL backend (issue #15) plugs into. Today every URL that opens is
// SQLite (storage/sqlite_store.h).

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/agent_store.h"
#include "storage/association_store.h"
#include "storage/intent_store.h"
#include "storage/key_sealer.h"
#include "storage/node_store.h"
#include "storage/policy_store.h"
#include "storage/sqlite_store.h"

namespace ikeless::storage {

// How to open a store: what every backend takes, then each backend's own
// options, used only when the URL names that backend.
struct StoreOptions {
  // Seals the SA parameters at rest (storage/sa_blob_codec.h), whatever the
  // backend; must outlive the store. nullptr: keys in the clear (tests).
  // sqlite.sealer is ignored: this one is used.
  const KeySealer* sealer = nullptr;
  // sqlite: URLs (fsync, checkpoints, quota).
  SqliteStore::Options sqlite;
};

// One open store: owns the backend and exposes it through the five
// interfaces the controller uses. Whatever the backend, the five are one
// database (an IntentStore write is seen by the PolicyStore and NodeStore).
class ControllerStore {
 public:
  // Wraps a backend that implements all five interfaces (SqliteStore,
  // MemoryStore); `url` is what it was opened from (redacted, for logs).
  template <typename Backend>
  static std::unique_ptr<ControllerStore> Own(std::unique_ptr<Backend> backend, std::string url) {
    Backend* b = backend.get();
    return std::unique_ptr<ControllerStore>(new ControllerStore(
        std::make_unique<Holder<Backend>>(std::move(backend)), b, b, b, b, b, std::move(url)));
  }

  ControllerStore(const ControllerStore&) = delete;
  ControllerStore& operator=(const ControllerStore&) = delete;

  PolicyStore& policies() const { return *policies_; }
  AssociationStore& associations() const { return *associations_; }
  AgentStore& agents() const { return *agents_; }
  NodeStore& nodes() const { return *nodes_; }
  IntentStore& intent() const { return *intent_; }
  // The URL the store was opened from, without any password: safe to log.
  const std::string& url() const { return url_; }

 private:
  // Owns the backend whatever its type; destroyed with the store.
  struct Owner {
    virtual ~Owner() = default;
  };
  template <typename T>
  struct Holder final : Owner {
    explicit Holder(std::unique_ptr<T> p) : owned(std::move(p)) {}
    std::unique_ptr<T> owned;
  };

  ControllerStore(std::unique_ptr<Owner> owner, PolicyStore* policies,
                  AssociationStore* associations, AgentStore* agents, NodeStore* nodes,
                  IntentStore* intent, std::string url)
      : owner_(std::move(owner)),
        policies_(policies),
        associations_(associations),
        agents_(agents),
        nodes_(nodes),
        intent_(intent),
        url_(std::move(url)) {}

  std::unique_ptr<Owner> owner_;
  PolicyStore* const policies_;
  AssociationStore* const associations_;
  AgentStore* const agents_;
  NodeStore* const nodes_;
  IntentStore* const intent_;
  const std::string url_;
};

// Opens (creating if need be) the store `url` names, with `options`. The
// URL's errors are ParseStoreUrl's (INVALID_ARGUMENT naming --store,
// UNIMPLEMENTED for PostgreSQL); then the backend's own (SqliteStore::Open).
absl::StatusOr<std::unique_ptr<ControllerStore>> OpenControllerStore(absl::string_view url,
                                                                     const StoreOptions& options);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_STORE_FACTORY_H_
