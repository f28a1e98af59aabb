#ifndef IKELESS_CONTROLLER_PAIR_ROWS_H_
#define IKELESS_CONTROLLER_PAIR_ROWS_H_

// What the per-pair cap (RequestProcessor::Options::max_rows_per_pair)
// counts. A row is superseded when a newer established row exists for the
// same pair of nodes, selector and inner prefixes: a rekey (FIG. 27) or a
// fresh setup after an agent restart replaced it, and it lives on only
// until its SAs' hard lifetime ends. Superseded rows do not count: a node
// that rekeys often or restarts in a loop is never refused for its
// history, while a node opening rows with fresh ids still is.

#include <cstddef>
#include <vector>

#include "absl/strings/string_view.h"
#include "storage/association.h"

namespace ikeless::controller {

// True if a newer established row in `rows` has `row`'s pair, selector and
// inner prefixes (either orientation). Half-open rows are never superseded.
bool IsSuperseded(const storage::AssociationRow& row,
                  const std::vector<storage::AssociationRow>& rows);

// The rows between `source` and its peer (`rows`, as ListRows(source, peer)
// returns them) that count against the cap: those where `source`'s side is
// filled (as S8's entry list) and that are not superseded.
size_t RowsHeld(const std::vector<storage::AssociationRow>& rows, absl::string_view source);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_PAIR_ROWS_H_
