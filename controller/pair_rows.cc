#include "controller/pair_rows.h"

#include <map>
#include <string>
#include <tuple>

namespace ikeless::controller {
namespace {

using storage::AssociationRow;

// (lower address, its prefix, higher address, its prefix, protocol, port):
// the same for a row and the rows that replace it, whoever opened them.
std::tuple<std::string, std::string, std::string, std::string, uint32_t, uint32_t> KeyOf(
    const AssociationRow& row) {
  const bool a_first = row.a.address < row.b.address;
  return {a_first ? row.a.address : row.b.address, a_first ? row.a_prefix : row.b_prefix,
          a_first ? row.b.address : row.a.address, a_first ? row.b_prefix : row.a_prefix,
          row.selector.protocol(), row.selector.port()};
}

// Established later (row ids break ties: they only grow).
bool Newer(const AssociationRow& x, const AssociationRow& y) {
  return std::tie(x.establish_time, x.id) > std::tie(y.establish_time, y.id);
}

}  // namespace

bool IsSuperseded(const AssociationRow& row, const std::vector<AssociationRow>& rows) {
  if (!row.established()) return false;
  const auto key = KeyOf(row);
  for (const AssociationRow& other : rows) {
    if (other.id != row.id && other.established() && Newer(other, row) && KeyOf(other) == key) {
      return true;
    }
  }
  return false;
}

size_t RowsHeld(const std::vector<AssociationRow>& rows, absl::string_view source) {
  // The newest established row per key, in one pass: superseded rows are
  // not bounded by the cap (one per rekey), so no pass over pairs of rows.
  std::map<decltype(KeyOf(rows.front())), const AssociationRow*> newest;
  for (const AssociationRow& row : rows) {
    if (!row.established()) continue;
    const AssociationRow*& n = newest[KeyOf(row)];
    if (n == nullptr || Newer(row, *n)) n = &row;
  }
  size_t held = 0;
  for (const AssociationRow& row : rows) {
    const storage::AssociationSide& mine = row.a.address == source ? row.a : row.b;
    if (!mine.filled()) continue;
    if (row.established() && newest[KeyOf(row)] != &row) continue;  // superseded
    ++held;
  }
  return held;
}

}  // namespace ikeless::controller
