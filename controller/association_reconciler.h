#ifndef IKELESS_CONTROLLER_ASSOCIATION_RECONCILER_H_
#define IKELESS_CONTROLLER_ASSOCIATION_RECONCILER_H_

// Reconciliation after crashes (issue #12), beyond the source, which lets a
// row live until its term of validity ends whatever became of its SAs. At
// each (re)connect an agent says in its Hello which associations it has
// SAs of and which setups it has in flight (agent.proto Hello.reconcile);
// for the rows in which the node is a side:
//   - an established row that no SA of the node uses and no setup of the
//     node still waits on (its agent restarted, or lost the SAs) is
//     retired: deleted, and the peer told to remove its SAs (Teardown), so
//     that both ends re-acquire together instead of the peer sending into
//     SAs nobody receives on;
//   - a half-open row the node opened (S22) whose request the node no
//     longer sends (S43) is deleted: nobody waits on it;
//   - an SA the node reports whose row is gone (deleted while the node was
//     away, or the controller lost its newest commits) is removed on the
//     node (Teardown to the node itself).
// An agent that merely reconnected reports every SA it uses and every
// setup it waits on, by (request id, SPI): nothing it uses is retired.
// Also, every half-open row waiting for the node (its b side) gets its
// RequestStartup at once (S23) instead of at the next 5 s repetition; that
// push is not counted as one of the six S23 attempts (S24), so a node that
// reconnects often neither shortens nor lengthens a row's life.
//
// And the operator's `ipsecctl assoc delete ID`: the row deleted, both
// sides told. Pure: works through the storage interfaces, one transaction
// per call, returns the messages rather than sending them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "controller/request_processor.h"
#include "proto/agent.pb.h"
#include "storage/association_store.h"

namespace ikeless::controller {

// Entries a Hello may report per list (installed_associations, in_flight):
// ~40 KB at most, far below the controller's message limit.
inline constexpr size_t kMaxHelloReportEntries = 4096;

// INVALID_ARGUMENT naming the field if the Hello's report exceeds the bounds.
absl::Status ValidateHelloReport(const v1::Hello& hello);

// What one Hello changed. Counts only: never keys.
struct Reconciliation {
  ProcessorOutput out;
  uint32_t retired = 0;      // established rows no SA of the node used
  uint32_t abandoned = 0;    // half-open rows the node no longer waited on
  uint32_t unknown_sas = 0;  // associations the node was told to remove
  uint32_t startups = 0;     // pending RequestStartups pushed to the node
};

// The decision for the node owning `addresses` (canonical) inside `txn`.
// Without hello.reconcile only the pending startups are pushed: those of
// rows created before `registered` (when the node's stream became
// reachable; later rows had their startup sent to it already).
absl::StatusOr<Reconciliation> ReconcileHello(storage::AssociationTxn& txn,
                                              const std::vector<std::string>& addresses,
                                              const v1::Hello& hello, absl::Time registered,
                                              absl::Time now);

// Runs the decisions above each in one transaction of `store`.
class AssociationReconciler {
 public:
  AssociationReconciler(storage::AssociationStore* store, Clock* clock)
      : store_(store), clock_(clock) {}

  // ValidateHelloReport() must have passed. `registered`: see above.
  absl::StatusOr<Reconciliation> OnHello(const std::vector<std::string>& addresses,
                                         const v1::Hello& hello, absl::Time registered);

  // The operator's delete: the row goes, both sides get a Teardown, an
  // ASSOCIATION_DELETED event names `by`. NOT_FOUND for an unknown id.
  // `deleted` (may be null) receives the row as it was.
  absl::StatusOr<ProcessorOutput> Delete(uint64_t id, absl::string_view by,
                                         storage::AssociationRow* deleted);

 private:
  storage::AssociationStore* const store_;
  Clock* const clock_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_ASSOCIATION_RECONCILER_H_
