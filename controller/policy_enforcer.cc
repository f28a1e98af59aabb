#include "controller/policy_enforcer.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "google/protobuf/util/message_differencer.h"
#include "storage/policy_match.h"

namespace ikeless::controller {
namespace {

using storage::AssociationRow;

void AddEvent(ProcessorOutput& out, v1::Event::Kind kind, uint64_t id, std::string detail,
              absl::Time now) {
  v1::Event& e = out.events.emplace_back();
  e.set_kind(kind);
  e.set_time_unix_micros(absl::ToUnixMicros(now));
  e.set_subject(absl::StrCat(id));
  e.set_detail(std::move(detail));
}

// Why `row` may not live on, or "" if it may.
std::string TeardownReason(const AssociationRow& row, const v1::Policy* best,
                           const std::set<std::string>& gone) {
  if (gone.count(row.a.address) != 0 || gone.count(row.b.address) != 0) return "node removed";
  if (best == nullptr) return "no policy for the pair any more";
  if (best->action() == v1::POLICY_ACTION_BYPASS || best->action() == v1::POLICY_ACTION_DISCARD) {
    return absl::StrCat("policy ", best->name(), " says ",
                        best->action() == v1::POLICY_ACTION_BYPASS ? "bypass" : "discard");
  }
  return "";
}

}  // namespace

bool SaParametersDiffer(const v1::Policy& before, const v1::Policy& after) {
  if (before.name() != after.name()) return true;
  using google::protobuf::util::MessageDifferencer;
  return before.protocol() != after.protocol() || before.mode() != after.mode() ||
         before.encryption() != after.encryption() ||
         before.encryption_key_bits() != after.encryption_key_bits() ||
         before.integrity() != after.integrity() ||
         before.replay_window() != after.replay_window() ||
         !MessageDifferencer::Equals(before.lifetime(), after.lifetime());
}

RowVerdict JudgeRow(const AssociationRow& row, const std::vector<v1::Policy>& policies,
                    const std::set<std::string>& gone) {
  RowVerdict v;
  auto a = IpAddress::Parse(row.a.address);
  auto b = IpAddress::Parse(row.b.address);
  if (!a.ok() || !b.ok()) return v;
  v.best = storage::BestPolicy(policies, *a, *b, row.selector);
  v.reason = TeardownReason(row, v.best, gone);
  if (!v.reason.empty()) {
    v.action = RowVerdict::Action::kTearDown;
    return v;
  }
  if (!SaParametersDiffer(row.policy, *v.best)) return v;
  if (!row.established()) {
    v.action = RowVerdict::Action::kRetarget;
    return v;
  }
  v.action = RowVerdict::Action::kRekey;
  v.reason = absl::StrCat("policy ", v.best->name(), " revision ", v.best->revision(),
                          " changed SA parameters");
  return v;
}

v1::AssociationImpact ImpactOf(const AssociationRow& row, const RowVerdict& verdict) {
  v1::AssociationImpact impact;
  impact.set_id(row.id);
  impact.set_action(verdict.action == RowVerdict::Action::kTearDown
                        ? v1::AssociationImpact::TEAR_DOWN
                        : v1::AssociationImpact::REKEY);
  impact.set_a(row.a.address);
  impact.set_b(row.b.address);
  impact.set_reason(verdict.reason);
  return impact;
}

absl::StatusOr<Enforcement> EnforcePolicies(storage::AssociationStore& associations,
                                            const std::vector<v1::Policy>& policies,
                                            const std::set<std::string>& gone, Clock& clock) {
  Enforcement result;
  const absl::Time now = clock.Now();
  // One Teardown / RekeyNow per node address, listing every association.
  std::map<std::string, v1::ControllerMessage> teardowns;
  std::map<std::string, v1::ControllerMessage> rekeys;
  absl::Status s = associations.Transact([&](storage::AssociationTxn& txn) -> absl::Status {
    result = Enforcement();
    teardowns.clear();
    rekeys.clear();
    // Every row: a policy change may touch any pair. Rows are few next to
    // packets (one per live SA pair), and this runs per operator change.
    absl::StatusOr<std::vector<AssociationRow>> rows = txn.All();
    if (!rows.ok()) return rows.status();
    for (AssociationRow& row : *rows) {
      const RowVerdict verdict = JudgeRow(row, policies, gone);
      switch (verdict.action) {
        case RowVerdict::Action::kKeep:
          continue;
        case RowVerdict::Action::kRetarget:
          row.policy = *verdict.best;  // S10 will use the policy in force
          if (absl::Status u = txn.Update(row); !u.ok()) return u;
          continue;
        case RowVerdict::Action::kTearDown:
          if (absl::Status d = txn.Delete(row.id); !d.ok() && !absl::IsNotFound(d)) return d;
          ++result.torn_down;
          break;
        case RowVerdict::Action::kRekey:
          ++result.rekeyed;
          break;
      }
      // Both sides are told, one message per address listing every row.
      const bool down = verdict.action == RowVerdict::Action::kTearDown;
      auto tell = [&](auto* m) {
        m->add_association_ids(row.id);
        m->set_reason(verdict.reason);
      };
      for (const std::string& side : {row.a.address, row.b.address}) {
        down ? tell(teardowns[side].mutable_teardown()) : tell(rekeys[side].mutable_rekey());
      }
      AddEvent(result.out, down ? v1::Event::ASSOCIATION_TORN_DOWN : v1::Event::ASSOCIATION_REKEYED,
               row.id, absl::StrCat(row.a.address, " <-> ", row.b.address, ": ", verdict.reason),
               now);
      result.impacts.push_back(ImpactOf(row, verdict));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (auto& [address, m] : teardowns) result.out.messages.emplace_back(address, std::move(m));
  for (auto& [address, m] : rekeys) result.out.messages.emplace_back(address, std::move(m));
  return result;
}

}  // namespace ikeless::controller
