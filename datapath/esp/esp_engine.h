#ifndef IKELESS_DATAPATH_ESP_ESP_ENGINE_H_
#define IKELESS_DATAPATH_ESP_ESP_ENGINE_H_

// The in-process ESP engine (RFC 4303) that EspDatapath runs on a TUN
// device: SPD and SAD, the packets held while an SA is being set up
// (FIG. 18 S35-S37), packets parked for SPIs not installed yet,
// make-before-break rekeying, lifetimes and counters.
//
// Pure: no sockets or file descriptors. Packets come in through
// ProcessOutbound (an IP packet the kernel routed into the TUN) and
// ProcessInbound (an ESP packet from the network); everything the engine
// wants done is appended to an EngineOutput. Time comes from the injected
// Clock's Monotonic() reading and Tick(): SA lifetimes, switch delays and
// parked packets are intervals of this process, which an NTP step of the
// wall clock must not move (issue #12 point 4). CBC IVs from the injected
// RandomSource.
//
// Not thread-safe: EspDatapath serialises all calls.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/address.h"
#include "common/clock.h"
#include "common/random.h"
#include "datapath/datapath.h"
#include "datapath/esp/security_association.h"
#include "datapath/esp/spd.h"
#include "proto/policy.pb.h"

namespace ikeless::datapath::esp {

struct EngineOptions {
  // FIG. 18 S35: packets held per SPD entry while its SA is set up.
  size_t max_held_per_entry = 64;
  // ESP packets kept for an SPI that is not installed yet (the peer's first
  // packet may beat our InstallSa by a few microseconds), and for how long.
  size_t max_parked = 64;
  absl::Duration park_time = absl::Seconds(1);
  // Make-before-break: a new outbound SA takes over at the latest this long
  // after it was installed (datapath.h, InstallSa).
  absl::Duration switch_delay = absl::Seconds(1);
};

// An ESP packet (SPI onward) for a peer node.
struct NetworkPacket {
  IpAddress destination;  // the SA's destination address
  std::vector<uint8_t> esp;
};

// What engine calls produced, each list in order.
struct EngineOutput {
  std::vector<NetworkPacket> to_network;     // ESP packets to send
  std::vector<std::vector<uint8_t>> to_tun;  // decrypted IP packets for the local stack
  std::vector<std::vector<uint8_t>> bypass;  // SPD bypass: send in the clear, around the TUN
  std::vector<DatapathEvent> events;         // for the agent

  bool empty() const {
    return to_network.empty() && to_tun.empty() && bypass.empty() && events.empty();
  }
  void clear() {
    to_network.clear();
    to_tun.clear();
    bypass.clear();
    events.clear();
  }
};

// Engine-wide counters (per-SA ones are SaCounters).
struct EngineStats {
  // From the TUN.
  uint64_t out_malformed = 0;  // not a valid IP packet
  uint64_t out_no_policy = 0;  // matched no SPD entry: dropped
  uint64_t out_discarded = 0;  // SPD action discard
  uint64_t out_bypassed = 0;
  uint64_t out_protected = 0;
  uint64_t held = 0;           // queued for an SA (S35)
  uint64_t held_overflow = 0;  // dropped: the entry's queue was full
  uint64_t held_released = 0;  // sent after the SA arrived (S36)
  uint64_t held_dropped = 0;   // DropHeld (S37), policy removed, or no SA at release
  uint64_t acquires = 0;
  uint64_t transport_fragments = 0;  // fragments cannot use transport mode
  uint64_t seq_exhausted = 0;
  uint64_t out_errors = 0;
  // From the network.
  uint64_t in_malformed = 0;     // shorter than an ESP header
  uint64_t in_reserved_spi = 0;  // SPI 0-255
  uint64_t parked = 0;
  uint64_t unparked = 0;     // parked, then their SA arrived
  uint64_t unknown_spi = 0;  // parked too long or evicted: dropped
  uint64_t in_truncated = 0;
  uint64_t replay = 0;
  uint64_t integrity = 0;
  uint64_t bad_padding = 0;
  uint64_t dummy = 0;
  uint64_t bad_next_header = 0;
  uint64_t bad_inner = 0;        // decrypted payload is no valid IP packet
  uint64_t policy_mismatch = 0;  // RFC 4301 §5.2: not what the SA's SPD entry allows
  uint64_t in_delivered = 0;
  uint64_t in_errors = 0;
};

class EspEngine {
 public:
  // `clock` and `random` must outlive the engine.
  EspEngine(Clock* clock, RandomSource* random, EngineOptions options = {});

  // The Datapath operations (datapath.h documents them).
  absl::Status SetPolicies(const std::vector<SpdEntry>& entries);
  absl::Status InstallSa(uint32_t spd_entry, Direction direction, const v1::SaParameters& sa,
                         EngineOutput* out);
  absl::Status RemoveSa(Direction direction, const SaKey& key);
  void ReleaseHeld(uint32_t spd_entry, EngineOutput* out);
  void DropHeld(uint32_t spd_entry);
  absl::StatusOr<SaCounters> Counters(Direction direction, const SaKey& key) const;

  // An IP packet the kernel routed into the TUN.
  void ProcessOutbound(std::span<const uint8_t> packet, EngineOutput* out);
  // An ESP packet (SPI onward) from the network; decrypted in place.
  void ProcessInbound(std::span<uint8_t> packet, EngineOutput* out);
  // Lifetimes by time, parked packets, make-before-break delays. `now` is
  // the engine's clock's Monotonic() reading, never its wall time.
  void Tick(absl::Time now, EngineOutput* out);

  const EngineStats& stats() const { return stats_; }
  size_t held_count(uint32_t spd_entry) const;
  size_t parked_count() const { return parked_.size(); }
  // The SPI of the outbound SA carrying the entry's traffic; 0 if none.
  uint32_t active_outbound_spi(uint32_t spd_entry) const;
  absl::Status SetNextSequenceForTesting(const SaKey& outbound, uint64_t seq);

 private:
  // Per SPD entry id.
  struct Entry {
    std::deque<std::vector<uint8_t>> held;
    bool acquiring = false;  // kAcquire raised, no SA yet
    SecurityAssociation* active = nullptr;   // outbound SA in use
    SecurityAssociation* pending = nullptr;  // its make-before-break successor
    absl::Time pending_since;
    SecurityAssociation* newest_inbound = nullptr;
  };
  struct Parked {
    absl::Time arrived;
    uint32_t spi;
    std::vector<uint8_t> packet;
  };
  using OutboundKey = std::pair<std::string, uint32_t>;

  void Hold(uint32_t id, Entry& entry, std::span<const uint8_t> packet, EngineOutput* out);
  void FlushHeld(uint32_t id, Entry& entry, EngineOutput* out);
  void Send(uint32_t id, Entry& entry, std::span<const uint8_t> packet, const PacketInfo& info,
            EngineOutput* out);
  void Deliver(SecurityAssociation* sa, std::span<uint8_t> packet, EngineOutput* out);
  void Park(uint32_t spi, std::span<const uint8_t> packet);
  void Unpark(uint32_t spi, EngineOutput* out);
  // Delivers every parked packet whose inbound SA is now installed.
  void UnparkInstalled(EngineOutput* out);
  static bool PeerReady(const Entry& entry);
  void Switch(uint32_t id, Entry& entry);
  void HandleExpiry(SecurityAssociation* sa, SecurityAssociation::Expiry expiry,
                    EngineOutput* out);
  void Remove(SecurityAssociation* sa);
  SecurityAssociation* FindSa(Direction direction, const SaKey& key) const;

  Clock* clock_;
  RandomSource* random_;
  EngineOptions options_;
  Spd spd_;
  std::unordered_map<uint32_t, Entry> entries_;  // references stay valid on insert
  std::unordered_map<uint32_t, std::unique_ptr<SecurityAssociation>> inbound_;  // by SPI
  std::map<OutboundKey, std::unique_ptr<SecurityAssociation>> outbound_;
  std::deque<Parked> parked_;
  absl::Time now_;  // latest monotonic time seen (Tick, installs)
  uint64_t next_ordinal_ = 1;
  EngineStats stats_;
};

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_ESP_ENGINE_H_
