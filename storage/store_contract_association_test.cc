// The association table's contract (AssociationTxn and AssociationStore),
// run for every backend by store_contract_test.cc's instantiation.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/store_contract_test.h"

namespace ikeless::storage::store_test {
namespace {

TEST_P(StoreContractTest, InsertAssignsIncreasingIdsNeverReused) {
  uint64_t first = Insert(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"));
  uint64_t second = Insert(HalfOpen("198.18.0.1", 2, 101, "198.18.0.2"));
  EXPECT_GT(first, 0u);
  EXPECT_GT(second, first);
  InTxn([&](AssociationTxn& txn) { ASSERT_TRUE(txn.Delete(second).ok()); });
  uint64_t third = Insert(HalfOpen("198.18.0.1", 3, 102, "198.18.0.2"));
  EXPECT_GT(third, second);
}

TEST_P(StoreContractTest, RowsRoundTripEveryField) {
  AssociationRow half =
      HalfOpen("fd00::1", 0xffffffffffffff01u, 0xfffffff0u, "fd00::2", Sel(6, 443));
  half.startups_sent = 3;
  half.create_time = absl::InfinitePast();
  half.a.successor_spis = {0xfffffff1u, 256};
  AssociationRow full = Establish(HalfOpen("198.18.0.1", 7, 700, "198.18.0.2"), 8, 800);
  full.next_startup_time = absl::InfiniteFuture();
  full.a_prefix = "198.18.10.0/24";
  full.b_prefix = "198.18.20.0/24";
  full.a.successor_spis = {701};
  full.b.successor_spis = {801, 802};
  // Successor SAs travel inside the sealed SA blobs.
  *full.a_to_b->add_successors() = Sa(801, full.a.address, full.b.address);
  half.id = Insert(half);
  full.id = Insert(full);
  EXPECT_EQ(Describe(MustGet(half.id)), Describe(half));
  EXPECT_EQ(Describe(MustGet(full.id)), Describe(full));
  EXPECT_FALSE(associations().GetAssociation(full.id + 100)->has_value());
}

TEST_P(StoreContractTest, FindByRequestIdWorksFromEitherSide) {
  const std::string x = "198.18.0.1", y = "198.18.0.2", z = "198.18.0.3";
  uint64_t id = Insert(Establish(HalfOpen(x, 11, 1100, y), 22, 2200));
  uint64_t half = Insert(HalfOpen(y, 33, 3300, z));
  InTxn([&](AssociationTxn& txn) {
    auto find = [&](const std::string& s, const std::string& p, uint64_t rid) -> uint64_t {
      absl::StatusOr<std::optional<AssociationRow>> r = txn.FindByRequestId(s, p, rid);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() && r->has_value() ? (*r)->id : 0;
    };
    EXPECT_EQ(find(x, y, 11), id);
    EXPECT_EQ(find(y, x, 22), id);
    EXPECT_EQ(find(x, y, 22), 0u);  // 22 is y's id, not x's
    EXPECT_EQ(find(y, x, 11), 0u);
    EXPECT_EQ(find(z, y, 11), 0u);
    EXPECT_EQ(find(y, z, 33), half);
    EXPECT_EQ(find(z, y, 0), 0u);  // a blank side matches nothing
  });
}

TEST_P(StoreContractTest, FindBySpiWorksFromEitherSide) {
  const std::string x = "198.18.0.1", y = "198.18.0.2", z = "198.18.0.3";
  uint64_t id = Insert(Establish(HalfOpen(x, 11, 1100, y), 22, 2200));
  Insert(HalfOpen(y, 33, 3300, z));
  InTxn([&](AssociationTxn& txn) {
    auto find = [&](const std::string& s, const std::string& p, uint32_t spi) -> uint64_t {
      absl::StatusOr<std::optional<AssociationRow>> r = txn.FindBySpi(s, p, spi);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() && r->has_value() ? (*r)->id : 0;
    };
    EXPECT_EQ(find(x, y, 1100), id);
    EXPECT_EQ(find(y, x, 2200), id);
    EXPECT_EQ(find(x, y, 2200), 0u);
    EXPECT_EQ(find(x, z, 1100), 0u);
    EXPECT_EQ(find(z, y, 0), 0u);  // the blank side's SPI 0 is not an SPI
  });
}

TEST_P(StoreContractTest, FindHalfOpenOnlyBlankSideSameSelectorOldestFirst) {
  const std::string x = "198.18.0.1", y = "198.18.0.2";
  Insert(Establish(HalfOpen(x, 1, 100, y, Sel(6, 443)), 9, 900));  // oldest, but filled
  uint64_t oldest = Insert(HalfOpen(x, 2, 200, y, Sel(6, 443)));
  Insert(HalfOpen(x, 3, 300, y, Sel(6, 443)));
  uint64_t any = Insert(HalfOpen(x, 4, 400, y, Sel()));
  InTxn([&](AssociationTxn& txn) {
    auto find = [&](const std::string& o, const std::string& p, v1::Selector sel) -> uint64_t {
      absl::StatusOr<std::optional<AssociationRow>> r = txn.FindHalfOpen(o, p, sel, "", "");
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() && r->has_value() ? (*r)->id : 0;
    };
    EXPECT_EQ(find(x, y, Sel(6, 443)), oldest);
    EXPECT_EQ(find(x, y, Sel()), any);
    EXPECT_EQ(find(x, y, Sel(6)), 0u);       // exactly the selector, not a cover
    EXPECT_EQ(find(y, x, Sel(6, 443)), 0u);  // y did not open them
  });
}

// Several SPD entries between one pair (an IPv4 and an IPv6 site pair
// behind the same gateways): S9 pairs a request only with the row opened
// for the same inner prefixes, seen from the other side.
TEST_P(StoreContractTest, FindHalfOpenMatchesInnerPrefixes) {
  const std::string x = "198.18.0.1", y = "198.18.0.2";
  AssociationRow v4 = HalfOpen(x, 1, 100, y);
  v4.a_prefix = "198.18.10.0/24";
  v4.b_prefix = "198.18.20.0/24";
  AssociationRow v6 = HalfOpen(x, 2, 200, y);
  v6.a_prefix = "fd00:10::/64";
  v6.b_prefix = "fd00:20::/64";
  uint64_t id4 = Insert(v4);
  uint64_t id6 = Insert(v6);
  uint64_t unstated = Insert(HalfOpen(x, 3, 300, y));
  InTxn([&](AssociationTxn& txn) {
    auto find = [&](const std::string& a, const std::string& b) -> uint64_t {
      absl::StatusOr<std::optional<AssociationRow>> r = txn.FindHalfOpen(x, y, Sel(), a, b);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() && r->has_value() ? (*r)->id : 0;
    };
    EXPECT_EQ(find("fd00:10::/64", "fd00:20::/64"), id6);
    EXPECT_EQ(find("198.18.10.0/24", "198.18.20.0/24"), id4);
    EXPECT_EQ(find("", ""), unstated);
    EXPECT_EQ(find("198.18.20.0/24", "198.18.10.0/24"), 0u);  // reversed: not the same traffic
  });
  absl::StatusOr<std::optional<AssociationRow>> back = stores_.associations->GetAssociation(id6);
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->a_prefix, "fd00:10::/64");
  EXPECT_EQ((*back)->b_prefix, "fd00:20::/64");
}

TEST_P(StoreContractTest, ListEntriesInRowOrderOnlyFilledSides) {
  const std::string x = "198.18.0.1", y = "198.18.0.2", z = "198.18.0.3";
  Insert(Establish(HalfOpen(x, 11, 1001, y), 21, 2001));
  Insert(HalfOpen(y, 22, 2002, x));  // x's side blank
  Insert(HalfOpen(x, 12, 1002, y));
  Insert(HalfOpen(x, 13, 1003, z));
  InTxn([&](AssociationTxn& txn) {
    auto list = [&](const std::string& s, const std::string& p) {
      absl::StatusOr<std::vector<SideEntry>> r = txn.ListEntries(s, p);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? *r : std::vector<SideEntry>();
    };
    EXPECT_EQ(list(x, y), (std::vector<SideEntry>{{11, 1001}, {12, 1002}}));
    EXPECT_EQ(list(y, x), (std::vector<SideEntry>{{21, 2001}, {22, 2002}}));
    EXPECT_EQ(list(x, z), (std::vector<SideEntry>{{13, 1003}}));
    EXPECT_TRUE(list(z, x).empty());
  });
}

TEST_P(StoreContractTest, CountHalfOpenCountsOnlyRowsTheOpenerWaitsOn) {
  const std::string x = "198.18.0.1", y = "198.18.0.2", z = "198.18.0.3";
  Insert(Establish(HalfOpen(x, 11, 1001, y), 21, 2001));  // established: not counted
  Insert(HalfOpen(x, 12, 1002, y));
  Insert(HalfOpen(x, 13, 1003, z));
  Insert(HalfOpen(y, 22, 2002, x));  // opened by y
  InTxn([&](AssociationTxn& txn) {
    auto count = [&](const std::string& a) {
      absl::StatusOr<uint64_t> r = txn.CountHalfOpen(a);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? *r : 999;
    };
    EXPECT_EQ(count(x), 2u);
    EXPECT_EQ(count(y), 1u);
    EXPECT_EQ(count(z), 0u);
  });
}

TEST_P(StoreContractTest, UpdateReplacesRowAndMissingIsNotFound) {
  AssociationRow row = HalfOpen("198.18.0.1", 1, 100, "198.18.0.2");
  row.id = Insert(row);
  row = Establish(row, 2, 200);
  row.startups_sent = 2;
  InTxn([&](AssociationTxn& txn) { ASSERT_TRUE(txn.Update(row).ok()); });
  EXPECT_EQ(Describe(MustGet(row.id)), Describe(row));
  // A NOT_FOUND the function handles does not spoil the transaction.
  uint64_t added = 0;
  InTxn([&](AssociationTxn& txn) {
    AssociationRow gone = row;
    gone.id = row.id + 100;
    EXPECT_EQ(txn.Update(gone).code(), absl::StatusCode::kNotFound);
    added = *txn.Insert(HalfOpen("198.18.0.1", 3, 300, "198.18.0.2"));
  });
  EXPECT_TRUE(associations().GetAssociation(added)->has_value());
  EXPECT_FALSE(associations().GetAssociation(row.id + 100)->has_value());
}

TEST_P(StoreContractTest, DeleteRemovesRowAndMissingIsNotFound) {
  uint64_t id = Insert(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"));
  InTxn([&](AssociationTxn& txn) {
    EXPECT_TRUE(txn.Delete(id).ok());
    EXPECT_EQ(txn.Delete(id).code(), absl::StatusCode::kNotFound);
  });
  EXPECT_FALSE(associations().GetAssociation(id)->has_value());
}

TEST_P(StoreContractTest, DueStartupsEarliestFirstLimitedHalfOpenOnly) {
  auto at = [&](int next, bool established = false) {
    AssociationRow r = HalfOpen("198.18.0.1", 1, 100, "198.18.0.2");
    if (established) r = Establish(r, 2, 200);
    r.next_startup_time = T(next);
    return Insert(r);
  };
  uint64_t t30 = at(30), t10a = at(10), t20 = at(20), t10b = at(10);
  at(100);                      // not due yet
  at(0, /*established=*/true);  // done: no more startups
  InTxn([&](AssociationTxn& txn) {
    auto due = [&](size_t limit) {
      absl::StatusOr<std::vector<AssociationRow>> r = txn.DueStartups(T(50), limit);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? Ids(*r) : std::vector<uint64_t>();
    };
    EXPECT_EQ(due(10), (std::vector<uint64_t>{t10a, t10b, t20, t30}));
    EXPECT_EQ(due(2), (std::vector<uint64_t>{t10a, t10b}));
    EXPECT_TRUE(due(0).empty());
  });
}

TEST_P(StoreContractTest, ExpiredInRowOrderLimited) {
  auto at = [&](absl::Time expire) {
    AssociationRow r = Establish(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"), 2, 200);
    r.expire_time = expire;
    return Insert(r);
  };
  uint64_t first = at(T(10));
  at(absl::InfiniteFuture());
  uint64_t third = at(T(5));
  at(T(60));
  InTxn([&](AssociationTxn& txn) {
    auto expired = [&](size_t limit) {
      absl::StatusOr<std::vector<AssociationRow>> r = txn.Expired(T(10), limit);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? Ids(*r) : std::vector<uint64_t>();
    };
    EXPECT_EQ(expired(10), (std::vector<uint64_t>{first, third}));
    EXPECT_EQ(expired(1), (std::vector<uint64_t>{first}));
  });
}

TEST_P(StoreContractTest, TransactRollsBackOnError) {
  AssociationRow kept = HalfOpen("198.18.0.1", 1, 100, "198.18.0.2");
  kept.id = Insert(kept);
  uint64_t doomed = 0;
  absl::Status s = associations().Transact([&](AssociationTxn& txn) {
    doomed = *txn.Insert(HalfOpen("198.18.0.3", 2, 200, "198.18.0.4"));
    AssociationRow changed = Establish(kept, 5, 500);
    EXPECT_TRUE(txn.Update(changed).ok());
    EXPECT_TRUE(txn.Delete(kept.id).ok());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(s, absl::AbortedError("changed my mind"));
  EXPECT_FALSE(associations().GetAssociation(doomed)->has_value());
  EXPECT_EQ(Describe(MustGet(kept.id)), Describe(kept));
  EXPECT_EQ(associations().ListAssociations("")->size(), 1u);
  // Nothing of the rolled-back transaction survives, its id counter included.
  EXPECT_EQ(Insert(HalfOpen("198.18.0.3", 2, 200, "198.18.0.4")), doomed);
}

TEST_P(StoreContractTest, ListFiltersByEitherSideInIdOrder) {
  uint64_t xy = Insert(HalfOpen("198.18.0.1", 1, 100, "198.18.0.2"));
  uint64_t yz = Insert(HalfOpen("198.18.0.2", 2, 200, "198.18.0.3"));
  uint64_t zw = Insert(HalfOpen("198.18.0.3", 3, 300, "198.18.0.4"));
  EXPECT_EQ(Ids(*associations().ListAssociations("")), (std::vector<uint64_t>{xy, yz, zw}));
  EXPECT_EQ(Ids(*associations().ListAssociations("198.18.0.2")), (std::vector<uint64_t>{xy, yz}));
  EXPECT_EQ(Ids(*associations().ListAssociations("198.18.0.4")), (std::vector<uint64_t>{zw}));
  EXPECT_TRUE(associations().ListAssociations("198.18.0.9")->empty());
}

TEST_P(StoreContractTest, NextDeadlineIsEarliestStartupOrExpiry) {
  EXPECT_EQ(*associations().NextDeadline(), absl::InfiniteFuture());
  AssociationRow half = HalfOpen("198.18.0.1", 1, 100, "198.18.0.2");
  half.next_startup_time = T(5);
  Insert(half);
  EXPECT_EQ(*associations().NextDeadline(), T(5));
  // An established row's leftover next_startup_time does not count.
  AssociationRow done = Establish(HalfOpen("198.18.0.1", 2, 200, "198.18.0.2"), 3, 300);
  done.next_startup_time = T(1);
  done.expire_time = T(50);
  Insert(done);
  EXPECT_EQ(*associations().NextDeadline(), T(5));
  AssociationRow short_lived = HalfOpen("198.18.0.1", 4, 400, "198.18.0.2");
  short_lived.expire_time = T(2);
  Insert(short_lived);
  EXPECT_EQ(*associations().NextDeadline(), T(2));
}

TEST_P(StoreContractTest, ListRowsInTxnByAddressAndOptionallyPeer) {
  const std::string x = "198.18.0.1", y = "198.18.0.2", z = "198.18.0.3";
  uint64_t xy = Insert(Establish(HalfOpen(x, 1, 100, y), 2, 200));
  uint64_t yx = Insert(HalfOpen(y, 3, 300, x));
  uint64_t yz = Insert(HalfOpen(y, 4, 400, z));
  InTxn([&](AssociationTxn& txn) {
    auto ids = [&](const std::string& address, const std::string& peer) {
      absl::StatusOr<std::vector<AssociationRow>> r = txn.ListRows(address, peer);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? Ids(*r) : std::vector<uint64_t>();
    };
    EXPECT_EQ(ids(x, ""), (std::vector<uint64_t>{xy, yx}));
    EXPECT_EQ(ids(y, ""), (std::vector<uint64_t>{xy, yx, yz}));
    EXPECT_EQ(ids(x, y), (std::vector<uint64_t>{xy, yx}));
    EXPECT_EQ(ids(y, x), (std::vector<uint64_t>{xy, yx}));
    EXPECT_EQ(ids(y, z), (std::vector<uint64_t>{yz}));
    EXPECT_TRUE(ids(x, z).empty());
    EXPECT_TRUE(ids("198.18.0.9", "").empty());
  });
  // Every field but the SA parameters: the keys stay sealed in the store.
  AssociationRow stored = MustGet(xy);
  ASSERT_TRUE(stored.a_to_b.has_value());
  stored.a_to_b.reset();
  stored.b_to_a.reset();
  InTxn([&](AssociationTxn& txn) {
    absl::StatusOr<std::vector<AssociationRow>> r = txn.ListRows(x, y);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(Describe((*r)[0]), Describe(stored));
    EXPECT_FALSE((*r)[0].a_to_b.has_value());
    EXPECT_FALSE((*r)[0].b_to_a.has_value());
  });
}

}  // namespace
}  // namespace ikeless::storage::store_test
