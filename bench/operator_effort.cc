// operator_effort: the settings an operator types for an n-node full mesh,
// counted the way the source counts them (reference text after FIG. 24 and
// after FIG. 30: one IPsec policy or one IKE policy = 1 setting), next to
// ours. Ours: one wildcard policy (`ipsecctl policy add mesh --between
// 198.18.0.0/15 198.18.0.0/15`) plus one agent config file per node
// (agent/config.proto: node name, controller, addresses) = n + 1.
//
// Neither count includes the per-peer SPD entries: the source's nodes carry
// an "opposite party address for setting request" per destination (FIG. 15),
// and our SpdRule.setup_peer names one peer, so a full mesh also needs n - 1
// PROTECT rules in each config file. They are shown in their own column.
#include <cstdint>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "bench/text_table.h"

namespace ikeless::bench {
namespace {

int Run() {
  TextTable table({"n", "ours: n configs + 1 policy", "source: n(n+7)/2", "source, wildcard: 4n+1",
                   "IKE mesh: 2n(n-1)", "(SPD rules in our configs: n(n-1))"});
  for (int64_t n : {2, 5, 10, 20, 50, 100}) {
    table.AddRow({absl::StrCat(n), absl::StrCat(n + 1), absl::StrCat(n * (n + 7) / 2),
                  absl::StrCat(4 * n + 1), absl::StrCat(2 * n * (n - 1)),
                  absl::StrCat(n * (n - 1))});
  }
  std::printf(
      "operator_effort: settings typed for an n-node full mesh (the source's unit: one "
      "policy or one node's controller settings = 1)\n\n");
  std::fputs(table.Render().c_str(), stdout);
  std::printf(
      "\nours: `ipsecctl policy add mesh --between 198.18.0.0/15 198.18.0.0/15` once, and per "
      "node one agent config\n(node_name, controller, addresses). The source needs 2 settings "
      "per node (IPsec + IKE policy to the server),\n2 per node on the server, and n(n-1)/2 "
      "pair policies or 1 wildcard policy. Per-peer SPD entries are counted\nby neither "
      "source formula; ours need one PROTECT rule per peer (setup_peer names one address).\n");
  return 0;
}

}  // namespace
}  // namespace ikeless::bench

int main() { return ikeless::bench::Run(); }
