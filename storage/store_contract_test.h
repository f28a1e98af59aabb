#ifndef IKELESS_STORAGE_STORE_CONTRACT_TEST_H_
#define IKELESS_STORAGE_STORE_CONTRACT_TEST_H_

// The fixture and row builders shared by the store contract tests
// (store_contract_test.cc instantiates them for every backend).

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/random.h"
#include "gtest/gtest.h"
#include "storage/key_sealer.h"
#include "storage/memory_store.h"
#include "storage/sqlite_store.h"

namespace ikeless::storage::store_test {

// One backend seen through the three interfaces; `owner` keeps it alive.
struct Stores {
  std::shared_ptr<void> owner;
  PolicyStore* policies = nullptr;
  AssociationStore* associations = nullptr;
  AgentStore* agents = nullptr;
  NodeStore* nodes = nullptr;
  IntentStore* intent = nullptr;
};

template <typename T>
Stores Wrap(std::unique_ptr<T> store) {
  T* p = store.get();
  return {std::shared_ptr<void>(std::move(store)), p, p, p, p, p};
}

// A fresh database file named after the running test, under TEST_TMPDIR.
inline std::string TempDbPath() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(
      dir != nullptr ? dir : "/tmp", "/",
      absl::StrReplaceAll(absl::StrCat(info->test_suite_name(), ".", info->name()), {{"/", "_"}}),
      ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  return path;
}

inline absl::StatusOr<Stores> OpenSqlite(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> s = SqliteStore::Open(path);
  if (!s.ok()) return s.status();
  return Wrap(*std::move(s));
}

// A file-backed store whose SA parameters are sealed under a fresh random
// key-encryption key, which lives as long as the store.
inline absl::StatusOr<Stores> OpenSealedSqlite(const std::string& path) {
  std::string kek(kKekBytes, '\0');
  CryptoRandom::Get()->Fill(reinterpret_cast<uint8_t*>(kek.data()), kek.size());
  absl::StatusOr<std::unique_ptr<KeySealer>> sealer = KeySealer::FromKey(kek, CryptoRandom::Get());
  if (!sealer.ok()) return sealer.status();
  SqliteStore::Options options;
  options.sealer = sealer->get();
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path, options);
  if (!store.ok()) return store.status();
  // Members are destroyed in reverse order: the store before its sealer.
  struct Owner {
    std::unique_ptr<KeySealer> sealer;
    std::unique_ptr<SqliteStore> store;
  };
  auto owner = std::make_shared<Owner>(Owner{*std::move(sealer), *std::move(store)});
  SqliteStore* p = owner->store.get();
  return Stores{owner, p, p, p, p, p};
}

struct Backend {
  std::string name;
  std::function<absl::StatusOr<Stores>()> open;
};
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

inline const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'000'000);
inline absl::Time T(int seconds) { return kT0 + absl::Seconds(seconds); }

inline v1::Selector Sel(uint32_t protocol = 0, uint32_t port = 0) {
  v1::Selector s;
  s.set_protocol(protocol);
  s.set_port(port);
  return s;
}

inline v1::Policy MakePolicy(const std::string& name, const std::string& a, const std::string& b,
                             v1::Selector selector = Sel()) {
  v1::Policy p;
  p.set_name(name);
  p.mutable_a()->set_address(a);
  p.mutable_b()->set_address(b);
  *p.mutable_selector() = selector;
  p.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  p.mutable_lifetime()->set_hard_seconds(3600);
  return p;
}

inline v1::SaParameters Sa(uint32_t spi, const std::string& src, const std::string& dst) {
  v1::SaParameters sa;
  sa.set_spi(spi);
  sa.set_source(src);
  sa.set_destination(dst);
  sa.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  sa.set_encryption_key(std::string(16, '\x5a') + std::string(1, '\0') + "key");
  sa.set_salt("salt");
  sa.mutable_lifetime()->set_hard_seconds(3600);
  return sa;
}

// A half-open row opened by `a` towards `b` (S22).
inline AssociationRow HalfOpen(const std::string& a, uint64_t id, uint32_t spi,
                               const std::string& b, v1::Selector selector = Sel()) {
  AssociationRow row;
  row.a = {a, id, spi};
  row.b.address = b;
  row.selector = selector;
  row.policy = MakePolicy("p", a, b, selector);
  row.create_time = T(0);
  row.next_startup_time = T(5);
  return row;
}

// `row` with the peer's side filled and both directions' SAs (S9/S10).
inline AssociationRow Establish(AssociationRow row, uint64_t id, uint32_t spi) {
  row.b.request_id = id;
  row.b.spi = spi;
  row.a_to_b = Sa(spi, row.a.address, row.b.address);
  row.b_to_a = Sa(row.a.spi, row.b.address, row.a.address);
  row.establish_time = T(1);
  row.expire_time = T(3600);
  return row;
}

// Every field, so a failing comparison shows what differs.
inline std::string Describe(const AssociationRow& r) {
  auto sa = [](const std::optional<v1::SaParameters>& p) {
    return p ? p->ShortDebugString() : std::string("none");
  };
  return absl::StrCat("id=", r.id, " a=", r.a.address, "/", r.a.request_id, "/", r.a.spi,
                      " b=", r.b.address, "/", r.b.request_id, "/", r.b.spi,
                      " sel=", r.selector.ShortDebugString(),
                      " policy=", r.policy.ShortDebugString(), " a_to_b=", sa(r.a_to_b),
                      " b_to_a=", sa(r.b_to_a), " create=", absl::FormatTime(r.create_time),
                      " establish=", absl::FormatTime(r.establish_time),
                      " expire=", absl::FormatTime(r.expire_time), " startups=", r.startups_sent,
                      " next=", absl::FormatTime(r.next_startup_time), " prefixes=", r.a_prefix,
                      "|", r.b_prefix, " successor_spis=", absl::StrJoin(r.a.successor_spis, ","),
                      "|", absl::StrJoin(r.b.successor_spis, ","));
}

inline std::string Describe(const AgentRecord& a) {
  return absl::StrCat(a.node_name, " [", absl::StrJoin(a.addresses, ","), "] ", a.agent_version,
                      " ", a.datapath, " ", absl::FormatTime(a.last_seen));
}

template <typename T>
std::vector<uint64_t> Ids(const std::vector<T>& rows) {
  std::vector<uint64_t> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  return ids;
}

// Runs each TEST_P against one backend (the parameter); fresh per test.
class StoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    absl::StatusOr<Stores> s = GetParam().open();
    ASSERT_TRUE(s.ok()) << s.status();
    stores_ = *std::move(s);
  }

  PolicyStore& policies() { return *stores_.policies; }
  AssociationStore& associations() { return *stores_.associations; }
  AgentStore& agents() { return *stores_.agents; }

  // Runs `fn` in one transaction; fails the test if it does not commit.
  void InTxn(const std::function<void(AssociationTxn&)>& fn) {
    absl::Status s = associations().Transact([&](AssociationTxn& txn) {
      fn(txn);
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  uint64_t Insert(const AssociationRow& row) {
    uint64_t id = 0;
    InTxn([&](AssociationTxn& txn) {
      absl::StatusOr<uint64_t> r = txn.Insert(row);
      ASSERT_TRUE(r.ok()) << r.status();
      id = *r;
    });
    return id;
  }

  AssociationRow MustGet(uint64_t id) {
    absl::StatusOr<std::optional<AssociationRow>> r = associations().GetAssociation(id);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r.ok() && r->has_value()) << "no row " << id;
    return r.ok() && r->has_value() ? **r : AssociationRow();
  }

  Stores stores_;
};

}  // namespace ikeless::storage::store_test

#endif  // IKELESS_STORAGE_STORE_CONTRACT_TEST_H_
