// The real controller binary on loopback, driven by scripted agents over
// real gRPC and by the real ipsecctl: the source's worked example, restart
// durability, and a kill -9 in the middle of a burst of requests.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/admin.pb.h"
#include "common/random.h"
#include "storage/key_sealer.h"
#include "storage/sqlite_store.h"
#include "tests/scripted_agent.h"
#include "tests/subprocess.h"
#include "tests/test_binaries.h"

namespace ikeless::testing {
namespace {

constexpr char k2a[] = "198.18.1.1";
constexpr char k2b[] = "198.18.2.1";

class ControllerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Binaries().controller.empty()) << "--controller_bin missing";
    const char* tmp = std::getenv("TEST_TMPDIR");
    db_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/controller-", getpid(), "-",
                       ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    std::remove(db_.c_str());
  }

  void StartController() {
    auto p = Subprocess::Start({Binaries().controller, "--listen=127.0.0.1:0", "--insecure",
                                "--database=" + db_, "--startup_interval=300ms",
                                "--startup_attempts=6"});
    ASSERT_TRUE(p.ok()) << p.status();
    controller_.emplace(std::move(*p));
    auto addr = controller_->WaitForLine("listening on ", absl::Seconds(10));
    ASSERT_TRUE(addr.has_value()) << "controller did not start";
    address_ = *addr;
  }

  RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {Binaries().ipsecctl, "--controller", address_});
    return RunCommand(args);
  }

  std::unique_ptr<ScriptedAgent> Connect(const std::string& node, const std::string& address) {
    auto agent = std::make_unique<ScriptedAgent>(address_);
    EXPECT_TRUE(agent->Hello(node, {address}));
    auto welcome = agent->Next();
    EXPECT_TRUE(welcome.has_value() && welcome->has_welcome());
    return agent;
  }

  v1::ListAssociationsResponse AssocListJson() {
    RunResult r = Ctl({"assoc", "list", "-o", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    v1::ListAssociationsResponse list;
    auto s = google::protobuf::util::JsonStringToMessage(r.out, &list);
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << r.out;
    return list;
  }

  // 2a (1001, 5100) -> startup -> 2b (2001, 6100) -> both distributions.
  // Returns 2a's distribution.
  v1::Distribution WorkedExample(ScriptedAgent& a, ScriptedAgent& b, uint64_t id_a,
                                 uint32_t spi_a, uint64_t id_b, uint32_t spi_b) {
    EXPECT_TRUE(a.Request(id_a, k2a, k2b, spi_a));
    auto startup = b.Next();
    EXPECT_TRUE(startup.has_value() && startup->has_startup());
    EXPECT_TRUE(b.Request(id_b, k2b, k2a, spi_b));
    auto da = a.Next();
    auto db = b.Next();
    EXPECT_TRUE(da.has_value() && da->has_distribution());
    EXPECT_TRUE(db.has_value() && db->has_distribution());
    if (!da || !db) return {};
    EXPECT_EQ(da->distribution().outbound().encryption_key(),
              db->distribution().inbound().encryption_key());
    EXPECT_EQ(db->distribution().request_id(), id_b);
    return da->distribution();
  }

  std::string db_;
  std::string address_;
  std::optional<Subprocess> controller_;
};

TEST_F(ControllerProcessTest, WorkedExampleAndAssocListJson) {
  StartController();
  RunResult add = Ctl({"policy", "add", "a-b", "--between", k2a, k2b, "--lifetime", "1h"});
  ASSERT_EQ(add.exit_code, 0) << add.out;
  auto a = Connect("gw-a", k2a);
  auto b = Connect("gw-b", k2b);
  v1::Distribution first = WorkedExample(*a, *b, 1001, 5100, 2001, 6100);
  EXPECT_EQ(first.request_id(), 1001u);
  // S5: a resend gets the same distribution.
  ASSERT_TRUE(a->Request(1001, k2a, k2b, 5100));
  auto again = a->Next();
  ASSERT_TRUE(again.has_value() && again->has_distribution());
  EXPECT_EQ(again->distribution().SerializeAsString(), first.SerializeAsString());
  // S3/S8: (1001, 5111) conflicts and lists (1001, 5100).
  ASSERT_TRUE(a->Request(1001, k2a, k2b, 5111));
  auto conflict = a->Next();
  ASSERT_TRUE(conflict.has_value() && conflict->has_error());
  EXPECT_EQ(conflict->error().code(), v1::SetupError::CONFLICT);
  ASSERT_EQ(conflict->error().entries_size(), 1);
  EXPECT_EQ(conflict->error().entries(0).spi(), 5100u);
  // FIG. 27: the rekey makes a second row.
  WorkedExample(*a, *b, 1002, 5110, 2002, 6110);

  v1::ListAssociationsResponse list = AssocListJson();
  ASSERT_EQ(list.associations_size(), 2);
  const v1::Association& r1 = list.associations(0);
  const v1::Association& r2 = list.associations(1);
  EXPECT_EQ(r1.state(), v1::Association::ESTABLISHED);
  EXPECT_EQ(r1.a().address(), k2a);
  EXPECT_EQ(r1.a().request_id(), 1001u);
  EXPECT_EQ(r1.a().spi(), 5100u);
  EXPECT_EQ(r1.b().request_id(), 2001u);
  EXPECT_EQ(r1.b().spi(), 6100u);
  EXPECT_EQ(r1.policy_name(), "a-b");
  EXPECT_EQ(r2.a().request_id(), 1002u);
  EXPECT_EQ(r2.b().spi(), 6110u);
  // No key bytes in what the operator sees.
  RunResult text = Ctl({"assoc", "list"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out.find(first.outbound().encryption_key()), std::string::npos);

  controller_->Signal(SIGTERM);
  EXPECT_EQ(controller_->Wait(absl::Seconds(10)), 0) << "clean shutdown on SIGTERM";
}

TEST_F(ControllerProcessTest, PoliciesAndAssociationsSurviveRestart) {
  StartController();
  ASSERT_EQ(Ctl({"policy", "add", "a-b", "--between", k2a, k2b}).exit_code, 0);
  v1::Distribution before;
  {
    auto a = Connect("gw-a", k2a);
    auto b = Connect("gw-b", k2b);
    before = WorkedExample(*a, *b, 1001, 5100, 2001, 6100);
    ASSERT_TRUE(a->Request(1002, k2a, k2b, 5110));  // left half-open
    ASSERT_TRUE(b->Next().has_value());
  }
  controller_->Signal(SIGTERM);
  ASSERT_EQ(controller_->Wait(absl::Seconds(10)), 0);
  controller_.reset();

  StartController();
  RunResult list = Ctl({"policy", "list", "-o", "json"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("\"a-b\""), std::string::npos) << list.out;
  v1::ListAssociationsResponse assoc = AssocListJson();
  ASSERT_EQ(assoc.associations_size(), 2);
  EXPECT_EQ(assoc.associations(0).state(), v1::Association::ESTABLISHED);
  EXPECT_EQ(assoc.associations(1).state(), v1::Association::HALF_OPEN);
  // S5 after the restart: the same keys come back.
  auto a = Connect("gw-a", k2a);
  ASSERT_TRUE(a->Request(1001, k2a, k2b, 5100));
  auto again = a->Next();
  ASSERT_TRUE(again.has_value() && again->has_distribution());
  EXPECT_EQ(again->distribution().SerializeAsString(), before.SerializeAsString());
  // The half-open row's startups resume and end in PEER_UNREACHABLE.
  auto unreachable = a->Next(absl::Seconds(10));
  ASSERT_TRUE(unreachable.has_value() && unreachable->has_error());
  EXPECT_EQ(unreachable->error().code(), v1::SetupError::PEER_UNREACHABLE);
  EXPECT_EQ(unreachable->error().request_id(), 1002u);
}

// Every row is either half-open without keys or established with both
// directions' keys; SQLite's own check passes.
void ExpectConsistent(const std::string& db) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(raw);

  // The controller sealed the keys with kek.key beside the database.
  auto sealer = storage::KeySealer::FromKeyFile(
      db.substr(0, db.rfind('/')) + "/kek.key", /*create_if_missing=*/false, CryptoRandom::Get());
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  storage::SqliteStore::Options options;
  options.sealer = sealer->get();
  auto store = storage::SqliteStore::Open(db, options);
  ASSERT_TRUE(store.ok()) << store.status();
  auto rows = (*store)->ListAssociations("");
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    EXPECT_TRUE(row.a.filled());
    EXPECT_EQ(row.established(), row.a_to_b.has_value()) << "row " << row.id;
    EXPECT_EQ(row.established(), row.b_to_a.has_value()) << "row " << row.id;
    if (row.established()) {
      EXPECT_EQ(row.a_to_b->spi(), row.b.spi);
      EXPECT_EQ(row.b_to_a->spi(), row.a.spi);
      EXPECT_EQ(row.a_to_b->encryption_key().size(), 16u);
    }
  }
}

TEST_F(ControllerProcessTest, KillNineDuringBurstLeavesConsistentDatabase) {
  StartController();
  ASSERT_EQ(Ctl({"policy", "add", "lab", "--between", "198.18.0.0/15", "198.18.0.0/15"}).exit_code,
            0);
  constexpr int kPairs = 20;
  std::vector<std::unique_ptr<ScriptedAgent>> agents;
  for (int i = 0; i < 2 * kPairs; ++i) {
    agents.push_back(Connect(absl::StrCat("n", i), absl::StrCat("198.18.3.", i + 1)));
  }
  // Each pair: i asks i+kPairs, which answers its startup: a stream of
  // opens and establishments, then kill -9 somewhere in the middle.
  std::atomic<bool> stop{false};
  std::thread burst([&] {
    for (uint32_t round = 0; !stop; ++round) {
      for (int i = 0; i < kPairs && !stop; ++i) {
        std::string self = absl::StrCat("198.18.3.", i + 1);
        std::string peer = absl::StrCat("198.18.3.", i + kPairs + 1);
        agents[i]->Request(1000 + round, self, peer, 4096 + round);
        agents[i + kPairs]->Request(5000 + round, peer, self, 8192 + round);
      }
    }
  });
  absl::SleepFor(absl::Milliseconds(400));
  controller_->Signal(SIGKILL);
  EXPECT_EQ(controller_->Wait(absl::Seconds(5)), 128 + SIGKILL);
  stop = true;
  burst.join();
  agents.clear();
  ExpectConsistent(db_);
  // The controller comes back on the same file and keeps answering.
  StartController();
  auto rows = AssocListJson();
  EXPECT_GT(rows.associations_size(), 0);
  EXPECT_EQ(Ctl({"policy", "get", "lab"}).exit_code, 0);
}

}  // namespace
}  // namespace ikeless::testing
