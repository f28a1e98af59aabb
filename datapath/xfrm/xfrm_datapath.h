#ifndef IKELESS_DATAPATH_XFRM_XFRM_DATAPATH_H_
#define IKELESS_DATAPATH_XFRM_XFRM_DATAPATH_H_

// The Datapath backend on kernel XFRM: the kernel carries ESP, this class
// programs it over NETLINK_XFRM and turns its messages into the agent's
// events. The source maps one to one:
//   - FIG. 18 S35 "suspend and ask": an out policy with a required ESP
//     template and no state makes the kernel send ACQUIRE -> kAcquire. With
//     hold_first_packets the kernel queues forwarded packets meanwhile
//     (net.core.xfrm_larval_drop = 0) and sends them once the state is in;
//     a local socket sees EAGAIN instead and retries. ReleaseHeld is the
//     kernel's own doing; after DropHeld (S37) the kernel asks again once
//     its pending acquire expires (net.core.xfrm_acq_expires, set to
//     acquire_expires).
//   - soft EXPIRE -> kSoftExpire (rekey), hard EXPIRE -> kHardExpire (the
//     kernel already removed the state).
// Make-before-break as the interface asks: a new outbound SA is written to
// the kernel once a packet arrived on an inbound SA installed after the
// current outbound one, or after switch_delay. The kernel then prefers it
// (the newest state for a template).
//
// A new SPD (SetPolicies) is applied as a difference, never a flush:
// policies that did not change are not sent again, new and changed ones go
// in before the ones no longer wanted are removed (traffic never falls
// between two policies), and the SAs of entries that stay are untouched.
// The states of an entry that left stay until RemoveSa removes them.
//
// Ownership: see xfrm_spd.h. One instance per network namespace (an
// abstract UNIX socket is the lock). Stale policies and
// states of ours (a crash) are removed at Create; everything of ours is
// removed on destruction. Lost kernel events (a full socket buffer) are
// recovered by comparing our SAs with a state dump.
//
// Limits: policies apply whatever the routing, so an SPD rule covering the
// controller's address must be preceded by a BYPASS rule for it; the
// sysctls above are per namespace, shared with any other IPsec daemon in it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "datapath/datapath.h"
#include "datapath/xfrm/xfrm_socket.h"
#include "datapath/xfrm/xfrm_spd.h"

namespace ikeless::datapath::xfrm {

class XfrmDatapath final : public Datapath {
 public:
  struct Options {
    SpdMapping mapping;
    // RFC 3948 ESP in UDP on this port (both ends), as the engine's default;
    // 0 = raw ESP (IP protocol 50).
    uint16_t udp_port = 4500;
    bool hold_first_packets = true;  // sets net.core.xfrm_larval_drop = 0
    // net.core.xfrm_acq_expires: how long the kernel waits on one ACQUIRE
    // before asking again (kernel default 30 s). 0 leaves it alone.
    int acquire_expires_seconds = 5;
    // Runs on the clock's Monotonic() reading, so that an NTP step moves no
    // pending switch. The SAs' own lifetimes are the kernel's business
    // (XFRM_MSG_NEWSA's lifetime_cfg counts seconds since the state was
    // added, on the kernel's own clock).
    absl::Duration switch_delay = absl::Seconds(1);
    absl::Duration poll_interval = absl::Milliseconds(50);
    Clock* clock = nullptr;  // default: the system clock
  };

  // Takes the instance lock (FAILED_PRECONDITION if another instance runs
  // in this namespace), opens the netlink sockets
  // (and the UDP encapsulation socket), removes stale state of ours, probes
  // ESP support (logs a warning if absent) and starts the event thread.
  static absl::StatusOr<std::unique_ptr<XfrmDatapath>> Create(Options options);
  ~XfrmDatapath() override;

  // Datapath.
  v1::Capabilities capabilities() const override;
  absl::Status SetPolicies(const std::vector<SpdEntry>& entries) override;
  absl::Status InstallSa(uint32_t spd_entry, Direction direction,
                         const v1::SaParameters& sa) override;
  absl::Status RemoveSa(Direction direction, const SaKey& key) override;
  void ReleaseHeld(uint32_t spd_entry) override;  // the kernel sends its queue itself
  void DropHeld(uint32_t spd_entry) override;     // the kernel drops it after xfrm_acq_expires
  absl::StatusOr<SaCounters> Counters(Direction direction, const SaKey& key) override;
  // The namespace's /proc/net/xfrm_stat (xfrm_stat.h): the kernel counts for
  // every SA there, ours and others'.
  DropCounts Drops() override;
  void SetEventSink(std::function<void(const DatapathEvent&)> sink) override;

  // OK if this kernel can hold an AES-GCM ESP state between the two
  // addresses (adds one and removes it); otherwise FAILED_PRECONDITION that
  // says which kernel part is missing and what to use instead.
  absl::Status ProbeEsp(const std::string& source, const std::string& destination);

 private:
  struct Entry {
    SpdEntry spd;
    bool tunnel = true;
    uint32_t position = 0;             // in the SPD list, 1-based: its priority
    std::vector<PolicySpec> policies;  // as wanted
  };
  struct Sa {
    uint32_t entry = 0;
    Direction direction = Direction::kOutbound;
    uint64_t order = 0;  // install order, for make-before-break
  };
  struct PendingOutbound {
    struct Wipe {
      void operator()(v1::SaParameters* sa) const;
    };
    std::unique_ptr<v1::SaParameters, Wipe> sa;  // keys wiped when dropped
    absl::Time deadline;  // a Monotonic() reading
    uint64_t after = 0;  // inbound SAs with a larger order may trigger it
  };
  using SaId = std::pair<std::string, uint32_t>;  // destination, SPI

  XfrmDatapath(Options options, int instance_lock, XfrmSocket requests, XfrmSocket events);
  absl::Status OpenEncapSockets();
  // Ours and of `direction`, by canonical destination; nullptr otherwise.
  const Sa* FindSaLocked(Direction direction, const SaId& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops an SA the kernel no longer has from our books (and as the entry's
  // current outbound one, so a pending successor goes in at once).
  std::map<SaId, Sa>::iterator ForgetSaLocked(std::map<SaId, Sa>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After lost EXPIRE messages: hard for SAs the kernel no longer has, soft
  // for those past a soft limit.
  void ResyncLocked(std::vector<DatapathEvent>& events) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SweepOwnedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteStateLocked(uint32_t spd_entry, Direction direction, const v1::SaParameters& sa)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SetModeLocked(Entry& entry, bool tunnel) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `policy` unless the kernel has it already, as it is.
  absl::Status PutPolicyLocked(const PolicySpec& policy) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RemovePolicyLocked(const PolicySpec& policy) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `now` is options_.clock->Monotonic().
  void SwitchDueLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Run();
  void OnKernelMessage(const nlmsghdr* message, std::vector<DatapathEvent>& events);
  void Deliver(const std::vector<DatapathEvent>& events);

  const Options options_;
  const int instance_lock_;
  std::vector<int> encap_fds_;
  bool started_ = false;  // Create completed: the destructor may sweep

  mutable absl::Mutex mu_;
  XfrmSocket requests_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Every policy of ours the kernel has, by slot (what SetPolicies diffs).
  std::map<PolicySlot, PolicySpec> installed_ ABSL_GUARDED_BY(mu_);
  std::map<SaId, Sa> sas_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, SaId> current_outbound_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, PendingOutbound> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_order_ ABSL_GUARDED_BY(mu_) = 1;
  // Events made outside the event thread, delivered by it.
  std::vector<DatapathEvent> undelivered_ ABSL_GUARDED_BY(mu_);

  absl::Mutex sink_mu_;
  std::function<void(const DatapathEvent&)> sink_ ABSL_GUARDED_BY(sink_mu_);

  XfrmSocket events_;  // event thread only
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace ikeless::datapath::xfrm

#endif  // IKELESS_DATAPATH_XFRM_XFRM_DATAPATH_H_
