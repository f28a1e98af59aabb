// Reconciliation on Hello (issue #12), rule by rule, over a memory store:
// what is retired, who is told, and that a reconnect that lost nothing
// retires nothing. Also the pending startups pushed on Hello and the
// operator's delete.
#include "controller/association_reconciler.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::controller {
namespace {

using storage::AssociationRow;

constexpr char kX[] = "198.18.1.1";  // the node saying Hello
constexpr char kY[] = "198.18.2.1";
constexpr char kZ[] = "198.18.3.1";

class ReconcilerTest : public ::testing::Test {
 protected:
  // A row opened by `a` (request id, SPI), established by `b` if b_id != 0.
  uint64_t Insert(const char* a, uint64_t a_id, uint32_t a_spi, const char* b, uint64_t b_id = 0,
                  uint32_t b_spi = 0) {
    AssociationRow row;
    row.a = {a, a_id, a_spi};
    row.b = {b, b_id, b_spi};
    row.policy.set_name("mesh");
    row.create_time = clock_.Now();
    row.startups_sent = 2;
    if (b_id != 0) {
      row.establish_time = clock_.Now();
      row.expire_time = clock_.Now() + absl::Hours(1);
    } else {
      row.next_startup_time = clock_.Now() + absl::Seconds(3);
    }
    uint64_t id = 0;
    EXPECT_TRUE(store_
                    .Transact([&](storage::AssociationTxn& txn) -> absl::Status {
                      auto inserted = txn.Insert(row);
                      if (!inserted.ok()) return inserted.status();
                      id = *inserted;
                      return absl::OkStatus();
                    })
                    .ok());
    return id;
  }

  static v1::Hello Report(std::vector<uint64_t> installed,
                          std::vector<std::pair<uint64_t, uint32_t>> in_flight = {}) {
    v1::Hello h;
    h.set_node_name("x");
    h.add_addresses(kX);
    h.set_reconcile(true);
    for (uint64_t id : installed) h.add_installed_associations(id);
    for (auto [id, spi] : in_flight) {
      v1::InFlightSetup* s = h.add_in_flight();
      s->set_request_id(id);
      s->set_spi(spi);
    }
    return h;
  }

  Reconciliation Hello(const v1::Hello& h, std::vector<std::string> addresses = {kX}) {
    clock_.Advance(absl::Seconds(1));  // the rows so far predate the Hello
    auto r = reconciler_.OnHello(addresses, h, clock_.Now());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : Reconciliation();
  }

  std::set<uint64_t> Ids() {
    std::set<uint64_t> ids;
    auto rows = store_.ListAssociations("");  // kept: a range over *ListAssociations("") dangles
    EXPECT_TRUE(rows.ok());
    for (const AssociationRow& r : *rows) ids.insert(r.id);
    return ids;
  }

  // Teardown ids by address.
  static std::map<std::string, std::vector<uint64_t>> Teardowns(const ProcessorOutput& out) {
    std::map<std::string, std::vector<uint64_t>> t;
    for (const Outgoing& o : out.messages) {
      if (!o.message.has_teardown()) continue;
      for (uint64_t id : o.message.teardown().association_ids()) t[o.address].push_back(id);
    }
    return t;
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  AssociationReconciler reconciler_{&store_, &clock_};
};

TEST_F(ReconcilerTest, EstablishedRowNoSaUsesIsRetiredAndThePeerTold) {
  const uint64_t xy = Insert(kX, 1, 5000, kY, 7, 6000);   // X opened
  const uint64_t yx = Insert(kY, 8, 6100, kX, 2, 5100);   // Y opened
  const uint64_t yz = Insert(kY, 9, 6200, kZ, 3, 7000);   // not X's
  Reconciliation r = Hello(Report({}));  // a restarted agent: nothing
  EXPECT_EQ(r.retired, 2u);
  EXPECT_EQ(Ids(), (std::set<uint64_t>{yz}));
  auto t = Teardowns(r.out);
  ASSERT_EQ(t.size(), 1u);  // the peer only: X has nothing to remove
  EXPECT_EQ(t[kY], (std::vector<uint64_t>{xy, yx}));
  ASSERT_EQ(r.out.events.size(), 2u);
  EXPECT_EQ(r.out.events[0].kind(), v1::Event::ASSOCIATION_DELETED);
  EXPECT_NE(r.out.events[0].detail().find("reconciled"), std::string::npos);
}

TEST_F(ReconcilerTest, AReconnectThatLostNothingRetiresNothing) {
  const uint64_t live = Insert(kX, 1, 5000, kY, 7, 6000);
  // Rekeyed: the old row's SAs are still installed (superseded/retiring).
  const uint64_t old = Insert(kY, 8, 6100, kX, 2, 5100);
  // Established, but X's Distribution was lost with the old stream: X
  // still sends request (3, 5200).
  const uint64_t pending = Insert(kY, 9, 6200, kX, 3, 5200);
  // X waits on its own request to Z (S43).
  const uint64_t waiting = Insert(kX, 4, 5300, kZ);
  Reconciliation r = Hello(Report({live, old}, {{3, 5200}, {4, 5300}}));
  EXPECT_EQ(r.retired, 0u);
  EXPECT_EQ(r.abandoned, 0u);
  EXPECT_EQ(r.unknown_sas, 0u);
  EXPECT_TRUE(r.out.messages.empty());
  EXPECT_TRUE(r.out.events.empty());
  EXPECT_EQ(Ids(), (std::set<uint64_t>{live, old, pending, waiting}));
}

TEST_F(ReconcilerTest, HalfOpenRowTheNodeNoLongerRequestsIsDeletedQuietly) {
  const uint64_t gone = Insert(kX, 1, 5000, kY);
  const uint64_t kept = Insert(kX, 2, 5001, kZ);
  Reconciliation r = Hello(Report({}, {{2, 5001}}));
  EXPECT_EQ(r.abandoned, 1u);
  EXPECT_EQ(Ids(), (std::set<uint64_t>{kept}));
  EXPECT_TRUE(r.out.messages.empty());  // the peer never had anything
  ASSERT_EQ(r.out.events.size(), 1u);
  EXPECT_EQ(r.out.events[0].subject(), std::to_string(gone));
}

TEST_F(ReconcilerTest, ARestartedAgentsNewSetupDoesNotKeepItsPredecessorsRows) {
  // Request ids restart at 1 in a new process (DECISIONS 10); the SPI is new.
  Insert(kX, 1, 5000, kY, 7, 6000);
  Insert(kX, 2, 5001, kZ);
  Reconciliation r = Hello(Report({}, {{1, 9000}, {2, 9001}}));
  EXPECT_EQ(r.retired, 1u);
  EXPECT_EQ(r.abandoned, 1u);
  EXPECT_TRUE(Ids().empty());
}

TEST_F(ReconcilerTest, SasOfRowsTheTableLacksAreRemovedOnTheNode) {
  const uint64_t live = Insert(kX, 1, 5000, kY, 7, 6000);
  const uint64_t others = Insert(kY, 2, 6000, kZ, 3, 7000);  // not X's row
  Reconciliation r = Hello(Report({live, 99, others}));
  EXPECT_EQ(r.unknown_sas, 2u);
  auto t = Teardowns(r.out);
  ASSERT_EQ(t.size(), 1u);
  std::vector<uint64_t> expected = {others, 99};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(t[kX], expected);
  EXPECT_EQ(Ids(), (std::set<uint64_t>{live, others}));  // rows untouched
}

TEST_F(ReconcilerTest, WithoutAReportNothingIsRetired) {
  Insert(kX, 1, 5000, kY, 7, 6000);
  Insert(kX, 2, 5001, kZ);
  v1::Hello old_agent = Report({99});
  old_agent.set_reconcile(false);
  Reconciliation r = Hello(old_agent);
  EXPECT_EQ(r.retired + r.abandoned + r.unknown_sas, 0u);
  EXPECT_EQ(Ids().size(), 2u);
  EXPECT_TRUE(r.out.messages.empty());
}

TEST_F(ReconcilerTest, PendingStartupsGoOutOnHelloWithoutCountingAnAttempt) {
  const uint64_t for_x = Insert(kY, 1, 6000, kX);
  const uint64_t for_z = Insert(kY, 2, 6001, kZ);
  const absl::Time next = store_.GetAssociation(for_x)->value().next_startup_time;
  v1::Hello old_agent = Report({});
  old_agent.set_reconcile(false);  // also for agents that send no report
  Reconciliation r = Hello(old_agent);
  EXPECT_EQ(r.startups, 1u);
  ASSERT_EQ(r.out.messages.size(), 1u);
  EXPECT_EQ(r.out.messages[0].address, kX);
  ASSERT_TRUE(r.out.messages[0].message.has_startup());
  EXPECT_EQ(r.out.messages[0].message.startup().peer(), kY);
  EXPECT_EQ(r.out.messages[0].message.startup().local(), kX);
  ASSERT_EQ(r.out.events.size(), 1u);
  EXPECT_EQ(r.out.events[0].kind(), v1::Event::STARTUP_SENT);
  // S23/S24's schedule is unchanged: same count, same next repetition.
  AssociationRow after = store_.GetAssociation(for_x)->value();
  EXPECT_EQ(after.startups_sent, 2u);
  EXPECT_EQ(after.next_startup_time, next);
  EXPECT_EQ(Ids(), (std::set<uint64_t>{for_x, for_z}));
  // With a report, the row waiting for X is not X's to abandon.
  Reconciliation again = Hello(Report({}));
  EXPECT_EQ(again.startups, 1u);
  EXPECT_EQ(again.abandoned, 0u);
  EXPECT_EQ(Ids(), (std::set<uint64_t>{for_x, for_z}));
}

TEST_F(ReconcilerTest, RowsOpenedAfterTheNodeRegisteredHadTheirStartupAlready) {
  // Opened while the Hello was being handled: S23 reached the new stream.
  Insert(kY, 1, 6000, kX);
  auto r = reconciler_.OnHello({kX}, Report({}), clock_.Now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->startups, 0u);
  EXPECT_TRUE(r->out.messages.empty());
}

TEST_F(ReconcilerTest, ANodeWithTwoAddressesIsReconciledOnAll) {
  const uint64_t v4 = Insert(kX, 1, 5000, kY, 7, 6000);
  const uint64_t v6 = Insert("fd00::1", 2, 5001, "fd00::2", 8, 6001);
  Reconciliation r = Hello(Report({v6}), {kX, "fd00::1"});
  EXPECT_EQ(r.retired, 1u);
  EXPECT_EQ(Ids(), (std::set<uint64_t>{v6}));
  EXPECT_EQ(Teardowns(r.out)[kY], (std::vector<uint64_t>{v4}));
}

TEST_F(ReconcilerTest, ReportsBeyondTheBoundAreRefusedNamingTheField) {
  v1::Hello h = Report({});
  for (uint64_t i = 1; i <= kMaxHelloReportEntries; ++i) h.add_installed_associations(i);
  EXPECT_TRUE(ValidateHelloReport(h).ok());
  h.add_installed_associations(1);
  absl::Status s = ValidateHelloReport(h);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 30), "hello.installed_associations: ");
  v1::Hello f = Report({});
  for (uint64_t i = 0; i <= kMaxHelloReportEntries; ++i) f.add_in_flight()->set_request_id(i);
  EXPECT_EQ(ValidateHelloReport(f).message().substr(0, 16), "hello.in_flight:");
}

TEST_F(ReconcilerTest, OperatorDeleteTellsBothSides) {
  const uint64_t xy = Insert(kX, 1, 5000, kY, 7, 6000);
  const uint64_t other = Insert(kX, 2, 5001, kZ, 8, 6001);
  AssociationRow deleted;
  auto out = reconciler_.Delete(xy, "operator admin", &deleted);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(deleted.id, xy);
  EXPECT_EQ(deleted.b.address, kY);
  auto t = Teardowns(*out);
  EXPECT_EQ(t[kX], (std::vector<uint64_t>{xy}));
  EXPECT_EQ(t[kY], (std::vector<uint64_t>{xy}));
  ASSERT_EQ(out->events.size(), 1u);
  EXPECT_EQ(out->events[0].kind(), v1::Event::ASSOCIATION_DELETED);
  EXPECT_NE(out->events[0].detail().find("deleted by operator admin"), std::string::npos);
  EXPECT_EQ(Ids(), (std::set<uint64_t>{other}));
  auto again = reconciler_.Delete(xy, "operator admin", nullptr);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(again.status().message(), absl::StrCat("association ", xy, " not found"));
  EXPECT_EQ(reconciler_.Delete(0, "x", nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ikeless::controller
