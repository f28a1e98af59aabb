#include "controller/request_shards.h"

#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/random.h"
#include "controller/event_hub.h"
#include "controller/session_registry.h"
#include "controller/test_policy.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::controller {
namespace {

// A session that many threads may send to; keeps what it was sent.
class RecordingSession final : public AgentSession {
 public:
  RecordingSession(std::string node, std::string address)
      : node_(std::move(node)), addresses_{std::move(address)} {}
  bool Send(const v1::ControllerMessage& m) override {
    absl::MutexLock l(&mu_);
    sent_.push_back(m);
    return true;
  }
  void Close(const absl::Status&) override {}
  const std::string& node_name() const override { return node_; }
  const std::vector<std::string>& addresses() const override { return addresses_; }
  const Caller& caller() const override { return caller_; }
  std::vector<v1::ControllerMessage> sent() const {
    absl::MutexLock l(&mu_);
    return sent_;
  }

 private:
  const std::string node_;
  const std::vector<std::string> addresses_;
  const Caller caller_;
  mutable absl::Mutex mu_;
  std::vector<v1::ControllerMessage> sent_ ABSL_GUARDED_BY(mu_);
};

v1::SaRequest Req(const std::string& source, const std::string& peer, uint64_t id,
                  uint32_t spi) {
  v1::SaRequest r;
  r.set_id(id);
  r.set_source(source);
  r.set_peer(peer);
  r.set_spi(spi);
  return r;
}

// The memory store, except that a transaction fails (and rolls back) when
// it looks up request id 666: storage that cannot read one request's rows.
class PoisonedStore final : public storage::AssociationStore {
 public:
  explicit PoisonedStore(storage::MemoryStore* inner) : inner_(inner) {}
  absl::Status Transact(absl::FunctionRef<absl::Status(storage::AssociationTxn&)> fn) override {
    ++transactions;
    return inner_->Transact([&](storage::AssociationTxn& txn) {
      Txn poisoned(&txn);
      return fn(poisoned);
    });
  }
  absl::StatusOr<std::vector<storage::AssociationRow>> ListAssociations(
      absl::string_view address) override {
    return inner_->ListAssociations(address);
  }
  absl::StatusOr<std::optional<storage::AssociationRow>> GetAssociation(uint64_t id) override {
    return inner_->GetAssociation(id);
  }
  absl::StatusOr<absl::Time> NextDeadline() override { return inner_->NextDeadline(); }
  int transactions = 0;

 private:
  class Txn final : public storage::AssociationTxn {
   public:
    explicit Txn(storage::AssociationTxn* t) : t_(t) {}
    absl::StatusOr<std::optional<storage::AssociationRow>> FindByRequestId(
        absl::string_view s, absl::string_view p, uint64_t id) override {
      if (id == 666) return absl::DataLossError("row 13 does not open");
      return t_->FindByRequestId(s, p, id);
    }
    absl::StatusOr<std::optional<storage::AssociationRow>> FindBySpi(absl::string_view s,
                                                                     absl::string_view p,
                                                                     uint32_t spi) override {
      return t_->FindBySpi(s, p, spi);
    }
    absl::StatusOr<std::optional<storage::AssociationRow>> FindHalfOpen(
        absl::string_view o, absl::string_view x, const v1::Selector& sel, absl::string_view op,
        absl::string_view xp) override {
      return t_->FindHalfOpen(o, x, sel, op, xp);
    }
    absl::StatusOr<std::vector<storage::SideEntry>> ListEntries(absl::string_view s,
                                                                absl::string_view p) override {
      return t_->ListEntries(s, p);
    }
    absl::StatusOr<std::vector<storage::AssociationRow>> ListRows(absl::string_view a,
                                                                  absl::string_view p) override {
      return t_->ListRows(a, p);
    }
    absl::StatusOr<uint64_t> CountHalfOpen(absl::string_view o) override {
      return t_->CountHalfOpen(o);
    }
    absl::StatusOr<uint64_t> Insert(const storage::AssociationRow& r) override {
      return t_->Insert(r);
    }
    absl::Status Update(const storage::AssociationRow& r) override { return t_->Update(r); }
    absl::Status Delete(uint64_t id) override { return t_->Delete(id); }
    absl::StatusOr<std::vector<storage::AssociationRow>> DueStartups(absl::Time now,
                                                                     size_t limit) override {
      return t_->DueStartups(now, limit);
    }
    absl::StatusOr<std::vector<storage::AssociationRow>> All() override { return t_->All(); }
    absl::StatusOr<std::vector<storage::AssociationRow>> Expired(absl::Time now,
                                                                 size_t limit) override {
      return t_->Expired(now, limit);
    }

   private:
    storage::AssociationTxn* const t_;
  };
  storage::MemoryStore* const inner_;
};

// Nodes n0..n{2P-1} at 198.18.0.x; pair i is n(2i) <-> n(2i+1); one wildcard
// policy covers every pair.
class RequestShardsTest : public ::testing::Test {
 protected:
  static constexpr int kPairs = 24;

  RequestShardsTest()
      : processor_({}, &store_, &store_, &clock_, &random_),
        dispatcher_(&registry_, &events_) {
    EXPECT_TRUE(store_.CreatePolicy(TunnelPolicy("mesh", "*", "*")).ok());
    for (int i = 0; i < 2 * kPairs; ++i) {
      auto s = std::make_shared<RecordingSession>(absl::StrCat("n", i), Address(i));
      EXPECT_TRUE(registry_.Register(s).ok());
      sessions_.push_back(s);
    }
  }

  static std::string Address(int node) { return absl::StrCat("198.18.0.", node + 1); }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  RequestProcessor processor_;
  SessionRegistry registry_;
  EventHub events_;
  Dispatcher dispatcher_;
  std::vector<std::shared_ptr<RecordingSession>> sessions_;
};

TEST_F(RequestShardsTest, ShardOfIsTheSameForBothDirectionsAndEverySpelling) {
  RequestShards::Options options;
  options.shards = 7;
  RequestShards shards(options, &processor_, &dispatcher_);
  for (int i = 0; i < 50; ++i) {
    const std::string a = absl::StrCat("fd00::", i), b = absl::StrCat("fd00:0::", i + 1000);
    EXPECT_EQ(shards.ShardOf(a, b), shards.ShardOf(b, a));
    EXPECT_EQ(shards.ShardOf(a, b), shards.ShardOf(absl::StrCat("FD00:0:0::", i), b));
    EXPECT_LT(shards.ShardOf(a, b), 7u);
  }
}

// Two shards, two threads sending at once: every side of every pair sends
// request ids 1, 2, 3 (one SPI each), each twice (a retransmission, S43).
// Each pair's requests must all be decided by the pair's own shard in the
// order each side sent them, and the resends must change nothing (S2 -> S5:
// the same Distribution again; S6: nothing while the peer has not asked).
TEST_F(RequestShardsTest, S2S5_PairStaysOnItsShardInOrderUnderConcurrentResends) {
  absl::Mutex mu;
  // (source, peer) -> the request ids in the order the shard decided them.
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> decided;
  std::map<std::pair<std::string, std::string>, std::set<size_t>> shards_seen;
  std::set<size_t> shards_used;
  RequestShards::Options options;
  options.shards = 2;
  options.max_batch = 16;  // several batches per shard
  options.observe_batch = [&](size_t shard, const std::vector<v1::SaRequest>& batch) {
    absl::MutexLock l(&mu);
    shards_used.insert(shard);
    for (const v1::SaRequest& r : batch) {
      decided[{r.source(), r.peer()}].push_back(r.id());
      shards_seen[{r.source(), r.peer()}].insert(shard);
    }
  };
  auto shards = std::make_unique<RequestShards>(options, &processor_, &dispatcher_);
  absl::Notification go;
  auto send_side = [&](int side) {
    go.WaitForNotification();
    for (uint64_t id = 1; id <= 3; ++id) {
      for (int resend = 0; resend < 2; ++resend) {
        for (int p = 0; p < kPairs; ++p) {
          const int self = 2 * p + side, other = 2 * p + 1 - side;
          shards->Submit(Req(Address(self), Address(other), id,
                             static_cast<uint32_t>(1000 * (side + 1) + id)),
                         sessions_[self]);
        }
      }
    }
  };
  std::thread a(send_side, 0), b(send_side, 1);
  go.Notify();
  a.join();
  b.join();
  shards.reset();  // decides what is queued, then stops

  EXPECT_EQ(shards_used.size(), 2u) << "24 pairs all hashed to one shard";
  RequestShards::Options same_count;
  same_count.shards = 2;
  RequestShards probe(same_count, &processor_, &dispatcher_);
  for (int p = 0; p < kPairs; ++p) {
    for (int side = 0; side < 2; ++side) {
      const std::string self = Address(2 * p + side), other = Address(2 * p + 1 - side);
      const std::vector<uint64_t> sent_order{1, 1, 2, 2, 3, 3};
      EXPECT_EQ(decided[std::pair(self, other)], sent_order) << self;
      const std::set<size_t> own{probe.ShardOf(self, other)};
      EXPECT_EQ(shards_seen[std::pair(self, other)], own) << self;
      // Both directions of the pair: one shard.
      EXPECT_EQ(shards_seen[std::pair(other, self)], own) << self;
    }
  }
  // Three established rows per pair, none half-open, no conflict.
  auto rows = store_.ListAssociations("");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), size_t{3 * kPairs});
  for (const auto& row : *rows) {
    EXPECT_TRUE(row.a.filled() && row.b.filled()) << row.id;
    EXPECT_EQ(row.a.request_id, row.b.request_id) << "ids pair up in order";
  }
  for (int n = 0; n < 2 * kPairs; ++n) {
    // request id -> the inbound key of every Distribution for it.
    std::map<uint64_t, std::set<std::string>> keys;
    for (const auto& m : sessions_[n]->sent()) {
      EXPECT_FALSE(m.has_error()) << m.error().message();
      if (m.has_distribution()) {
        keys[m.distribution().request_id()].insert(m.distribution().inbound().encryption_key());
      }
    }
    ASSERT_EQ(keys.size(), 3u) << Address(n);
    for (const auto& [id, k] : keys) EXPECT_EQ(k.size(), 1u) << "S5 resent other keys";
  }
}

TEST_F(RequestShardsTest, ABatchCostsOneCommit) {
  absl::Notification release;
  absl::Mutex mu;
  std::vector<size_t> sizes;
  RequestShards::Options options;
  options.observe_batch = [&](size_t, const std::vector<v1::SaRequest>& batch) {
    release.WaitForNotification();  // the first batch holds the shard while the rest queue
    absl::MutexLock l(&mu);
    sizes.push_back(batch.size());
  };
  auto shards = std::make_unique<RequestShards>(options, &processor_, &dispatcher_);
  // This thread becomes the shard's loop and holds it in the first batch.
  std::thread first(
      [&] { shards->Submit(Req(Address(0), Address(1), 1, 1001), sessions_[0]); });
  while (shards->counts().requests == 0) absl::SleepFor(absl::Milliseconds(1));
  const int before = store_.commits();
  for (int p = 1; p < kPairs; ++p) {
    shards->Submit(Req(Address(2 * p), Address(2 * p + 1), 1, 1001), sessions_[2 * p]);
    shards->Submit(Req(Address(2 * p + 1), Address(2 * p), 1, 2001), sessions_[2 * p + 1]);
  }
  EXPECT_EQ(shards->counts().requests, 1u) << "queued while the loop is busy, not decided";
  release.Notify();
  first.join();  // the loop took the rest before it let go
  ASSERT_EQ(sizes.size(), 2u);
  EXPECT_EQ(sizes[1], size_t{2 * (kPairs - 1)});
  EXPECT_EQ(store_.commits() - before, 2) << "one per batch";
  // Opened and established within the one batch: both sides have keys.
  auto rows = store_.ListAssociations("");
  ASSERT_TRUE(rows.ok());
  int established = 0;
  for (const auto& row : *rows) established += row.b.filled() ? 1 : 0;
  EXPECT_EQ(established, kPairs - 1);
}

// At rest the submitting thread decides at once; a shard that stays busy
// is handed to the shard's own thread, and the submitter returns to its
// stream.
TEST_F(RequestShardsTest, SubmitterDecidesAtRestAndHandsABusyShardOver) {
  absl::Notification release;
  absl::Mutex mu;
  std::vector<std::thread::id> deciders;
  RequestShards::Options options;
  options.inline_batches = 1;
  options.observe_batch = [&](size_t, const std::vector<v1::SaRequest>&) {
    {
      absl::MutexLock l(&mu);
      deciders.push_back(std::this_thread::get_id());
    }
    release.WaitForNotification();
  };
  auto shards = std::make_unique<RequestShards>(options, &processor_, &dispatcher_);
  std::thread::id submitter;
  std::thread first([&] {
    submitter = std::this_thread::get_id();
    shards->Submit(Req(Address(0), Address(1), 1, 1001), sessions_[0]);
  });
  while (shards->counts().requests == 0) absl::SleepFor(absl::Milliseconds(1));
  shards->Submit(Req(Address(1), Address(0), 1, 2001), sessions_[1]);  // queues
  release.Notify();
  first.join();  // returns after its one batch: the second is not its to decide
  shards.reset();
  ASSERT_EQ(deciders.size(), 2u);
  EXPECT_EQ(deciders[0], submitter);
  EXPECT_NE(deciders[1], submitter);
  EXPECT_NE(deciders[1], std::this_thread::get_id());
  auto rows = store_.ListAssociations("");
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_TRUE((*rows)[0].b.filled());
}

TEST_F(RequestShardsTest, SubmitterDecidesAtRest) {
  RequestShards shards(RequestShards::Options(), &processor_, &dispatcher_);
  shards.Submit(Req(Address(0), Address(1), 1, 1001), sessions_[0]);
  // Decided before Submit returned: the row is there, the startup sent.
  EXPECT_EQ(store_.ListAssociations("")->size(), 1u);
  bool startup = false;
  for (const auto& m : sessions_[1]->sent()) startup = startup || m.has_startup();
  EXPECT_TRUE(startup);
}

// Storage fails on one request of a batch: the ones before it and after it
// are still decided in a batch each, and only its sender hears UNAVAILABLE,
// without the storage error's text.
TEST_F(RequestShardsTest, RequestStorageFailsOnFailsAloneTheOthersStayBatched) {
  PoisonedStore poisoned(&store_);
  RequestProcessor processor({}, &store_, &poisoned, &clock_, &random_);
  absl::Notification release;
  RequestShards::Options options;
  options.observe_batch = [&](size_t, const std::vector<v1::SaRequest>&) {
    release.WaitForNotification();
  };
  auto shards = std::make_unique<RequestShards>(options, &processor, &dispatcher_);
  std::thread first(
      [&] { shards->Submit(Req(Address(0), Address(1), 1, 1001), sessions_[0]); });
  while (shards->counts().requests == 0) absl::SleepFor(absl::Milliseconds(1));
  // One batch: pair 1, pair 2 (poisoned), pair 3, pair 4.
  shards->Submit(Req(Address(2), Address(3), 1, 1001), sessions_[2]);
  shards->Submit(Req(Address(4), Address(5), 666, 1001), sessions_[4]);
  shards->Submit(Req(Address(6), Address(7), 1, 1001), sessions_[6]);
  shards->Submit(Req(Address(8), Address(9), 1, 1001), sessions_[8]);
  const int before = poisoned.transactions;
  release.Notify();
  first.join();
  shards.reset();
  // The first request's batch; then the batch (fails), the one before the
  // poisoned request, the poisoned one alone (fails), the two after it.
  EXPECT_EQ(poisoned.transactions - before, 5);
  EXPECT_EQ(store_.ListAssociations("")->size(), 4u);  // pairs 0, 1, 3, 4
  for (int node : {3, 7, 9}) {
    bool startup = false;
    for (const auto& m : sessions_[node]->sent()) startup = startup || m.has_startup();
    EXPECT_TRUE(startup) << Address(node);
  }
  const auto sent = sessions_[4]->sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].error().code(), v1::SetupError::UNAVAILABLE);
  EXPECT_EQ(sent[0].error().request_id(), 666u);
  EXPECT_EQ(sent[0].error().message(), "controller storage unavailable; retry");
  EXPECT_TRUE(sessions_[5]->sent().empty());
}

// Beyond max_queued a request is refused at once, and nothing is lost of
// what was queued.
TEST_F(RequestShardsTest, FullQueueRefusesWithResourceExhausted) {
  absl::Notification release;
  RequestShards::Options options;
  options.max_queued = 2;
  options.observe_batch = [&](size_t, const std::vector<v1::SaRequest>&) {
    release.WaitForNotification();
  };
  auto shards = std::make_unique<RequestShards>(options, &processor_, &dispatcher_);
  std::thread first(
      [&] { shards->Submit(Req(Address(0), Address(1), 1, 1001), sessions_[0]); });
  while (shards->counts().requests == 0) absl::SleepFor(absl::Milliseconds(1));
  shards->Submit(Req(Address(2), Address(3), 1, 1001), sessions_[2]);
  shards->Submit(Req(Address(4), Address(5), 1, 1001), sessions_[4]);
  shards->Submit(Req(Address(6), Address(7), 1, 1001), sessions_[6]);  // third in queue
  const auto refused = sessions_[6]->sent();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].error().code(), v1::SetupError::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused[0].error().message().find("2 requests wait"), std::string::npos)
      << refused[0].error().message();
  release.Notify();
  first.join();
  shards.reset();
  EXPECT_EQ(store_.ListAssociations("")->size(), 3u);
}

}  // namespace
}  // namespace ikeless::controller
