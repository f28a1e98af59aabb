// operator_effort: what an operator types for an n-node full mesh of
// gateways, counted honestly, next to the source's formulas (reference text
// after FIG. 24 and after FIG. 30: one IPsec policy or one IKE policy = 1
// setting) and IKE.
//
// Ours, since the controller derives and pushes every node's SPD
// (DESIGN.md "Policy is the whole configuration"):
//   - on the controller: one `ipsecctl nodes add NAME --address A --site P`
//     per node and one policy (`ipsecctl policy add mesh --between '*' '*'`):
//     n + 1 settings;
//   - on each node: its agent config, 5 fixed lines (node_name, controller,
//     addresses, tls, datapath) whatever n is, no line per peer (before the
//     push: n - 1 `spd` rules more in every file).
// The agent file is counted separately: it says who the node is and where
// its controller is, which every design needs once per node; the source's
// own formula counts it too (its "2 settings per node").
#include <cstdint>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "bench/text_table.h"

namespace ikeless::bench {
namespace {

constexpr int64_t kAgentConfigLines = 5;

int Run() {
  TextTable table({"n", "controller: nodes + policy", "agent files (lines)",
                   "per-peer lines", "before push: SPD rules", "source: n(n+7)/2",
                   "IKE mesh: 2n(n-1)"});
  for (int64_t n : {2, 5, 10, 20, 50, 100, 1000}) {
    table.AddRow({absl::StrCat(n), absl::StrCat(n + 1),
                  absl::StrCat(n, " (", kAgentConfigLines * n, ")"), "0",
                  absl::StrCat(n * (n - 1)), absl::StrCat(n * (n + 7) / 2),
                  absl::StrCat(2 * n * (n - 1))});
  }
  std::printf("operator_effort: what is typed for an n-node full mesh of gateways\n\n");
  std::fputs(table.Render().c_str(), stdout);
  std::printf(
      "\ncontroller: `ipsecctl nodes add` per node + one wildcard policy = n + 1 settings "
      "(target n + 1: met).\nEach node also has its own agent file of %lld fixed lines "
      "(identity, controller, TLS, datapath);\nit never names a peer, so adding node n+1 "
      "touches no other node. Before the controller pushed\nSPDs every file also held "
      "n - 1 `spd` rules: n(n-1) in all.\n",
      static_cast<long long>(kAgentConfigLines));
  return 0;
}

}  // namespace
}  // namespace ikeless::bench

int main() { return ikeless::bench::Run(); }
