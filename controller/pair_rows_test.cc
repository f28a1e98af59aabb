// What the per-pair cap counts: superseded rows (a newer established row
// for the same pair, selector and inner prefixes) do not.
#include "controller/pair_rows.h"

#include <vector>

#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

using storage::AssociationRow;

constexpr char kX[] = "198.18.1.1";
constexpr char kY[] = "198.18.2.1";

AssociationRow Row(uint64_t id, const char* a, const char* b, bool established,
                   int64_t established_at = 0) {
  AssociationRow r;
  r.id = id;
  r.a = {a, 100 + id, static_cast<uint32_t>(1000 + id)};
  r.b = {b, established ? 200 + id : 0, established ? static_cast<uint32_t>(2000 + id) : 0};
  if (established) r.establish_time = absl::FromUnixSeconds(established_at);
  return r;
}

TEST(PairRows, OlderEstablishedRowsOfTheSameTrafficAreSuperseded) {
  std::vector<AssociationRow> rows = {Row(1, kX, kY, true, 10), Row(2, kY, kX, true, 20),
                                      Row(3, kX, kY, true, 30)};
  EXPECT_TRUE(IsSuperseded(rows[0], rows));
  EXPECT_TRUE(IsSuperseded(rows[1], rows));  // whoever opened it
  EXPECT_FALSE(IsSuperseded(rows[2], rows));
  EXPECT_EQ(RowsHeld(rows, kX), 1u);
  EXPECT_EQ(RowsHeld(rows, kY), 1u);
}

TEST(PairRows, OtherSelectorsOrPrefixesAreNotSuperseded) {
  std::vector<AssociationRow> rows = {Row(1, kX, kY, true, 10), Row(2, kX, kY, true, 20),
                                      Row(3, kX, kY, true, 30)};
  rows[1].selector.set_protocol(6);
  rows[2].a_prefix = "198.18.10.0/24";
  rows[2].b_prefix = "198.18.20.0/24";
  EXPECT_EQ(RowsHeld(rows, kX), 3u);
  // The same prefixes seen from the other side are the same traffic.
  AssociationRow mirrored = Row(4, kY, kX, true, 40);
  mirrored.a_prefix = "198.18.20.0/24";
  mirrored.b_prefix = "198.18.10.0/24";
  rows.push_back(mirrored);
  EXPECT_TRUE(IsSuperseded(rows[2], rows));
  EXPECT_EQ(RowsHeld(rows, kX), 3u);
}

TEST(PairRows, HalfOpenRowsAlwaysCountForTheirOpener) {
  std::vector<AssociationRow> rows = {Row(1, kX, kY, true, 10), Row(2, kX, kY, false),
                                      Row(3, kX, kY, false)};
  EXPECT_FALSE(IsSuperseded(rows[1], rows));
  EXPECT_EQ(RowsHeld(rows, kX), 3u);
  EXPECT_EQ(RowsHeld(rows, kY), 1u);  // its side of the half-open rows is blank
}

TEST(PairRows, TiesInEstablishTimeGoToTheHigherId) {
  std::vector<AssociationRow> rows = {Row(1, kX, kY, true, 10), Row(2, kX, kY, true, 10)};
  EXPECT_TRUE(IsSuperseded(rows[0], rows));
  EXPECT_FALSE(IsSuperseded(rows[1], rows));
  EXPECT_EQ(RowsHeld(rows, kX), 1u);
  EXPECT_EQ(RowsHeld({}, kX), 0u);
}

}  // namespace
}  // namespace ikeless::controller
