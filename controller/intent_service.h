#ifndef IKELESS_CONTROLLER_INTENT_SERVICE_H_
#define IKELESS_CONTROLLER_INTENT_SERVICE_H_

// The controller's whole intent, nodes and policies, and what follows when
// it changes (DESIGN.md "Policy is the whole configuration"): live
// associations are torn down or rekeyed (policy_enforcer.h), every affected
// node's SPD is pushed as a delta (spd_publisher.h), and each event goes to
// `ipsecctl watch`. The thin shell around the two deciders: it reads and
// writes the stores and sends what they decided. One change at a time.

#include <cstdint>
#include <map>
#include <utility>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "controller/dispatcher.h"
#include "controller/event_hub.h"
#include "controller/policy_enforcer.h"
#include "controller/revocation_list.h"
#include "controller/session_registry.h"
#include "controller/spd_publisher.h"
#include "proto/admin.pb.h"
#include "storage/association_store.h"
#include "storage/intent_store.h"
#include "storage/node_store.h"
#include "storage/policy_store.h"

namespace ikeless::controller {

class IntentService {
 public:
  struct Deps {
    storage::NodeStore* nodes = nullptr;
    storage::PolicyStore* policies = nullptr;
    storage::AssociationStore* associations = nullptr;
    SessionRegistry* registry = nullptr;
    Dispatcher* dispatcher = nullptr;
    EventHub* events = nullptr;
    RevocationList* revocations = nullptr;  // may be null: nodes remove without revoking
    Clock* clock = nullptr;
    storage::IntentStore* intent_store = nullptr;  // may be null: no plan/apply
  };

  explicit IntentService(Deps deps) : deps_(deps) {}

  // Reads nodes and policies from the stores. Call once before serving.
  absl::Status Load();

  // A policy was created, updated or deleted in the store: enforce it on
  // live associations, then push the SPDs it changes.
  absl::Status PoliciesChanged();
  // Runs `write` (one policy change in the store) and, if it succeeded,
  // PoliciesChanged, both under the intent lock: an apply never sees the
  // policies between its check of the live state and its own write.
  // Returns `write`'s status; enforcement errors are logged (the change is
  // stored, and the next change or a restart carries it out).
  absl::Status ChangePolicies(absl::FunctionRef<absl::Status()> write);

  // Node records: validated (node_validation.h), stored, then enforced and
  // pushed. Errors as the store's, or FAILED_PRECONDITION for a name whose
  // certificates were revoked (re-adding a removed node would let its old
  // certificates in again: pick a new name or edit the revocation file).
  absl::StatusOr<v1::Node> CreateNode(v1::Node node);
  absl::StatusOr<v1::Node> UpdateNode(v1::Node node, uint64_t expected_revision);
  absl::StatusOr<v1::DeleteNodeResponse> DeleteNode(const std::string& name,
                                                    bool keep_certificates);
  // Declarative intent (intent_service_plan.cc): what making `intent` the
  // whole fleet would do, and doing it. Apply writes nodes and policies in
  // one store transaction, revokes removed nodes' certificates, then
  // enforces and pushes as the single-record calls do; its answer lists the
  // associations it actually tore down or rekeyed. ABORTED if
  // `expected_state` is set and differs from the live digest;
  // FAILED_PRECONDITION if an assertion fails. Nothing changes on error.
  absl::StatusOr<v1::IntentPlan> PlanIntent(v1::Intent intent);
  absl::StatusOr<v1::IntentPlan> ApplyIntent(v1::Intent intent, const std::string& expected_state);

  // With status (connection, SPD revisions).
  absl::StatusOr<v1::Node> GetNode(const std::string& name);
  std::vector<v1::Node> ListNodes();

  // The agent stream of `node` said Hello / went away / acknowledged.
  void OnConnected(const std::string& node);
  void OnDisconnected(const std::string& node);
  void OnAck(const std::string& node, const v1::SpdAck& ack);
  // The node's datapath counters (agent/datapath_reporter.h); shown in its
  // status while it stays connected.
  void OnReport(const std::string& node, const v1::DatapathReport& report);

 private:
  // Sends what the publisher decided (under mu_: pushes keep revision order).
  void Carry(SpdPublisher::Output out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The plan for `intent` (already normalised) against the live state, and
  // the diff it was made from.
  struct Planned;
  absl::StatusOr<Planned> Plan(v1::Intent& intent) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PoliciesChangedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Teardowns and rekeys for `policies` (and removed nodes' addresses).
  absl::StatusOr<Enforcement> Enforce(const std::vector<v1::Policy>& policies,
                                   const std::vector<std::string>& gone_addresses)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<uint64_t> NextRevision() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // FAILED_PRECONDITION naming `field` if `name`'s certificates are
  // revoked: re-adding a removed node would let its old certificates in.
  absl::Status RefuseRevokedName(const std::string& name, const std::string& field) const;
  v1::Node WithStatus(v1::Node node) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Publish(v1::Event::Kind kind, const std::string& subject, const std::string& detail);

  const Deps deps_;
  // Reports have their own lock: they arrive every few seconds from every
  // node and must not wait for a plan holding mu_.
  mutable absl::Mutex reports_mu_;
  struct Report {
    v1::DatapathReport report;
    absl::Time time;      // wall, shown as REPORTED
    absl::Time accepted;  // monotonic, for the rate limit
  };
  std::map<std::string, Report> reports_ ABSL_GUARDED_BY(reports_mu_);
  absl::Mutex mu_;
  SpdPublisher publisher_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_INTENT_SERVICE_H_
