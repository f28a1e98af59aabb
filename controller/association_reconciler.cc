#include "controller/association_reconciler.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ikeless::controller {
namespace {

using storage::AssociationRow;
using storage::AssociationSide;

void AddEvent(ProcessorOutput& out, v1::Event::Kind kind, std::string subject,
              std::string detail, absl::Time now) {
  v1::Event& e = out.events.emplace_back();
  e.set_kind(kind);
  e.set_time_unix_micros(absl::ToUnixMicros(now));
  e.set_subject(std::move(subject));
  e.set_detail(std::move(detail));
}

bool Owns(const std::vector<std::string>& addresses, const std::string& address) {
  return std::find(addresses.begin(), addresses.end(), address) != addresses.end();
}

// Adds `id` to the Teardown for `address` in `teardowns`.
void Tell(std::map<std::string, v1::ControllerMessage>& teardowns, const std::string& address,
          uint64_t id, absl::string_view reason) {
  v1::Teardown* t = teardowns[address].mutable_teardown();
  t->add_association_ids(id);
  t->set_reason(std::string(reason));
}

}  // namespace

absl::Status ValidateHelloReport(const v1::Hello& hello) {
  if (static_cast<size_t>(hello.installed_associations_size()) > kMaxHelloReportEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("hello.installed_associations: at most ", kMaxHelloReportEntries,
                     " entries (", hello.installed_associations_size(), " sent)"));
  }
  if (static_cast<size_t>(hello.in_flight_size()) > kMaxHelloReportEntries) {
    return absl::InvalidArgumentError(absl::StrCat("hello.in_flight: at most ",
                                                   kMaxHelloReportEntries, " entries (",
                                                   hello.in_flight_size(), " sent)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Reconciliation> ReconcileHello(storage::AssociationTxn& txn,
                                              const std::vector<std::string>& addresses,
                                              const v1::Hello& hello, absl::Time registered,
                                              absl::Time now) {
  Reconciliation result;
  const std::set<uint64_t> installed(hello.installed_associations().begin(),
                                     hello.installed_associations().end());
  std::set<std::pair<uint64_t, uint32_t>> in_flight;
  for (const v1::InFlightSetup& s : hello.in_flight()) in_flight.emplace(s.request_id(), s.spi());
  // A side the node fills whose (request id, SPI) it still sends (S43).
  auto waits_on = [&](const AssociationSide& side) {
    return side.filled() && in_flight.count({side.request_id, side.spi}) != 0;
  };

  std::map<std::string, v1::ControllerMessage> teardowns;  // by address
  std::set<uint64_t> known;  // rows of this node, by id
  std::set<uint64_t> seen;   // a row between two addresses of the node comes twice
  for (const std::string& address : addresses) {
    absl::StatusOr<std::vector<AssociationRow>> rows = txn.ListRows(address, "");
    if (!rows.ok()) return rows.status();
    for (const AssociationRow& row : *rows) {
      if (!seen.insert(row.id).second) continue;
      known.insert(row.id);
      const bool is_a = Owns(addresses, row.a.address);
      const bool is_b = Owns(addresses, row.b.address);
      if (!row.established()) {
        if (is_b && row.create_time < registered) {
          // S23 now: the node the row waits for is here. Not counted as an
          // attempt (S24): the timer's schedule stays as it was.
          result.out.messages.emplace_back(row.b.address, StartupFor(row));
          ++result.startups;
          AddEvent(result.out, v1::Event::STARTUP_SENT, absl::StrCat(row.id),
                   absl::StrCat("to=", row.b.address, " on hello attempt=", row.startups_sent),
                   now);
        }
        if (hello.reconcile() && is_a && !waits_on(row.a)) {
          // S22's requester no longer asks: nobody waits on this row.
          if (absl::Status d = txn.Delete(row.id); !d.ok() && !absl::IsNotFound(d)) return d;
          ++result.abandoned;
          AddEvent(result.out, v1::Event::ASSOCIATION_DELETED, absl::StrCat(row.id),
                   absl::StrCat("reconciled: ", row.a.address, " no longer requests it"), now);
        }
        continue;
      }
      if (!hello.reconcile() || installed.count(row.id) != 0) continue;
      // A setup in flight may have this row's Distribution still to come
      // (lost with the old stream; S43 -> S5 fetches it again).
      if ((is_a && waits_on(row.a)) || (is_b && waits_on(row.b))) continue;
      if (absl::Status d = txn.Delete(row.id); !d.ok() && !absl::IsNotFound(d)) return d;
      ++result.retired;
      const std::string& mine = is_a ? row.a.address : row.b.address;
      const std::string& peer = is_a ? row.b.address : row.a.address;
      Tell(teardowns, peer, row.id,
           absl::StrCat("reconciled: ", mine, " has no SA of association ", row.id));
      AddEvent(result.out, v1::Event::ASSOCIATION_DELETED, absl::StrCat(row.id),
               absl::StrCat("reconciled: ", mine, " has no SA of it; ", peer,
                            " told to remove its SAs"),
               now);
    }
  }
  if (hello.reconcile()) {
    // SAs of rows the table no longer has (or that are not this node's):
    // removed on the node; its next packet acquires anew.
    for (uint64_t id : installed) {
      if (id == 0 || known.count(id) != 0) continue;
      Tell(teardowns, addresses.front(), id,
           absl::StrCat("reconciled: association ", id, " is unknown to the controller"));
      ++result.unknown_sas;
      AddEvent(result.out, v1::Event::ASSOCIATION_TORN_DOWN, absl::StrCat(id),
               absl::StrCat("reconciled: unknown to the controller; ", addresses.front(),
                            " told to remove its SAs"),
               now);
    }
  }
  for (auto& [address, m] : teardowns) result.out.messages.emplace_back(address, std::move(m));
  return result;
}

absl::StatusOr<Reconciliation> AssociationReconciler::OnHello(
    const std::vector<std::string>& addresses, const v1::Hello& hello, absl::Time registered) {
  if (addresses.empty()) return Reconciliation();
  const absl::Time now = clock_->Now();
  Reconciliation result;
  absl::Status s = store_->Transact([&](storage::AssociationTxn& txn) -> absl::Status {
    absl::StatusOr<Reconciliation> r = ReconcileHello(txn, addresses, hello, registered, now);
    if (!r.ok()) return r.status();
    result = std::move(*r);  // a retried transaction starts clean
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return result;
}

absl::StatusOr<ProcessorOutput> AssociationReconciler::Delete(uint64_t id, absl::string_view by,
                                                              AssociationRow* deleted) {
  if (id == 0) return absl::InvalidArgumentError("id: must not be 0");
  const absl::Time now = clock_->Now();
  auto not_found = [id] { return absl::NotFoundError(absl::StrCat("association ", id, " not found")); };
  // Its addresses first; the transaction then finds it among its pair's
  // rows (or not: deleted meanwhile).
  absl::StatusOr<std::optional<AssociationRow>> before = store_->GetAssociation(id);
  if (!before.ok()) return before.status();
  if (!before->has_value()) return not_found();
  const std::string a = (*before)->a.address, b = (*before)->b.address;
  ProcessorOutput out;
  absl::Status s = store_->Transact([&](storage::AssociationTxn& txn) -> absl::Status {
    out = ProcessorOutput();
    absl::StatusOr<std::vector<AssociationRow>> rows = txn.ListRows(a, b);
    if (!rows.ok()) return rows.status();
    auto it = std::find_if(rows->begin(), rows->end(),
                           [id](const AssociationRow& r) { return r.id == id; });
    if (it == rows->end()) return not_found();
    if (absl::Status d = txn.Delete(id); !d.ok()) return d;
    const std::string reason = absl::StrCat("deleted by ", by);
    for (const std::string& side : {it->a.address, it->b.address}) {
      v1::ControllerMessage m;
      m.mutable_teardown()->add_association_ids(id);
      m.mutable_teardown()->set_reason(reason);
      out.messages.emplace_back(side, std::move(m));
    }
    AddEvent(out, v1::Event::ASSOCIATION_DELETED, absl::StrCat(id),
             absl::StrCat(it->a.address, " <-> ", it->b.address, ": ", reason), now);
    if (deleted != nullptr) *deleted = *it;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace ikeless::controller
