#ifndef IKELESS_AGENT_SETUP_CLIENT_H_
#define IKELESS_AGENT_SETUP_CLIENT_H_

// The setup client: the source's "setting management section", FIG. 19
// (steps S41-S49) and FIG. 20 (S51-S60). For one SPD entry at a time it asks
// the controller for SA parameters with an SaRequest of its own id and
// inbound SPI, repeats that request, reacts to CONFLICT, and reports how the
// setup ended.
//
// Pure logic: time and randomness are injected, nothing is sent and nothing
// is installed here. Every call returns the requests to send and the setups
// that finished; the agent core (agent/agent_core.h) sends, installs and
// tells the datapath. Not thread-safe: the agent core holds its lock around
// every call.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "datapath/datapath.h"
#include "proto/agent.pb.h"

namespace ikeless::agent {

// RFC 4303 §2.1: SPI 0 is reserved for local use and 1-255 by IANA.
inline constexpr uint32_t kMinSpi = 256;

// Why a setup was started.
enum class SetupTrigger {
  kAcquire,  // S35/S41: the datapath holds a packet for the entry
  kStartup,  // S51/S54: the controller relayed the peer's request
  kRekey,    // the current SA reached its soft lifetime (FIG. 27)
};

const char* SetupTriggerName(SetupTrigger trigger);

// One setup that ended: S46/S49 (reported to the packet path when a packet
// waits) or S56-S60 (nobody waits). Wipes the keys it holds when destroyed.
struct SetupResult {
  uint32_t spd_entry = 0;
  SetupTrigger trigger = SetupTrigger::kAcquire;
  // A packet is held for the entry: the datapath must be told the outcome
  // (S36 release, S37 drop).
  bool packet_waiting = false;
  uint64_t request_id = 0;
  uint32_t spi = 0;  // our inbound SPI of the last request
  // The inbound SPIs reserved for successor SAs (DECISIONS 33); on success
  // they belong to the caller like `spi`, used or not.
  std::vector<uint32_t> successor_spis;
  // OK: `distribution` holds both directions' SA parameters (S45/S57) and
  // the inbound SPI now belongs to the caller (see SetupClient::ReleaseSpi).
  // Its successors are those whose SPIs match successor_spis, in order.
  // Otherwise why the setup failed; `error` is the controller's code when
  // it said so, CODE_UNSPECIFIED for six silent tries or a local failure.
  absl::Status status;
  v1::SetupError::Code error = v1::SetupError::CODE_UNSPECIFIED;
  v1::Distribution distribution;

  SetupResult() = default;
  SetupResult(const SetupResult&) = default;
  SetupResult& operator=(const SetupResult&) = default;
  SetupResult(SetupResult&&) = default;
  SetupResult& operator=(SetupResult&&) = default;
  ~SetupResult();
};

// What one call decided.
struct SetupOutput {
  std::vector<v1::SaRequest> requests;  // S43/S48/S55: send these, in order
  std::vector<SetupResult> results;     // setups that ended
};

// A setup in flight, for tests and status pages.
struct SetupInfo {
  uint32_t spd_entry = 0;
  SetupTrigger trigger = SetupTrigger::kAcquire;
  bool packet_waiting = false;
  uint64_t request_id = 0;
  uint32_t spi = 0;
  int attempts = 0;         // sends of the current id and SPI (S43)
  int conflict_rounds = 0;  // S48 re-choices so far
  absl::Time next_send;     // next resend, or the failure after the last one (monotonic)
};

class SetupClient {
 public:
  struct Options {
    // S43: "repeats transmission of the request message at an interval of
    // 5 seconds ... sending the request message six times".
    absl::Duration resend_interval = absl::Seconds(5);
    int max_attempts = 6;
    // S42: ids are sequential per process (the source's 1001, 1002, ...).
    // A restarted agent starts again here; the controller's CONFLICT (S3/S8)
    // and S48 move it past the ids its rows still hold.
    uint64_t first_request_id = 1;
    // S48: CONFLICT rounds allowed per setup before it fails.
    int max_conflict_rounds = 8;
    // Successor SAs to ask for in each request (SaRequest.successor_spis,
    // DECISIONS 33): how many times the node can switch to fresh keys on
    // its own while the controller is away. 0 asks for none; at most 8.
    int successor_keys = 3;
  };

  // `spd` must pass ValidateSpd() (agent/spd_match.h).
  SetupClient(Options options, std::vector<datapath::SpdEntry> spd, Clock* clock,
              RandomSource* random);

  // S41-S43: starts a setup for `spd_entry` and sends the first request. One
  // setup per entry: if one is in flight nothing more is sent, but an
  // acquire marks it as having a waiting packet (the datapath now waits for
  // its result). An entry that is unknown or has no setup_peer fails at once.
  SetupOutput Begin(uint32_t spd_entry, SetupTrigger trigger);

  // S51-S55: the controller relays a peer's request. S52 finds the entry
  // (MatchStartup() in agent/spd_match.h); none (S53) or a setup already in
  // flight for it: nothing.
  SetupOutput OnStartup(const v1::RequestStartup& startup);

  // S44-S46 / S56-S57: the distribution for an outstanding request ends it
  // with success. Unknown or stale request ids are ignored.
  SetupOutput OnDistribution(const v1::Distribution& distribution);

  // S47-S49 / S58-S60 (setup_client_errors.cc): a SetupError for an
  // outstanding request. CONFLICT re-chooses id and SPI (S48); UNAVAILABLE
  // changes nothing (the resends continue); every other code ends the
  // setup with failure.
  SetupOutput OnError(const v1::SetupError& error);

  // The SPD changed at run time (a pushed SPD, agent/agent_core.h): takes
  // `spd` (which must pass ValidateSpd()) and ends, with ABORTED, every
  // setup in flight whose entry is gone from it or listed in `reset` (an
  // entry whose traffic or peer changed: its request asked about something
  // else). Those results carry packet_waiting as usual so the caller drops
  // the held packets (S37).
  SetupOutput ReplaceSpd(std::vector<datapath::SpdEntry> spd, const std::set<uint32_t>& reset);

  // S43: resends what is due and fails setups whose last try went
  // unanswered for one interval.
  SetupOutput Tick();

  // The stream came back: every outstanding request once more, same id and
  // SPI. Does not count as a try and does not move the schedule.
  SetupOutput ResendAll();

  // When Tick() next has work (a Clock::Monotonic() reading), or
  // InfiniteFuture.
  absl::Time NextDeadline() const;

  // SPIs: the client chooses every inbound SPI of the node and keeps it
  // reserved from the request until the caller releases it. A failed setup
  // releases its own; a successful one hands it to the caller, who calls
  // ReleaseSpi() once the inbound SA is gone (or failed to install).
  void ReleaseSpi(uint32_t spi);
  bool SpiInUse(uint32_t spi) const { return spis_in_use_.count(spi) != 0; }

  bool InFlight(uint32_t spd_entry) const { return setups_.count(spd_entry) != 0; }
  std::vector<SetupInfo> InFlightSetups() const;
  const datapath::SpdEntry* FindEntry(uint32_t spd_entry) const;
  const Options& options() const { return options_; }

 private:
  struct Setup {
    SetupTrigger trigger;
    bool packet_waiting = false;
    uint64_t request_id = 0;
    uint32_t spi = 0;
    std::vector<uint32_t> successor_spis;
    int attempts = 0;
    int conflict_rounds = 0;
    absl::Time next_send;  // Clock::Monotonic()
  };

  // S42, with the entry's inner prefixes as SaRequest.traffic.
  v1::SaRequest RequestFor(uint32_t spd_entry, const Setup& setup) const;
  // S42/S48: the next sequential id, past every id in `excluded`.
  uint64_t NewRequestId(const std::set<uint64_t>& excluded);
  // S42/S48: a random SPI >= 256, not in use here and not in `excluded`.
  std::optional<uint32_t> NewSpi(const std::set<uint32_t>& excluded);
  // Ends the setup of `spd_entry` with failure; releases its SPI.
  SetupResult Fail(std::map<uint32_t, Setup>::iterator it, absl::Status status,
                   v1::SetupError::Code error);
  std::map<uint32_t, Setup>::iterator FindByRequestId(uint64_t request_id);

  Options options_;
  std::vector<datapath::SpdEntry> spd_;  // addresses canonical
  Clock* clock_;
  RandomSource* random_;
  uint64_t next_request_id_;
  std::map<uint32_t, Setup> setups_;  // by SPD entry id: one in flight each
  std::set<uint32_t> spis_in_use_;    // outstanding requests + installed inbound
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_SETUP_CLIENT_H_
