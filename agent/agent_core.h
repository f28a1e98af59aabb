#ifndef IKELESS_AGENT_AGENT_CORE_H_
#define IKELESS_AGENT_AGENT_CORE_H_

// The agent core: glue between the setup client (FIG. 19/20), the datapath
// (FIG. 18's IPsec processing section) and the controller stream. It turns
// datapath events (acquire, soft and hard expiry) into setups, installs what
// the controller distributes make-before-break, tells the datapath to
// release (S36) or drop (S37) held packets, rekeys before the soft lifetime
// ends (FIG. 27) and removes superseded inbound SAs after a grace period.
// It also keeps the node's SPD as the controller pushes it (SpdUpdate, laid
// out by agent/spd_layout.h), tears down and rekeys associations when the
// controller says so (Teardown, RekeyNow): agent_core_spd.cc.
//
// Threads: OnControllerMessage() and OnConnected() come from the stream
// thread, OnDatapathEvent() from the datapath's thread, Tick() from a timer
// thread. `mu_` guards the state. Datapath calls are made with `mu_`
// released, serialised by `dp_mu_` (taken first, never on the datapath's
// thread), so a datapath that raises events while holding its own locks
// cannot deadlock with us. OnDatapathEvent() never calls the datapath: what
// it decides for the datapath waits for the next Tick(). The SPD (spd_,
// the layout and the pushed revision) changes only under `dp_mu_`, so no
// install or removal runs while it changes.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/controller_link.h"
#include "agent/pushed_spd.h"
#include "agent/setup_client.h"
#include "agent/spd_layout.h"
#include "agent/spd_listener.h"
#include "agent/successor_keys.h"
#include "common/address.h"
#include "common/clock.h"
#include "common/random.h"
#include "datapath/datapath.h"
#include "proto/agent.pb.h"

namespace ikeless::agent {

class AgentCore {
 public:
  struct Options {
    SetupClient::Options setup;
    // Each installed SA's soft lifetime is lowered by a random amount of up
    // to this fraction of the soft lifetime itself (at most 0.5,
    // agent/lifetime_jitter.h), so that both ends rarely rekey at the same
    // instant. 0 disables.
    double rekey_jitter = 0.10;
    // After a new pair is installed, the previous inbound SA keeps
    // accepting packets the peer sent before it switched, this long.
    absl::Duration old_sa_grace = absl::Seconds(10);
    // A rekey that failed is tried again after this while the SA lives.
    absl::Duration rekey_retry = absl::Seconds(10);
    // The controller's address when the config names it as an IP literal:
    // always bypassed, after the local rules (agent/spd_layout.h).
    std::optional<IpAddress> controller_address;
    // Told of every pushed SPD the datapath applied (the engine's routes,
    // agent/route_sync.h). May be null; must outlive the core.
    SpdListener* spd_listener = nullptr;
  };

  // An SA the core installed.
  // Its times are Clock::Monotonic() readings: an NTP step moves no
  // deadline.
  struct SaInfo {
    datapath::SaKey key;  // (destination, SPI)
    std::string source;
    uint64_t association_id = 0;
    uint64_t soft_seconds = 0;  // after jitter
    absl::Time installed;
    absl::Time hard_deadline;  // InfiniteFuture without a time limit
  };

  // What one SPD entry has installed.
  struct EntryStatus {
    std::optional<SaInfo> outbound;        // current
    std::optional<SaInfo> inbound;         // current
    std::vector<SaInfo> retiring_inbound;  // superseded; removed after the grace
    // Inbound successors of the current association, installed ahead
    // (agent/successor_keys.h), next first.
    std::vector<SaInfo> standby_inbound;
    size_t outbound_successors = 0;        // left to switch to
    // A rekey is owed: the current outbound's soft lifetime passed (or
    // that of one a successor replaced, or the controller said RekeyNow).
    bool soft_expired = false;
    absl::Time rekey_retry_at = absl::InfiniteFuture();
  };

  // `spd` is the node's own SPD (FIG. 15, the config's rules, ids 1..L);
  // the controller's bypass and pushed rules follow it. The pointers must
  // outlive the core.
  AgentCore(Options options, std::vector<datapath::SpdEntry> spd,
            datapath::Datapath* datapath, ControllerLink* link, Clock* clock,
            RandomSource* random);
  ~AgentCore();

  AgentCore(const AgentCore&) = delete;
  AgentCore& operator=(const AgentCore&) = delete;

  // Checks the SPD, registers OnDatapathEvent() as the datapath's event
  // sink and programs the SPD (SetPolicies).
  absl::Status Start();

  // Called (under the core's state lock) whenever NextDeadline() may have
  // moved earlier, so a timer thread can wake up. Must not block or call
  // into the core. SetWakeup(nullptr) returns once no call is in flight.
  void SetWakeup(std::function<void()> wake);

  // The datapath's thread: acquire (S35/S41), soft expiry (rekey), hard
  // expiry (forget the SA). Sends requests; never calls the datapath.
  void OnDatapathEvent(const datapath::DatapathEvent& event);

  // The stream thread: Distribution (S44-S46, S56-S57), SetupError
  // (S47-S49, S58-S60), RequestStartup (S51-S55); SpdUpdate (applied with
  // PushedSpd, laid out, ReplaceSpd(), then SpdAck{revision, error}: error
  // empty when applied; a refused update changes nothing and the error
  // names the reason in one line); Teardown (every SA of the listed
  // associations is removed and reported DELETED; the next packet
  // acquires anew); RekeyNow (entries whose current outbound SA belongs to
  // a listed association rekey as at soft expiry, make-before-break).
  void OnControllerMessage(const v1::ControllerMessage& message);

  // Replaces the node's SPD at run time with `spd`, the full list in
  // datapath order (it must pass ValidateSpd(): INVALID_ARGUMENT and
  // nothing changes). Entries that stay with the same traffic, action and
  // peer keep their setups and SAs. For every entry that is gone or whose
  // traffic, action or peer changed: (i) its setup in flight fails and
  // its held packets are dropped (S37), (ii) the datapath gets the new list
  // (SetPolicies, never a flush), (iii) its SAs (outbound, superseded
  // outbound, inbound, retiring) are removed from the datapath and
  // reported DELETED, their SPIs released. A datapath error is returned
  // after all that: the core has the new SPD, the datapath may hold part of
  // it, and the next successful call makes them agree.
  absl::Status ReplaceSpd(std::vector<datapath::SpdEntry> spd);

  // The stream is up again (after Hello/Welcome): resend what is
  // outstanding with the same ids and SPIs.
  void OnConnected();

  // Resends and timeouts (S43), rekey retries, removal of superseded inbound
  // SAs, and datapath work OnDatapathEvent() left behind.
  void Tick();

  // When Tick() next has work (a Clock::Monotonic() reading), or
  // InfiniteFuture.
  absl::Time NextDeadline() const;

  // Introspection for tests and status.
  std::vector<SetupInfo> InFlightSetups() const;
  std::optional<EntryStatus> Entry(uint32_t spd_entry) const;
  bool SpiInUse(uint32_t spi) const;
  // The SPD the datapath has (local, controller bypass, pushed).
  std::vector<datapath::SpdEntry> Spd() const;
  // The pushed SPD's revision applied; 0 before the first snapshot.
  uint64_t pushed_revision() const;
  // Counters of every installed SA (current, superseded, retiring), for the
  // agent's DatapathReport.
  std::vector<v1::SaReport> SaReports() const ABSL_LOCKS_EXCLUDED(mu_, dp_mu_);
  // The association id of every installed SA (one per SA, so ids repeat),
  // from the core's own records: no datapath call. For the Hello's report
  // (agent/hello_builder.h).
  std::vector<uint64_t> AssociationIds() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Every SA the core tracks (current, superseded, retiring, standby).
  std::vector<std::pair<datapath::Direction, SaInfo>> InstalledSas() const
      ABSL_LOCKS_EXCLUDED(mu_);

  struct Retiring {
    SaInfo sa;
    absl::Time remove_at;  // InfiniteFuture while its removal runs
  };
  struct EntryState {
    std::optional<SaInfo> outbound;
    // Replaced outbound SAs: the datapath stops using them and removes them
    // at hard expiry; tracked so that a teardown removes them at once.
    std::vector<SaInfo> superseded_outbound;
    std::optional<SaInfo> inbound;
    std::vector<Retiring> retiring;
    // Successor keys (agent/successor_keys.h): the inbound ones installed
    // ahead, the outbound ones to switch to at soft expiry.
    std::vector<SaInfo> standby_inbound;
    SuccessorKeys next_outbound;
    bool soft_expired = false;
    absl::Time rekey_retry_at = absl::InfiniteFuture();
    bool installing = false;  // a distribution is being installed now
  };
  // Datapath work decided under `mu_` and carried out without it.
  struct Op {
    // kSwitchOutbound: the entry's current outbound SA reached its soft
    // lifetime; switch to the next successor (make-before-break).
    enum class Kind { kInstall, kDropHeld, kRemoveInbound, kSwitchOutbound };
    Kind kind = Kind::kDropHeld;
    uint32_t spd_entry = 0;
    SetupResult setup;     // kInstall
    datapath::SaKey key;   // kRemoveInbound; kSwitchOutbound: the SA that soft-expired
    bool after_hard_expiry = false;  // kSwitchOutbound: `key` is gone already
  };
  // kSwitchOutbound for `spd_entry`, from the outbound SA `replaced`.
  static Op SwitchOp(uint32_t spd_entry, const datapath::SaKey& replaced, bool after_hard_expiry);
  struct Work {
    std::vector<Op> ops;
    std::vector<v1::AgentMessage> messages;
  };
  // An SA the core removes itself (its entry left the SPD, or a teardown).
  struct Removal {
    uint32_t spd_entry = 0;
    datapath::Direction direction = datapath::Direction::kOutbound;
    SaInfo sa;
  };

  static SaInfo InfoFor(const v1::SaParameters& sa, uint64_t association_id, absl::Time now);
  static v1::AgentMessage SaEventFor(v1::SaEvent::Kind kind, const SaInfo& sa,
                                     const datapath::SaCounters* counters = nullptr);

  EntryState* StateLocked(uint32_t spd_entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Turns the setup client's decisions into messages and datapath work.
  void AbsorbLocked(SetupOutput out, Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a failed setup or install: retry the rekey later if one is due.
  void ScheduleRekeyRetryLocked(uint32_t spd_entry, EntryState& st)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakePendingLocked(Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the SAs of `st` that `pick` selects into `removals`
  // (agent_core_spd.cc).
  static void TakeSas(uint32_t spd_entry, EntryState& st,
                      const std::function<bool(const SaInfo&)>& pick,
                      std::vector<Removal>& removals);
  void RekeyNowLocked(const v1::RekeyNow& rekey, Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // agent_core_spd.cc: SPD changes and teardowns, under dp_mu_.
  absl::Status ReplaceSpdLocked(std::vector<datapath::SpdEntry> spd, Work& work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void ApplySpdUpdate(const v1::SpdUpdate& update, Work& work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void Teardown(const v1::Teardown& teardown, Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes `removals` from the datapath, reports them DELETED and
  // releases the inbound SPIs of those that are gone.
  void RemoveSas(const std::vector<Removal>& removals, Work& work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_) ABSL_LOCKS_EXCLUDED(mu_);

  // agent_core_install.cc.
  void Execute(Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void Install(Op& op, Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveInbound(const Op& op, Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  // agent_core_successors.cc: installs inbound `successors` ahead, adding
  // each installed to `installed` (the caller removes them if it fails),
  // and switches an entry's outbound SA to its next successor.
  absl::Status InstallStandbyInbound(
      uint32_t spd_entry, const google::protobuf::RepeatedPtrField<v1::SaParameters>& successors,
      uint64_t association_id, std::vector<SaInfo>& installed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void SwitchOutbound(const Op& op, Work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dp_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Sends the messages; `wake`: calls the wake-up (not from Tick()).
  void Finish(Work& work, bool wake = true) ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  datapath::Datapath* const datapath_;
  ControllerLink* const link_;
  Clock* const clock_;
  RandomSource* const random_;

  mutable absl::Mutex dp_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  bool started_ ABSL_GUARDED_BY(dp_mu_) = false;
  std::vector<datapath::SpdEntry> spd_ ABSL_GUARDED_BY(dp_mu_);  // what the datapath has
  SpdLayout layout_ ABSL_GUARDED_BY(dp_mu_);
  PushedSpd pushed_ ABSL_GUARDED_BY(dp_mu_);  // the revision applied

  mutable absl::Mutex mu_;
  SetupClient client_ ABSL_GUARDED_BY(mu_);
  std::map<uint32_t, EntryState> entries_ ABSL_GUARDED_BY(mu_);  // by SPD entry id
  std::vector<Op> pending_ ABSL_GUARDED_BY(mu_);  // datapath work for the next Tick()
  std::function<void()> wake_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_AGENT_CORE_H_
