#ifndef IKELESS_DATAPATH_ESP_ESP_DATAPATH_H_
#define IKELESS_DATAPATH_ESP_ESP_DATAPATH_H_

// The Datapath backend that runs the in-process ESP engine (esp_engine.h) on
// a TUN device. The I/O edge: it owns the TUN, the socket ESP travels on —
// UDP (RFC 3948, port 4500) or raw IP protocol 50 — raw sockets for SPD
// bypass, and one I/O thread that polls them, runs the engine, ticks it,
// and calls the event sink.
//
// Operator's side: route the traffic to protect into the TUN (tunnel mode:
// the peer's private prefix; transport mode: the peer's address, with an
// `ip rule` that excludes `socket_mark` so the engine's own ESP packets go
// around the TUN). The engine's sockets carry SO_MARK `socket_mark`.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "datapath/datapath.h"
#include "datapath/esp/esp_engine.h"
#include "datapath/esp/tun_device.h"

namespace ikeless::datapath::esp {

class EspDatapath final : public Datapath {
 public:
  enum class Encapsulation {
    kUdp,    // ESP in UDP (RFC 3948): works through NAT and plain firewalls
    kRawIp,  // IP protocol 50 (RFC 4303 as is)
  };

  struct Options {
    std::string tun_name = "ikeless0";
    int mtu = 1400;  // TUN MTU: 1400 + ESP/UDP/IPv6 overhead (~90) < 1500
    Encapsulation encapsulation = Encapsulation::kUdp;
    // Local address of the ESP socket(s); "" = every address, both families.
    std::string bind_address;
    uint16_t udp_port = 4500;       // local ESP-in-UDP port; 0 = pick one (tests)
    uint16_t peer_udp_port = 4500;  // where outbound ESP-in-UDP goes
    uint32_t socket_mark = 0x4500;  // SO_MARK of the engine's sockets; 0 = none
    bool bypass_sockets = true;     // raw sockets for SPD bypass (else bypass = drop)
    int socket_buffer_bytes = 4 << 20;
    absl::Duration tick_interval = absl::Milliseconds(100);
    EngineOptions engine;
    Clock* clock = nullptr;          // default: the system clock
    RandomSource* random = nullptr;  // default: CryptoRandom (CBC IVs)
  };

  // Opens the TUN and sockets and starts the I/O thread. Errors name the
  // step and the fix ("cannot open /dev/net/tun: ...", "TUN needs
  // CAP_NET_ADMIN: ...", "cannot bind ESP-in-UDP socket to [::]:4500: ...").
  static absl::StatusOr<std::unique_ptr<EspDatapath>> Create(Options options);
  ~EspDatapath() override;  // stops the thread; the TUN disappears

  // Datapath.
  v1::Capabilities capabilities() const override;
  absl::Status SetPolicies(const std::vector<SpdEntry>& entries) override;
  absl::Status InstallSa(uint32_t spd_entry, Direction direction,
                         const v1::SaParameters& sa) override;
  absl::Status RemoveSa(Direction direction, const SaKey& key) override;
  void ReleaseHeld(uint32_t spd_entry) override;
  void DropHeld(uint32_t spd_entry) override;
  absl::StatusOr<SaCounters> Counters(Direction direction, const SaKey& key) override;
  DropCounts Drops() override;
  void SetEventSink(std::function<void(const DatapathEvent&)> sink) override;

  // Counters of the I/O edge.
  struct IoStats {
    uint64_t tun_rx = 0;  // packets read from the TUN
    uint64_t tun_tx = 0;
    uint64_t tun_tx_errors = 0;
    uint64_t net_rx = 0;  // ESP packets received
    uint64_t net_tx = 0;
    uint64_t net_tx_errors = 0;
    uint64_t non_esp = 0;  // UDP payloads that are not ESP (RFC 3948 §2.2/§2.3)
    uint64_t net_rx_truncated = 0;  // datagrams larger than a 9000-byte MTU allows
    uint64_t bypass_tx = 0;
    uint64_t bypass_errors = 0;
  };
  IoStats io_stats() const;
  EngineStats engine_stats() const;
  const std::string& tun_name() const { return tun_->name(); }
  uint16_t local_port() const { return local_port_; }  // the bound UDP port

 private:
  EspDatapath(Options options, std::unique_ptr<TunDevice> tun);
  absl::Status OpenSockets();
  void Run();
  struct ReceiveBatch;  // esp_datapath_io.cc
  void ReadTun(std::vector<uint8_t>& buffer);
  void ReadNetwork(int fd, ReceiveBatch& batch);
  void SendEspUdp(const std::vector<NetworkPacket>& packets);
  void Flush(EngineOutput& batch, std::vector<DatapathEvent>& undelivered);
  void SendEspRaw(const NetworkPacket& p);
  void SendBypass(const std::vector<uint8_t>& packet);
  void LogIoError(const char* event, int err);
  void Wake();

  const Options options_;
  Clock* const clock_;
  std::unique_ptr<TunDevice> tun_;
  int udp_fd_ = -1;
  int udp_family_ = 0;
  int raw4_fd_ = -1;
  int raw6_fd_ = -1;
  int bypass4_fd_ = -1;
  int bypass6_fd_ = -1;
  int wake_fd_ = -1;
  uint16_t local_port_ = 0;

  mutable absl::Mutex mu_;
  EspEngine engine_ ABSL_GUARDED_BY(mu_);
  // What engine calls produced, for the I/O thread to send and report.
  EngineOutput pending_ ABSL_GUARDED_BY(mu_);

  absl::Mutex sink_mu_;
  std::function<void(const DatapathEvent&)> sink_ ABSL_GUARDED_BY(sink_mu_);

  struct AtomicIoStats {
    std::atomic<uint64_t> tun_rx{0}, tun_tx{0}, tun_tx_errors{0}, net_rx{0}, net_tx{0},
        net_tx_errors{0}, non_esp{0}, net_rx_truncated{0}, bypass_tx{0}, bypass_errors{0};
  };
  AtomicIoStats io_;
  std::map<std::string, absl::Time> last_error_log_;  // I/O thread only

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_ESP_DATAPATH_H_
