// One contract, every backend: the same tests run against MemoryStore,
// SqliteStore on ":memory:" and SqliteStore on a file, so the fake that
// logic tests rely on cannot drift from the real store. The association
// tests are in store_contract_association_test.cc; SQLite-only behaviour
// (durability, WAL, schema versions) in sqlite_store_test.cc.
#include "storage/store_contract_test.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::storage::store_test {
namespace {

// --- Policies ---

TEST_P(StoreContractTest, PolicyCreateSetsRevisionOneAndGetReturnsIt) {
  v1::Policy p = MakePolicy("mesh", "198.18.0.0/24", "*");
  p.set_revision(42);
  p.set_create_time_unix(1000);
  p.set_description("office mesh");
  absl::StatusOr<v1::Policy> created = policies().CreatePolicy(p);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->revision(), 1u);
  p.set_revision(1);
  EXPECT_EQ(created->ShortDebugString(), p.ShortDebugString());
  absl::StatusOr<v1::Policy> got = policies().GetPolicy("mesh");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->ShortDebugString(), p.ShortDebugString());
}

TEST_P(StoreContractTest, PolicyCreateDuplicateIsAlreadyExists) {
  ASSERT_TRUE(policies().CreatePolicy(MakePolicy("mesh", "*", "*")).ok());
  absl::StatusOr<v1::Policy> again = policies().CreatePolicy(MakePolicy("mesh", "198.18.0.1", "*"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
  EXPECT_EQ(policies().GetPolicy("mesh")->a().address(), "*");
}

TEST_P(StoreContractTest, PolicyGetMissingIsNotFound) {
  EXPECT_EQ(policies().GetPolicy("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, PolicyListIsByName) {
  for (const char* name : {"charlie", "alpha", "bravo"}) {
    ASSERT_TRUE(policies().CreatePolicy(MakePolicy(name, "*", "*")).ok());
  }
  absl::StatusOr<std::vector<v1::Policy>> list = policies().ListPolicies();
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> names;
  for (const v1::Policy& p : *list) names.push_back(p.name());
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "bravo", "charlie"}));
}

TEST_P(StoreContractTest, PolicyUpdateBumpsRevisionAndKeepsCreateTime) {
  v1::Policy p = MakePolicy("mesh", "*", "*");
  p.set_create_time_unix(1000);
  ASSERT_TRUE(policies().CreatePolicy(p).ok());
  p.set_create_time_unix(5);  // ignored: the original stays
  p.set_update_time_unix(2000);
  p.set_priority(7);
  absl::StatusOr<v1::Policy> updated = policies().UpdatePolicy(p, 1);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->revision(), 2u);
  EXPECT_EQ(updated->create_time_unix(), 1000);
  EXPECT_EQ(updated->update_time_unix(), 2000);
  EXPECT_EQ(policies().GetPolicy("mesh")->ShortDebugString(), updated->ShortDebugString());
  // expected_revision 0 means "whatever it is now".
  absl::StatusOr<v1::Policy> again = policies().UpdatePolicy(p, 0);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->revision(), 3u);
}

TEST_P(StoreContractTest, PolicyUpdateWithStaleRevisionIsAborted) {
  v1::Policy p = MakePolicy("mesh", "*", "*");
  ASSERT_TRUE(policies().CreatePolicy(p).ok());
  p.set_priority(9);
  EXPECT_EQ(policies().UpdatePolicy(p, 5).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(policies().GetPolicy("mesh")->revision(), 1u);
  EXPECT_EQ(policies().GetPolicy("mesh")->priority(), 0);
}

TEST_P(StoreContractTest, PolicyUpdateMissingIsNotFound) {
  EXPECT_EQ(policies().UpdatePolicy(MakePolicy("nope", "*", "*"), 0).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, PolicyDelete) {
  ASSERT_TRUE(policies().CreatePolicy(MakePolicy("mesh", "*", "*")).ok());
  EXPECT_TRUE(policies().DeletePolicy("mesh").ok());
  EXPECT_EQ(policies().GetPolicy("mesh").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(policies().DeletePolicy("mesh").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(policies().ListPolicies()->empty());
}

TEST_P(StoreContractTest, PolicyMatchFollowsWrites) {
  IpAddress x = *IpAddress::Parse("198.18.0.1");
  IpAddress y = *IpAddress::Parse("198.18.0.2");
  auto match = [&](v1::Selector sel) -> std::string {
    absl::StatusOr<std::optional<v1::Policy>> m = policies().MatchPolicy(x, y, sel);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() && m->has_value() ? (*m)->name() : "";
  };
  EXPECT_EQ(match(Sel()), "");
  ASSERT_TRUE(policies().CreatePolicy(MakePolicy("wild", "*", "*")).ok());
  ASSERT_TRUE(policies().CreatePolicy(MakePolicy("exact", "198.18.0.2", "198.18.0.1")).ok());
  EXPECT_EQ(match(Sel()), "exact");
  ASSERT_TRUE(policies().DeletePolicy("exact").ok());
  EXPECT_EQ(match(Sel()), "wild");
  ASSERT_TRUE(policies().UpdatePolicy(MakePolicy("wild", "*", "*", Sel(6)), 0).ok());
  EXPECT_EQ(match(Sel()), "");
  EXPECT_EQ(match(Sel(6, 443)), "wild");
}

TEST_P(StoreContractTest, PolicyMatchWorksInsideTransact) {
  // The request processor looks up the policy (S21) inside the transaction
  // that opens the row (S22).
  ASSERT_TRUE(policies().CreatePolicy(MakePolicy("wild", "*", "*")).ok());
  InTxn([&](AssociationTxn& txn) {
    absl::StatusOr<std::optional<v1::Policy>> m = policies().MatchPolicy(
        *IpAddress::Parse("198.18.0.1"), *IpAddress::Parse("198.18.0.2"), Sel());
    ASSERT_TRUE(m.ok() && m->has_value()) << m.status();
    EXPECT_EQ(policies().GetPolicy("wild")->revision(), 1u);
    EXPECT_EQ(policies().ListPolicies()->size(), 1u);
    EXPECT_TRUE(txn.Insert(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2")).ok());
  });
}

// --- Agents ---

TEST_P(StoreContractTest, AgentsUpsertReplacesAndListIsByName) {
  AgentRecord a{"rt-b", {"198.18.0.2", "fd00::2"}, "1.0", "xfrm", T(10)};
  AgentRecord b{"rt-a", {"198.18.0.1"}, "1.0", "esp-engine", T(20)};
  ASSERT_TRUE(agents().UpsertAgent(a).ok());
  ASSERT_TRUE(agents().UpsertAgent(b).ok());
  a.addresses = {"198.18.0.3"};
  a.agent_version = "1.1";
  a.last_seen = T(30);
  ASSERT_TRUE(agents().UpsertAgent(a).ok());
  AgentRecord c{"rt-c", {}, "", "", absl::UnixEpoch()};
  ASSERT_TRUE(agents().UpsertAgent(c).ok());
  absl::StatusOr<std::vector<AgentRecord>> list = agents().ListAgents();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(Describe((*list)[0]), Describe(b));
  EXPECT_EQ(Describe((*list)[1]), Describe(a));
  EXPECT_EQ(Describe((*list)[2]), Describe(c));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StoreContractTest,
    ::testing::Values(
        Backend{"Memory",
                [] { return absl::StatusOr<Stores>(Wrap(std::make_unique<MemoryStore>())); }},
        Backend{"SqliteInMemory", [] { return OpenSqlite(":memory:"); }},
        Backend{"SqliteFile", [] { return OpenSqlite(TempDbPath()); }},
        Backend{"SqliteSealed", [] { return OpenSealedSqlite(TempDbPath()); }}),
    [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace ikeless::storage::store_test
