#ifndef IKELESS_CONTROLLER_REQUEST_PROCESSOR_H_
#define IKELESS_CONTROLLER_REQUEST_PROCESSOR_H_

// The request processor: the controller's state machine of FIG. 12/13
// (steps S1-S28). Pure logic: it reads and writes the association table
// through storage interfaces, one transaction per transition, takes time and
// randomness from injected sources, and returns the messages to send rather
// than sending them. The gRPC layer (controller/agent_service.h) delivers
// them and has already checked that the requesting node owns
// `request.source`.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"
#include "proto/admin.pb.h"
#include "proto/agent.pb.h"
#include "storage/association_store.h"
#include "storage/policy_store.h"

namespace ikeless::controller {

// A message for the node that owns `address`. Wipes its keys when destroyed.
struct Outgoing {
  std::string address;
  v1::ControllerMessage message;
  // S11 ordering: this Distribution may wait until the node owning
  // `after_installed_at` (the peer) reports INSTALLED, so that the packets
  // this node holds (S35) and releases on installing (S36) find the peer's
  // inbound SA. The dispatcher waits only where the peer would drop them.
  std::string after_installed_at;

  Outgoing() = default;
  Outgoing(std::string a, v1::ControllerMessage m)
      : address(std::move(a)), message(std::move(m)) {}
  Outgoing(const Outgoing&) = default;
  Outgoing& operator=(const Outgoing&) = default;
  Outgoing(Outgoing&&) = default;
  Outgoing& operator=(Outgoing&&) = default;
  ~Outgoing();
};

// What one call decided: messages to deliver and events for watchers.
struct ProcessorOutput {
  std::vector<Outgoing> messages;
  std::vector<v1::Event> events;
};

class RequestProcessor {
 public:
  struct Options {
    absl::Duration startup_interval = absl::Seconds(5);  // S23: "every 5 s"
    uint32_t startup_attempts = 6;                        // S24: "six times"
    size_t timer_batch = 256;  // rows handled per Tick() transaction
    // Rows one node may hold for one peer that can still be used (live SAs,
    // half-open requests; superseded rows do not count,
    // controller/pair_rows.h). A node looping requests with fresh ids
    // cannot grow the table or flood its peer with startups beyond this.
    size_t max_rows_per_pair = 16;  // 0 = no limit
    // All rows of one pair, superseded ones included, which live on until
    // their lifetime (and successor keys' time) ends: a node whose installs
    // keep failing, or a hostile one, rekeying in a loop would otherwise
    // grow the table without bound. With soft >= hard/32 a healthy pair
    // keeps under 50 per rule.
    size_t max_rows_per_pair_total = 256;  // 0 = no limit
    // Half-open rows one address may have opened (S22) at once. Naming a
    // fresh peer in every request (any address under a prefix policy)
    // otherwise grows the table without bound: measured, 31,915 rows in
    // 15 s from one node, and every other pair's setups slowed 6x.
    size_t max_half_open_per_address = 256;  // 0 = no limit
  };

  RequestProcessor(Options options, storage::PolicyStore* policies,
                   storage::AssociationStore* associations, Clock* clock,
                   RandomSource* random);

  // S1: an SaRequest from the node owning request.source. Malformed fields
  // produce a SetupError INVALID_ARGUMENT to the requester; an error status
  // means storage failed and nothing changed.
  absl::StatusOr<ProcessorOutput> HandleRequest(const v1::SaRequest& request);

  // A batch of SaRequests, decided in order in one transaction: each sees
  // the rows the ones before it wrote (B's answer to A's startup may be in
  // the same batch), and the batch costs one commit. The output holds each
  // request's messages in request order. An error status means storage
  // failed and nothing of the batch changed; `failed_at` (may be null) then
  // says which request storage failed on, or requests.size() if it was the
  // commit. Callers retry the others, so one request cannot fail them.
  absl::StatusOr<ProcessorOutput> HandleBatch(absl::Span<const v1::SaRequest> requests,
                                              size_t* failed_at = nullptr);

  // Timers: S23 repetitions, S24/S27/S28 after the last one, deletion of
  // rows whose hard lifetime ended. Call when NextDeadline() has passed.
  absl::StatusOr<ProcessorOutput> Tick();

  // When Tick() next has work, or InfiniteFuture.
  absl::StatusOr<absl::Time> NextDeadline();

  const Options& options() const { return options_; }

 private:
  absl::Status Process(storage::AssociationTxn& txn, const v1::SaRequest& r,
                       ProcessorOutput& out);
  absl::Status Establish(storage::AssociationTxn& txn, storage::AssociationRow& row,
                         const v1::SaRequest& r, ProcessorOutput& out);
  absl::Status Open(storage::AssociationTxn& txn, const v1::SaRequest& r,
                    ProcessorOutput& out);
  absl::Status Conflict(storage::AssociationTxn& txn, const v1::SaRequest& r,
                        absl::string_view why, ProcessorOutput& out);
  void AddEvent(ProcessorOutput& out, v1::Event::Kind kind, std::string subject,
                std::string detail);

  Options options_;
  storage::PolicyStore* policies_;
  storage::AssociationStore* associations_;
  Clock* clock_;
  RandomSource* random_;
};

// The Distribution for `side_address`'s side of an established row (S5/S11):
// its own request id, its outbound SA (the peer's SPI) and inbound SA.
v1::ControllerMessage DistributionFor(const storage::AssociationRow& row,
                                      absl::string_view side_address);

// S23: the RequestStartup for a half-open row, to its b side.
v1::ControllerMessage StartupFor(const storage::AssociationRow& row);

// A SetupError reply to `request`.
v1::ControllerMessage ErrorFor(const v1::SaRequest& request, v1::SetupError::Code code,
                               std::string message);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REQUEST_PROCESSOR_H_
