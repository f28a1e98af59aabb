#include "datapath/esp/engine_drops.h"

namespace ikeless::datapath::esp {

DropCounts EngineDrops(const EngineStats& s) {
  return {
      // Inbound (RFC 4303 §3.4): failed checks on what arrived.
      {"integrity", s.integrity},
      {"replay", s.replay},
      {"truncated", s.in_truncated},
      {"malformed", s.in_malformed + s.out_malformed},
      {"bad_padding", s.bad_padding},
      {"bad_next_header", s.bad_next_header},
      {"bad_inner", s.bad_inner},
      {"reserved_spi", s.in_reserved_spi},
      {"no_sa", s.unknown_spi},
      {"policy_mismatch", s.policy_mismatch},
      // Outbound: the SPD said no, or the packet could not wait.
      {"no_policy", s.out_no_policy},
      {"discard", s.out_discarded},
      {"held_overflow", s.held_overflow},
      {"held_dropped", s.held_dropped},
      {"seq_exhausted", s.seq_exhausted},
      {"transport_fragment", s.transport_fragments},
  };
}

}  // namespace ikeless::datapath::esp
