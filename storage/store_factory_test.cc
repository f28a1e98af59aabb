// OpenControllerStore: a URL opens the backend it names, with the options
// passed through (the sealer included), and the five interfaces it hands
// out are one database.
#include "storage/store_factory.h"

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/random.h"
#include "gtest/gtest.h"
#include "storage/kek_file.h"
#include "storage/key_sealer.h"

namespace ikeless::storage {
namespace {

std::string TempDb() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", info->name(), ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) unlink(absl::StrCat(path, suffix).c_str());
  return path;
}

v1::Policy Mesh() {
  v1::Policy p;
  p.set_name("mesh");
  p.mutable_a()->set_address("*");
  p.mutable_b()->set_address("*");
  return p;
}

// A row with SA parameters, so that how its keys were stored shows.
uint64_t AddRow(AssociationStore& store) {
  uint64_t id = 0;
  absl::Status s = store.Transact([&](AssociationTxn& txn) -> absl::Status {
    AssociationRow row;
    row.a.address = "198.18.0.1";
    row.b.address = "198.18.0.2";
    row.a.request_id = 1;
    row.a.spi = 0x1001;
    row.a_to_b.emplace().set_encryption_key(std::string(32, 'k'));
    absl::StatusOr<uint64_t> added = txn.Insert(row);
    if (!added.ok()) return added.status();
    id = *added;
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return id;
}

TEST(StoreFactory, SqliteFileReopensWithWhatWasWritten) {
  const std::string path = TempDb();
  const std::string url = absl::StrCat("sqlite://", path);
  uint64_t id = 0;
  {
    absl::StatusOr<std::unique_ptr<ControllerStore>> store = OpenControllerStore(url, {});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->url(), url);
    ASSERT_TRUE((*store)->policies().CreatePolicy(Mesh()).ok());
    id = AddRow((*store)->associations());
    v1::Node node;
    node.set_name("gw-a");
    node.add_addresses("198.18.0.1");
    ASSERT_TRUE((*store)->nodes().CreateNode(node).ok());
    AgentRecord agent;
    agent.node_name = "gw-a";
    ASSERT_TRUE((*store)->agents().UpsertAgent(agent).ok());
    IntentWrite write;
    write.delete_nodes.push_back("gw-a");
    ASSERT_TRUE((*store)->intent().WriteIntent(write).ok());
  }
  EXPECT_EQ(access(path.c_str(), F_OK), 0) << "the URL's path is the file";
  absl::StatusOr<std::unique_ptr<ControllerStore>> again = OpenControllerStore(url, {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->policies().GetPolicy("mesh")->name(), "mesh");
  EXPECT_TRUE((*again)->associations().GetAssociation(id)->has_value());
  EXPECT_EQ((*again)->agents().ListAgents()->size(), 1u);
  // The intent write went to the same database as the node.
  EXPECT_TRUE((*again)->nodes().ListNodes()->empty());
}

TEST(StoreFactory, MemoryKeepsNothing) {
  {
    auto store = OpenControllerStore("sqlite::memory:", {});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->policies().CreatePolicy(Mesh()).ok());
  }
  auto store = OpenControllerStore("sqlite::memory:", {});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->policies().ListPolicies()->empty());
}

TEST(StoreFactory, SealerIsPassedToTheBackend) {
  const std::string path = TempDb();
  const std::string url = absl::StrCat("sqlite://", path);
  FakeRandom random(5);
  absl::StatusOr<std::unique_ptr<KeySealer>> sealer =
      KeySealer::FromKey(std::string(kKekBytes, '\x42'), &random);
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  StoreOptions sealed;
  sealed.sealer = sealer->get();
  uint64_t id = 0;
  {
    auto store = OpenControllerStore(url, sealed);
    ASSERT_TRUE(store.ok()) << store.status();
    id = AddRow((*store)->associations());
  }
  {
    auto store = OpenControllerStore(url, sealed);
    ASSERT_TRUE(store.ok()) << store.status();
    absl::StatusOr<std::optional<AssociationRow>> row = (*store)->associations().GetAssociation(id);
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_EQ((*row)->a_to_b->encryption_key(), std::string(32, 'k'));
  }
  // The rows were sealed: without the sealer the store refuses them.
  auto clear = OpenControllerStore(url, {});
  ASSERT_TRUE(clear.ok()) << clear.status();
  EXPECT_EQ((*clear)->associations().GetAssociation(id).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(StoreFactory, SqliteOptionsArePassedThrough) {
  StoreOptions options;
  options.sqlite.max_database_pages = 1;  // too small for the schema
  auto store = OpenControllerStore(absl::StrCat("sqlite://", TempDb()), options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kResourceExhausted) << store.status();
}

TEST(StoreFactory, UrlErrorsComeFromTheParser) {
  auto pg = OpenControllerStore("postgresql://ike:s3cret@db/ikeless", {});
  EXPECT_EQ(pg.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(absl::StrContains(pg.status().message(), "s3cret")) << pg.status();
  auto bad = OpenControllerStore("/var/lib/ikeless/controller.db", {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "--store")) << bad.status();
}

TEST(StoreFactory, UrlIsRedactedForLogs) {
  // Only a sqlite: URL opens today; its redacted form is itself.
  auto store = OpenControllerStore("sqlite::memory:", {});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->url(), "sqlite::memory:");
}

}  // namespace
}  // namespace ikeless::storage
