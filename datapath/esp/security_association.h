#ifndef IKELESS_DATAPATH_ESP_SECURITY_ASSOCIATION_H_
#define IKELESS_DATAPATH_ESP_SECURITY_ASSOCIATION_H_

// One installed SA: a SAD entry (RFC 4301 §4.4.2; the source's FIG. 17)
// with its keys (an EspTransform), its sequence counter (outbound) or
// anti-replay window (inbound), lifetime and counters, and the per-packet
// ESP processing of RFC 4303 §3.3 (outbound) and §3.4 (inbound).
//
// Pure: no I/O; time comes in as arguments, always readings of one
// monotonic clock (EspEngine passes Clock::Monotonic()): lifetimes are
// intervals from the install, which an NTP step must not move. Not
// thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/address.h"
#include "common/random.h"
#include "datapath/datapath.h"
#include "datapath/esp/esp_packet.h"
#include "datapath/esp/ip_packet.h"
#include "datapath/esp/replay_window.h"
#include "datapath/esp/transform.h"
#include "proto/policy.pb.h"

namespace ikeless::datapath::esp {

// "0x00001001": how logs and errors spell an SPI.
std::string SpiText(uint32_t spi);

class SecurityAssociation {
 public:
  // Validates the parameters (SPI, addresses, mode, replay window, and
  // through MakeTransform the algorithms and key sizes), with errors
  // naming the field. `ordinal` orders installs (make-before-break).
  static absl::StatusOr<std::unique_ptr<SecurityAssociation>> Create(
      uint32_t spd_entry, Direction direction, const v1::SaParameters& params, absl::Time now,
      uint64_t ordinal, RandomSource* random);

  const SaKey& key() const { return key_; }
  uint32_t spi() const { return key_.spi; }
  uint32_t spd_entry() const { return spd_entry_; }
  Direction direction() const { return direction_; }
  bool tunnel() const { return tunnel_; }
  const IpAddress& destination() const { return destination_; }  // the peer, for outbound
  uint64_t ordinal() const { return ordinal_; }
  const SaCounters& counters() const { return counters_; }
  const char* algorithm() const { return transform_->name(); }

  // An outbound SA that a newer one replaced (make-before-break): it sends
  // nothing more and asks for no rekey.
  bool superseded() const { return superseded_; }
  void set_superseded() { superseded_ = true; }

  // RFC 4303 §3.3: encapsulates one IP packet from the TUN into `esp`
  // (SPI onward; the outer IP/UDP header is the sender's job).
  enum class ProtectResult {
    kOk,
    kSeqExhausted,       // §3.3.3: the counter must not cycle; SA is spent
    kTransportFragment,  // transport mode carries whole datagrams only (§3.3.4)
    kError,
  };
  ProtectResult Protect(std::span<const uint8_t> packet, const PacketInfo& info,
                        std::vector<uint8_t>* esp);

  // RFC 4303 §3.4: checks and decrypts one received ESP packet (SPI onward;
  // decrypted in place). On kOk `inner` holds the IP packet for the TUN:
  // the inner packet (tunnel mode) or the payload behind a rebuilt header
  // (transport mode, §3.1.1).
  enum class UnprotectResult {
    kOk,
    kTruncated,
    kMisaligned,
    kReplay,         // duplicate (§3.4.3)
    kTooOld,         // left of the window
    kIntegrity,      // ICV mismatch (§3.4.4)
    kBadPadding,     // pad length or padding octets wrong (§2.4)
    kDummy,          // next header 59 (§2.6)
    kBadNextHeader,  // tunnel mode payload is not IPv4/IPv6
    kError,
  };
  UnprotectResult Unprotect(std::span<uint8_t> packet, std::vector<uint8_t>* inner);

  // RFC 4301 §4.4.2.1 lifetimes by time, bytes and packets, and the
  // sequence space. kSoft is returned once; kHard from then on.
  enum class Expiry { kNone, kSoft, kHard };
  Expiry CheckLifetime(absl::Time now);

  uint64_t next_seq() const { return next_seq_; }
  void set_next_seq_for_testing(uint64_t seq) {
    next_seq_ = seq;
    seq_spent_ = false;
  }

 private:
  SecurityAssociation() = default;

  SaKey key_;
  uint32_t spd_entry_ = 0;
  Direction direction_ = Direction::kOutbound;
  bool tunnel_ = true;
  bool esn_ = true;
  IpAddress source_;
  IpAddress destination_;
  RawAddress raw_source_;
  RawAddress raw_destination_;
  uint64_t ordinal_ = 0;
  std::unique_ptr<EspTransform> transform_;
  EspGeometry geometry_;
  std::optional<ReplayWindow> replay_;  // inbound only
  uint64_t next_seq_ = 1;               // outbound: §3.3.3 starts at 1
  uint64_t max_seq_ = 0;
  bool seq_spent_ = false;  // max_seq_ has been sent
  uint64_t soft_seq_ = 0;
  SaCounters counters_;
  absl::Time soft_time_ = absl::InfiniteFuture();
  absl::Time hard_time_ = absl::InfiniteFuture();
  v1::Lifetime lifetime_;
  bool soft_fired_ = false;
  bool superseded_ = false;
};

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_SECURITY_ASSOCIATION_H_
