// IntentService's declarative side: `ipsecctl plan -f` and `apply -f`. The
// deciding is in intent_validation.h and intent_plan.h; this shell reads
// the live state, writes the diff in one transaction and carries it out
// with the same enforcement and pushes as the single-record calls.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "controller/intent_plan.h"
#include "controller/intent_service.h"
#include "controller/intent_validation.h"

namespace ikeless::controller {

struct IntentService::Planned {
  v1::IntentPlan plan;
  IntentDiff diff;
  IntentSnapshot desired;
};

absl::StatusOr<IntentService::Planned> IntentService::Plan(v1::Intent& intent) {
  if (deps_.intent_store == nullptr) {
    return absl::FailedPreconditionError("plan/apply is not enabled on this controller");
  }
  Planned p;
  IntentSnapshot live;
  live.nodes = publisher_.nodes();
  auto policies = deps_.policies->ListPolicies();
  if (!policies.ok()) return policies.status();
  live.policies = *std::move(policies);
  p.desired.nodes.assign(intent.nodes().begin(), intent.nodes().end());
  p.desired.policies.assign(intent.policies().begin(), intent.policies().end());
  auto by_name = [](const auto& x, const auto& y) { return x.name() < y.name(); };
  std::sort(p.desired.nodes.begin(), p.desired.nodes.end(), by_name);
  std::sort(p.desired.policies.begin(), p.desired.policies.end(), by_name);

  // The state names both sides: an apply with it refuses if either the
  // live intent or the file moved since the plan was shown.
  p.plan.set_state(absl::StrCat(IntentDigest(live), "-", IntentDigest(p.desired)));
  p.diff = DiffIntent(live, p.desired);
  // The revisions apply will give, so the plan's reasons read as apply's.
  for (v1::Policy& want : p.desired.policies) {
    uint64_t revision = 1;
    for (const v1::Policy& have : live.policies) {
      if (have.name() != want.name()) continue;
      const bool changed = std::any_of(p.diff.write.put_policies.begin(),
                                       p.diff.write.put_policies.end(),
                                       [&](const v1::Policy& put) { return put.name() == want.name(); });
      revision = have.revision() + (changed ? 1 : 0);
    }
    want.set_revision(revision);
  }
  for (int i = 0; i < intent.nodes_size(); ++i) {
    const std::string& name = intent.nodes(i).name();
    const bool added = std::any_of(p.diff.changes.begin(), p.diff.changes.end(), [&](auto& c) {
      return c.kind() == v1::IntentChange::NODE && c.op() == v1::IntentChange::ADD &&
             c.name() == name;
    });
    if (!added) continue;
    absl::Status s = RefuseRevokedName(name, absl::StrCat("nodes[", i, "] (", name, "): name"));
    if (!s.ok()) return s;
  }
  auto rows = deps_.associations->ListAssociations("");
  if (!rows.ok()) return rows.status();

  for (v1::IntentChange& c : p.diff.changes) *p.plan.add_changes() = c;
  for (v1::PairChange& c : PairChanges(live, p.desired)) *p.plan.add_pairs() = std::move(c);
  for (v1::AssociationImpact& a : AssociationImpacts(*rows, p.desired, p.diff.gone_addresses)) {
    *p.plan.add_associations() = std::move(a);
  }
  for (v1::AssertionResult& r : CheckAssertions(p.desired, intent.assertions())) {
    *p.plan.add_assertions() = std::move(r);
  }
  if (deps_.revocations != nullptr) {
    for (const std::string& n : p.diff.removed_nodes) p.plan.add_certificates_revoked(n);
  }
  return p;
}

absl::StatusOr<v1::IntentPlan> IntentService::PlanIntent(v1::Intent intent) {
  // Validation is the costly part (fleet rules are pairwise) and reads
  // nothing live: outside the lock that pushes and acknowledgements need.
  if (absl::Status s = NormalizeIntent(&intent); !s.ok()) return s;
  absl::MutexLock l(&mu_);
  auto planned = Plan(intent);
  if (!planned.ok()) return planned.status();
  return std::move(planned->plan);
}

absl::StatusOr<v1::IntentPlan> IntentService::ApplyIntent(v1::Intent intent,
                                                          const std::string& expected_state) {
  if (absl::Status s = NormalizeIntent(&intent); !s.ok()) return s;
  absl::MutexLock l(&mu_);
  auto planned = Plan(intent);
  if (!planned.ok()) return planned.status();
  v1::IntentPlan& plan = planned->plan;
  if (!expected_state.empty() && expected_state != plan.state()) {
    const std::string live = plan.state().substr(0, plan.state().find('-'));
    const bool live_moved = expected_state.substr(0, expected_state.find('-')) != live;
    return absl::AbortedError(absl::StrCat(
        live_moved ? "the live nodes and policies changed since the plan"
                   : "this is not the file that was planned (it changed since the plan)",
        " (state ", expected_state, ", now ", plan.state(), "): run plan again and review it"));
  }
  for (const v1::AssertionResult& r : plan.assertions()) {
    if (!r.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("assertions[", r.index(), "]: does not hold: ", r.detail()));
    }
  }
  IntentDiff& diff = planned->diff;
  plan.clear_associations();  // replaced by what enforcement really did
  if (diff.write.empty()) return std::move(plan);

  const int64_t now = absl::ToUnixSeconds(deps_.clock->Now());
  for (v1::Node& n : diff.write.put_nodes) {
    n.set_create_time_unix(now);  // kept by the store for a replaced node
    n.set_update_time_unix(now);
  }
  for (v1::Policy& p : diff.write.put_policies) {
    p.set_create_time_unix(now);
    p.set_update_time_unix(now);
  }
  if (absl::Status s = deps_.intent_store->WriteIntent(diff.write); !s.ok()) return s;
  plan.set_applied(true);

  // From here on the change is stored: a step that fails is a warning in
  // the answer (and the log), never an error that would say "nothing
  // changed".
  auto warn = [&plan](const std::string& what, const absl::Status& s) {
    LogError("apply_step_failed").Kv("step", what).Kv("error", s.message());
    plan.add_warnings(absl::StrCat(what, ": ", s.message()));
  };
  plan.clear_certificates_revoked();
  if (deps_.revocations != nullptr) {
    for (const std::string& name : diff.removed_nodes) {
      absl::Status r = deps_.revocations->RevokeName(name, "removed with ipsecctl apply");
      if (r.ok()) {
        plan.add_certificates_revoked(name);
      } else {
        warn(absl::StrCat("revoking node:", name), r);
      }
    }
  }
  auto nodes = deps_.nodes->ListNodes();
  auto policies = deps_.policies->ListPolicies();
  auto revision = NextRevision();
  if (!nodes.ok() || !policies.ok() || !revision.ok()) {
    // The pushed SPDs would be stale: reload the whole intent instead.
    warn("reading the intent back", !nodes.ok() ? nodes.status()
                                    : !policies.ok() ? policies.status() : revision.status());
    return std::move(plan);
  }
  // Teardowns first, then the SPDs (as PoliciesChanged, for the same reason).
  auto enforced = Enforce(*policies, diff.gone_addresses);
  if (enforced.ok()) {
    for (v1::AssociationImpact& a : enforced->impacts) *plan.add_associations() = std::move(a);
  } else {
    warn("tearing down and rekeying associations", enforced.status());
  }
  Carry(publisher_.SetIntent(*std::move(nodes), *std::move(policies), *revision,
                             deps_.clock->Now()));

  for (const v1::IntentChange& c : plan.changes()) {
    const bool node = c.kind() == v1::IntentChange::NODE;
    v1::Event::Kind kind =
        c.op() == v1::IntentChange::ADD
            ? (node ? v1::Event::NODE_CREATED : v1::Event::POLICY_CREATED)
        : c.op() == v1::IntentChange::CHANGE
            ? (node ? v1::Event::NODE_UPDATED : v1::Event::POLICY_UPDATED)
            : (node ? v1::Event::NODE_DELETED : v1::Event::POLICY_DELETED);
    Publish(kind, c.name(), absl::StrCat("ipsecctl apply", c.fields().empty() ? "" : ": ",
                                         absl::StrJoin(c.fields(), ",")));
  }
  LogInfo("intent_applied")
      .Kv("changes", static_cast<int64_t>(plan.changes_size()))
      .Kv("associations", static_cast<int64_t>(plan.associations_size()))
      .Kv("state", plan.state());
  return std::move(plan);
}

}  // namespace ikeless::controller
