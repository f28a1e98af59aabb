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
      auto a = IpAddress::Parse(row.a.address);
      auto b = IpAddress::Parse(row.b.address);
      if (!a.ok() || !b.ok()) continue;
      const v1::Policy* best = storage::BestPolicy(policies, *a, *b, row.selector);
      const std::string why = TeardownReason(row, best, gone);
      if (!why.empty()) {
        if (absl::Status d = txn.Delete(row.id); !d.ok() && !absl::IsNotFound(d)) return d;
        for (const std::string& side : {row.a.address, row.b.address}) {
          v1::Teardown* t = teardowns[side].mutable_teardown();
          t->add_association_ids(row.id);
          t->set_reason(why);
        }
        AddEvent(result.out, v1::Event::ASSOCIATION_TORN_DOWN, row.id,
                 absl::StrCat(row.a.address, " <-> ", row.b.address, ": ", why), now);
        ++result.torn_down;
        continue;
      }
      if (!SaParametersDiffer(row.policy, *best)) continue;
      if (!row.established()) {
        row.policy = *best;  // S10 will use the policy in force
        if (absl::Status u = txn.Update(row); !u.ok()) return u;
        continue;
      }
      const std::string why_rekey = absl::StrCat("policy ", best->name(), " revision ",
                                                 best->revision(), " changed SA parameters");
      for (const std::string& side : {row.a.address, row.b.address}) {
        v1::RekeyNow* r = rekeys[side].mutable_rekey();
        r->add_association_ids(row.id);
        r->set_reason(why_rekey);
      }
      AddEvent(result.out, v1::Event::ASSOCIATION_REKEYED, row.id,
               absl::StrCat(row.a.address, " <-> ", row.b.address, ": ", why_rekey), now);
      ++result.rekeyed;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (auto& [address, m] : teardowns) result.out.messages.emplace_back(address, std::move(m));
  for (auto& [address, m] : rekeys) result.out.messages.emplace_back(address, std::move(m));
  return result;
}

}  // namespace ikeless::controller
