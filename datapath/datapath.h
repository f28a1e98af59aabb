#ifndef IKELESS_DATAPATH_DATAPATH_H_
#define IKELESS_DATAPATH_DATAPATH_H_

// The one SA/SPD programming interface of a node, with two backends: the
// in-process ESP engine on a TUN device (datapath/esp/) and kernel XFRM
// (datapath/xfrm/). The agent (agent/agent_core.h) drives it
// and never knows which backend it has.
//
// The source's IPsec processing section (FIG. 14/18): an SPD (FIG. 15) whose
// entries may name a `setup_peer` (the "opposite party address for setting
// request"), and an SAD (FIG. 17).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/agent.pb.h"
#include "proto/policy.pb.h"

namespace ikeless::datapath {

enum class Direction { kInbound, kOutbound };

// "in" / "out", for logs and errors of either backend.
inline const char* DirectionName(Direction d) { return d == Direction::kInbound ? "in" : "out"; }

// One SPD entry (FIG. 15): which traffic, what to do with it, and whom to ask.
struct SpdEntry {
  enum class Action { kBypass, kDiscard, kProtect };

  uint32_t id = 0;                 // unique within the node, > 0
  std::string name;                // operator's label
  std::string local_prefix;        // inner source, canonical CIDR ("198.18.10.0/24")
  std::string remote_prefix;       // inner destination
  uint32_t protocol = 0;           // IP protocol; 0 = any
  uint32_t port = 0;               // remote port for TCP/UDP; 0 = any
  Action action = Action::kProtect;
  // FIG. 15 "opposite party address for setting request": the peer node's
  // address to ask the controller about. Empty: conventional IPsec (S33).
  std::string setup_peer;
  std::string local_address;       // our node address: request source, outer source
};

// Identifies an installed SA: inbound SAs by (destination = us, SPI),
// outbound by (destination = peer, SPI).
struct SaKey {
  std::string destination;
  uint32_t spi = 0;
  friend bool operator==(const SaKey& a, const SaKey& b) {
    return a.spi == b.spi && a.destination == b.destination;
  }
};

struct SaCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t replay_drops = 0;        // inbound
  uint64_t integrity_failures = 0;  // inbound
};

// Dropped packets by reason, cumulative: "integrity", "replay", ...
using DropCounts = std::map<std::string, uint64_t>;

// Something the datapath tells the agent.
struct DatapathEvent {
  enum class Kind {
    kAcquire,     // S35: a packet for `spd_entry` is held; it has no SA
    kSoftExpire,  // rekey now (time, bytes or packets)
    kHardExpire,  // the SA is gone
  };
  Kind kind;
  uint32_t spd_entry = 0;
  Direction direction = Direction::kOutbound;  // expire events
  SaKey sa;                                    // expire events
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  // What this backend can do (sent to the controller in Hello).
  virtual v1::Capabilities capabilities() const = 0;

  // Replaces the SPD. The first entry in list order that matches wins
  // (RFC 4301 §4.4.1), whatever the ids. Entries with action kProtect and no
  // SA hold their first packets and raise kAcquire once per entry until an
  // SA arrives or DropHeld() is called.
  //
  // Called again at run time (the controller pushes SPD revisions), it is
  // never a flush: entries that stay (same id) keep their SAs and flows;
  // packets held for entries that are gone are dropped; the SAs of entries
  // that are gone stay installed, carrying nothing, until RemoveSa().
  virtual absl::Status SetPolicies(const std::vector<SpdEntry>& entries) = 0;

  // S45/S57: installs one direction's SA for `spd_entry` (idempotent for the
  // same SPI). Inbound SAs are added; a new outbound SA replaces the entry's
  // current one make-before-break: it takes over once a packet has arrived
  // on an inbound SA installed after the current outbound SA, or after the
  // backend's switch delay, whichever comes first. Lifetimes in `sa` raise
  // kSoftExpire/kHardExpire; a hard-expired SA is removed by the datapath.
  virtual absl::Status InstallSa(uint32_t spd_entry, Direction direction,
                                 const v1::SaParameters& sa) = 0;

  // Removes an SA; NOT_FOUND if absent.
  virtual absl::Status RemoveSa(Direction direction, const SaKey& key) = 0;

  // S36: send the packets held for `spd_entry` (its outbound SA is in).
  virtual void ReleaseHeld(uint32_t spd_entry) = 0;
  // S37: drop them (setup failed); the next packet raises kAcquire again.
  virtual void DropHeld(uint32_t spd_entry) = 0;

  virtual absl::StatusOr<SaCounters> Counters(Direction direction, const SaKey& key) = 0;

  // Packets dropped since the datapath started, by reason (drop_reasons.h
  // names them); reasons never seen may be absent. The agent reports them to
  // the controller and logs what is new.
  virtual DropCounts Drops() = 0;

  // Where events go. Called from the datapath's own thread; the sink must
  // not call back into the datapath synchronously.
  virtual void SetEventSink(std::function<void(const DatapathEvent&)> sink) = 0;
};

}  // namespace ikeless::datapath

#endif  // IKELESS_DATAPATH_DATAPATH_H_
