#include "controller/request_processor.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/lifetime_rules.h"
#include "common/secret.h"
#include "controller/pair_rows.h"
#include "controller/policy_validation.h"
#include "controller/sa_generator.h"

namespace ikeless::controller {
namespace {

using storage::AssociationRow;
using storage::AssociationSide;
using storage::AssociationTxn;

// RFC 4303 §2.1: SPI 0 is reserved for local use, 1-255 by IANA.
constexpr uint32_t kMinSpi = 256;
// Successor SAs per direction and row (DECISIONS 33): each is a fresh key
// the agents hold until they switch to it, so there are few.
constexpr size_t kMaxSuccessors = 8;

// The successor SPIs a request reserves: a few, none reserved by RFC 4303
// and none used twice (the receiver tells its SAs apart by SPI alone).
absl::Status ValidateSuccessorSpis(const v1::SaRequest& r) {
  if (static_cast<size_t>(r.successor_spis_size()) > kMaxSuccessors) {
    return absl::InvalidArgumentError(absl::StrCat("request.successor_spis: at most ",
                                                   kMaxSuccessors, " (got ",
                                                   r.successor_spis_size(), ")"));
  }
  for (int i = 0; i < r.successor_spis_size(); ++i) {
    const uint32_t spi = r.successor_spis(i);
    const std::string field = absl::StrCat("request.successor_spis[", i, "]");
    if (spi < kMinSpi) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", spi, " is reserved (RFC 4303 §2.1: 0 and 1-255)"));
    }
    if (spi == r.spi()) return absl::InvalidArgumentError(absl::StrCat(field, ": equals request.spi"));
    for (int j = 0; j < i; ++j) {
      if (r.successor_spis(j) == spi) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": repeats successor_spis[", j, "]"));
      }
    }
  }
  return absl::OkStatus();
}

// Checks and canonicalises a request; the error names the field.
absl::Status NormalizeRequest(v1::SaRequest* r) {
  if (r->id() == 0) return absl::InvalidArgumentError("request.id: must not be 0");
  if (r->spi() < kMinSpi) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request.spi: ", r->spi(), " is reserved (RFC 4303 §2.1: 0 and 1-255)"));
  }
  auto source = IpAddress::Parse(r->source());
  if (!source.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request.source: ", source.status().message()));
  }
  auto peer = IpAddress::Parse(r->peer());
  if (!peer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("request.peer: ", peer.status().message()));
  }
  if (*source == *peer) {
    return absl::InvalidArgumentError("request.peer: must differ from request.source");
  }
  if (source->is_v4() != peer->is_v4()) {
    return absl::InvalidArgumentError(
        "request.peer: must be of the same address family as request.source");
  }
  if (auto s = ValidateSelector(r->selector(), "request.selector"); !s.ok()) return s;
  if (auto s = ValidateSuccessorSpis(*r); !s.ok()) return s;
  // The inner prefixes: both or neither, canonical CIDR of one family.
  v1::TrafficPrefixes* t = r->mutable_traffic();
  if (t->local().empty() != t->remote().empty()) {
    return absl::InvalidArgumentError("request.traffic: name both local and remote, or neither");
  }
  if (!t->local().empty()) {
    auto local = AddressMatch::Parse(t->local());
    if (!local.ok() || local->is_wildcard()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request.traffic.local: ", local.ok() ? "must be a prefix, not '*'"
                                                             : local.status().message()));
    }
    auto remote = AddressMatch::Parse(t->remote());
    if (!remote.ok() || remote->is_wildcard()) {
      return absl::InvalidArgumentError(
          absl::StrCat("request.traffic.remote: ", remote.ok() ? "must be a prefix, not '*'"
                                                               : remote.status().message()));
    }
    if (local->is_v4() != remote->is_v4()) {
      return absl::InvalidArgumentError(
          "request.traffic: local and remote must be of one address family");
    }
    t->set_local(local->ToCidr());
    t->set_remote(remote->ToCidr());
  }
  r->set_source(source->ToString());
  r->set_peer(peer->ToString());
  return absl::OkStatus();
}

// The side of `row` that `address` fills, and the other.
std::pair<const AssociationSide*, const AssociationSide*> Sides(const AssociationRow& row,
                                                                absl::string_view address) {
  if (row.a.address == address) return {&row.a, &row.b};
  return {&row.b, &row.a};
}

}  // namespace

Outgoing::~Outgoing() { WipeKeys(&message); }

v1::ControllerMessage StartupFor(const AssociationRow& row) {
  v1::ControllerMessage m;
  v1::RequestStartup* s = m.mutable_startup();
  s->set_peer(row.a.address);  // S23: the request source of the request
  s->set_local(row.b.address);
  *s->mutable_selector() = row.selector;
  // Seen from b: its own prefix is local.
  s->mutable_traffic()->set_local(row.b_prefix);
  s->mutable_traffic()->set_remote(row.a_prefix);
  return m;
}

v1::ControllerMessage DistributionFor(const AssociationRow& row, absl::string_view side_address) {
  auto [self, other] = Sides(row, side_address);
  bool is_a = self == &row.a;
  v1::ControllerMessage m;
  v1::Distribution* d = m.mutable_distribution();
  d->set_request_id(self->request_id);
  d->set_source(self->address);
  d->set_peer(other->address);
  *d->mutable_policy() = row.policy;
  if (row.a_to_b && row.b_to_a) {
    *d->mutable_outbound() = is_a ? *row.a_to_b : *row.b_to_a;
    *d->mutable_inbound() = is_a ? *row.b_to_a : *row.a_to_b;
  }
  d->set_association_id(row.id);
  return m;
}

v1::ControllerMessage ErrorFor(const v1::SaRequest& request, v1::SetupError::Code code,
                               std::string message) {
  v1::ControllerMessage m;
  v1::SetupError* e = m.mutable_error();
  e->set_code(code);
  e->set_request_id(request.id());
  e->set_source(request.source());
  e->set_peer(request.peer());
  e->set_message(std::move(message));
  return m;
}

RequestProcessor::RequestProcessor(Options options, storage::PolicyStore* policies,
                                   storage::AssociationStore* associations, Clock* clock,
                                   RandomSource* random)
    : options_(options),
      policies_(policies),
      associations_(associations),
      clock_(clock),
      random_(random) {}

void RequestProcessor::AddEvent(ProcessorOutput& out, v1::Event::Kind kind,
                                std::string subject, std::string detail) {
  v1::Event e;
  e.set_kind(kind);
  e.set_time_unix_micros(absl::ToUnixMicros(clock_->Now()));
  e.set_subject(std::move(subject));
  e.set_detail(std::move(detail));
  out.events.push_back(std::move(e));
}

absl::StatusOr<ProcessorOutput> RequestProcessor::HandleRequest(const v1::SaRequest& request) {
  return HandleBatch(absl::MakeConstSpan(&request, 1));
}

absl::StatusOr<ProcessorOutput> RequestProcessor::HandleBatch(
    absl::Span<const v1::SaRequest> requests, size_t* failed_at) {
  if (failed_at != nullptr) *failed_at = requests.size();
  // Malformed requests are answered without touching storage, but keep
  // their place in the order: a rejection is not overtaken by the replies
  // to the requests after it.
  std::vector<v1::SaRequest> normalized(requests.begin(), requests.end());
  std::vector<std::optional<ProcessorOutput>> rejected(requests.size());
  size_t admitted = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (absl::Status s = NormalizeRequest(&normalized[i]); !s.ok()) {
      ProcessorOutput& r = rejected[i].emplace();
      r.messages.emplace_back(requests[i].source(),
                              ErrorFor(requests[i], v1::SetupError::INVALID_ARGUMENT,
                                       std::string(s.message())));
      AddEvent(r, v1::Event::REQUEST_REJECTED, requests[i].source(), std::string(s.message()));
    } else {
      ++admitted;
    }
  }
  ProcessorOutput out;
  auto decide = [&](AssociationTxn* txn) -> absl::Status {
    out = ProcessorOutput();  // a retried transaction starts clean
    for (size_t i = 0; i < normalized.size(); ++i) {
      if (rejected[i].has_value()) {
        out.messages.insert(out.messages.end(), rejected[i]->messages.begin(),
                            rejected[i]->messages.end());
        out.events.insert(out.events.end(), rejected[i]->events.begin(),
                          rejected[i]->events.end());
      } else if (absl::Status p = Process(*txn, normalized[i], out); !p.ok()) {
        if (failed_at != nullptr) *failed_at = i;
        return p;
      }
    }
    return absl::OkStatus();
  };
  absl::Status s = admitted == 0 ? decide(nullptr)
                                 : associations_->Transact(
                                       [&](AssociationTxn& txn) { return decide(&txn); });
  if (!s.ok()) return s;
  return out;
}

absl::Status RequestProcessor::Process(AssociationTxn& txn, const v1::SaRequest& r,
                                       ProcessorOutput& out) {
  // S2: a row where the requester's side already has this id?
  auto by_id = txn.FindByRequestId(r.source(), r.peer(), r.id());
  if (!by_id.ok()) return by_id.status();
  if (by_id->has_value()) {
    const AssociationRow& row = **by_id;
    auto [self, other] = Sides(row, r.source());
    if (self->spi != r.spi()) {
      // S3 -> S8: same id, different SPI.
      return Conflict(txn, r, absl::StrCat("request id ", r.id(), " is registered with another SPI"),
                      out);
    }
    if (other->filled()) {
      // S4 -> S5: both sides known; a retransmission gets the same answer.
      out.messages.emplace_back(r.source(), DistributionFor(row, r.source()));
    }
    // S6: otherwise the peer has not asked yet; nothing to do.
    return absl::OkStatus();
  }

  // S7: the SPI is already used by another request of this node to the peer.
  auto by_spi = txn.FindBySpi(r.source(), r.peer(), r.spi());
  if (!by_spi.ok()) return by_spi.status();
  if (by_spi->has_value()) {
    // S8.
    return Conflict(txn, r, absl::StrCat("SPI ", r.spi(), " is in use by another request"), out);
  }

  // S9: a half-open row the peer opened towards us, waiting for our side.
  // Seen from the peer that opened it: its prefix is our remote one.
  auto half_open = txn.FindHalfOpen(r.peer(), r.source(), r.selector(), r.traffic().remote(),
                                    r.traffic().local());
  if (!half_open.ok()) return half_open.status();
  if (half_open->has_value()) return Establish(txn, **half_open, r, out);

  // S21: nothing in the table; open a row if a policy allows the pair.
  return Open(txn, r, out);
}

absl::Status RequestProcessor::Conflict(AssociationTxn& txn, const v1::SaRequest& r,
                                        absl::string_view why, ProcessorOutput& out) {
  auto entries = txn.ListEntries(r.source(), r.peer());
  if (!entries.ok()) return entries.status();
  v1::ControllerMessage m = ErrorFor(r, v1::SetupError::CONFLICT, std::string(why));
  for (const storage::SideEntry& e : *entries) {
    v1::SetupError::Entry* entry = m.mutable_error()->add_entries();
    entry->set_id(e.request_id);
    entry->set_spi(e.spi);
  }
  out.messages.emplace_back(r.source(), std::move(m));
  AddEvent(out, v1::Event::REQUEST_REJECTED, r.source(),
           absl::StrCat("CONFLICT id=", r.id(), " spi=", r.spi(), " peer=", r.peer()));
  return absl::OkStatus();
}

absl::Status RequestProcessor::Establish(AssociationTxn& txn, AssociationRow& row,
                                         const v1::SaRequest& r, ProcessorOutput& out) {
  // S9: fill the blank side with the request's id and SPI.
  row.b.request_id = r.id();
  row.b.spi = r.spi();
  // S10: both directions from the stored policy, fresh keys each; each
  // direction is received on its receiver's SPI.
  auto a_to_b = MakeSaParameters(row.policy, row.selector, row.a.address, row.b.address,
                                 row.b.spi, *random_);
  if (!a_to_b.ok()) return a_to_b.status();
  auto b_to_a = MakeSaParameters(row.policy, row.selector, row.b.address, row.a.address,
                                 row.a.spi, *random_);
  if (!b_to_a.ok()) return b_to_a.status();
  row.a_to_b = std::move(*a_to_b);
  row.b_to_a = std::move(*b_to_a);
  WipeKeys(&*a_to_b);
  WipeKeys(&*b_to_a);
  row.b.successor_spis.assign(r.successor_spis().begin(), r.successor_spis().end());
  // Successor keys (DECISIONS 33): as many generations as both receivers
  // reserved SPIs for, each direction on its receiver's SPIs, so that the
  // agents can keep rekeying while the controller is away.
  const v1::Lifetime& lifetime = row.policy.lifetime();
  const size_t successors =
      lifetime.hard_seconds() == 0
          ? 0
          : std::min({row.a.successor_spis.size(), row.b.successor_spis.size(), kMaxSuccessors});
  for (size_t i = 0; i < successors; ++i) {
    for (auto [sa, from, to, spi] :
         {std::tuple{&*row.a_to_b, &row.a, &row.b, row.b.successor_spis[i]},
          std::tuple{&*row.b_to_a, &row.b, &row.a, row.a.successor_spis[i]}}) {
      auto next = MakeSaParameters(row.policy, row.selector, from->address, to->address, spi,
                                   *random_);
      if (!next.ok()) return next.status();
      *sa->add_successors() = *next;
      WipeKeys(&*next);
    }
  }
  const absl::Time now = clock_->Now();
  row.establish_time = now;
  // The row lives as long as the SA (source: "measure a time same as the
  // term of validity ... deletes the entry"), and with successors as long
  // as the last of them may be in use: each starts at most one soft
  // lifetime (and a little slack) after the one before.
  const uint64_t soft = lifetime.soft_seconds() != 0 ? lifetime.soft_seconds()
                                                     : DerivedSoftLimit(lifetime.hard_seconds());
  row.expire_time =
      now + absl::Seconds(lifetime.hard_seconds() +
                          (successors == 0 ? 0 : successors * soft + SuccessorSlackSeconds(successors)));
  row.next_startup_time = absl::InfiniteFuture();  // S24: the peer answered
  if (absl::Status s = txn.Update(row); !s.ok()) return s;
  // S11: both nodes at once, each with its own request id. A opened the
  // row: its first packets are the ones held (S35), so B installs first
  // where B could not keep packets that arrive early (dispatcher.h).
  out.messages.emplace_back(row.a.address, DistributionFor(row, row.a.address));
  out.messages.back().after_installed_at = row.b.address;
  out.messages.emplace_back(row.b.address, DistributionFor(row, row.b.address));
  AddEvent(out, v1::Event::ASSOCIATION_ESTABLISHED, absl::StrCat(row.id),
           absl::StrCat(row.a.address, " <-> ", row.b.address, " policy=", row.policy.name(),
                        " spi_a=", row.a.spi, " spi_b=", row.b.spi));
  return absl::OkStatus();
}

absl::Status RequestProcessor::Open(AssociationTxn& txn, const v1::SaRequest& r,
                                    ProcessorOutput& out) {
  // Rows a rekey or a restarted agent's fresh setup replaced do not count
  // (controller/pair_rows.h).
  if (options_.max_rows_per_pair != 0 || options_.max_rows_per_pair_total != 0) {
    auto rows = txn.ListRows(r.source(), r.peer());
    if (!rows.ok()) return rows.status();
    const size_t held = RowsHeld(*rows, r.source());
    std::string refusal;
    if (options_.max_rows_per_pair != 0 && held >= options_.max_rows_per_pair) {
      refusal = absl::StrCat(r.source(), " already holds ", held, " associations with ", r.peer());
    } else if (options_.max_rows_per_pair_total != 0 &&
               rows->size() >= options_.max_rows_per_pair_total) {
      refusal = absl::StrCat(r.source(), " and ", r.peer(), " have ", rows->size(),
                             " associations, superseded ones included, until their lifetimes "
                             "end (ipsecctl assoc delete removes them)");
    }
    if (!refusal.empty()) {
      out.messages.emplace_back(
          r.source(), ErrorFor(r, v1::SetupError::RESOURCE_EXHAUSTED, std::move(refusal)));
      AddEvent(out, v1::Event::REQUEST_REJECTED, r.source(),
               absl::StrCat("RESOURCE_EXHAUSTED peer=", r.peer()));
      return absl::OkStatus();
    }
  }
  if (options_.max_half_open_per_address != 0) {
    auto waiting = txn.CountHalfOpen(r.source());
    if (!waiting.ok()) return waiting.status();
    if (*waiting >= options_.max_half_open_per_address) {
      out.messages.emplace_back(
          r.source(),
          ErrorFor(r, v1::SetupError::RESOURCE_EXHAUSTED,
                   absl::StrCat(r.source(), " already waits on ", *waiting,
                                " peers that have not answered; retry when some have")));
      AddEvent(out, v1::Event::REQUEST_REJECTED, r.source(),
               absl::StrCat("RESOURCE_EXHAUSTED half_open=", *waiting));
      return absl::OkStatus();
    }
  }
  auto source = IpAddress::Parse(r.source());
  auto peer = IpAddress::Parse(r.peer());
  auto policy = policies_->MatchPolicy(*source, *peer, r.selector());
  if (!policy.ok()) return policy.status();
  if (policy->has_value() && ((*policy)->action() == v1::POLICY_ACTION_BYPASS ||
                               (*policy)->action() == v1::POLICY_ACTION_DISCARD)) {
    // The pair's policy protects nothing: no keys for it (S26).
    out.messages.emplace_back(
        r.source(),
        ErrorFor(r, v1::SetupError::NO_POLICY,
                 absl::StrCat("policy ", (*policy)->name(), " says ",
                              (*policy)->action() == v1::POLICY_ACTION_BYPASS ? "bypass" : "discard",
                              " for ", r.source(), " <-> ", r.peer())));
    AddEvent(out, v1::Event::REQUEST_REJECTED, r.source(),
             absl::StrCat("NO_POLICY peer=", r.peer(), " policy=", (*policy)->name()));
    return absl::OkStatus();
  }
  if (!policy->has_value()) {
    // S26.
    out.messages.emplace_back(
        r.source(), ErrorFor(r, v1::SetupError::NO_POLICY,
                             absl::StrCat("no policy for ", r.source(), " <-> ", r.peer())));
    AddEvent(out, v1::Event::REQUEST_REJECTED, r.source(),
             absl::StrCat("NO_POLICY peer=", r.peer()));
    return absl::OkStatus();
  }
  // S22: our side filled, the peer's blank, the policy copied in.
  const absl::Time now = clock_->Now();
  AssociationRow row;
  row.a = {r.source(), r.id(), r.spi()};
  row.a.successor_spis.assign(r.successor_spis().begin(), r.successor_spis().end());
  row.b = {r.peer(), 0, 0};
  row.selector = r.selector();
  row.a_prefix = r.traffic().local();
  row.b_prefix = r.traffic().remote();
  row.policy = **policy;
  row.create_time = now;
  row.startups_sent = 1;  // S23 below is the first
  row.next_startup_time = now + options_.startup_interval;
  auto id = txn.Insert(row);
  if (!id.ok()) return id.status();
  row.id = *id;
  // S23: wake the peer now.
  out.messages.emplace_back(row.b.address, StartupFor(row));
  AddEvent(out, v1::Event::ASSOCIATION_OPENED, absl::StrCat(row.id),
           absl::StrCat(row.a.address, " -> ", row.b.address, " policy=", row.policy.name()));
  AddEvent(out, v1::Event::STARTUP_SENT, absl::StrCat(row.id),
           absl::StrCat("to=", row.b.address, " attempt=1"));
  return absl::OkStatus();
}

absl::StatusOr<ProcessorOutput> RequestProcessor::Tick() {
  ProcessorOutput out;
  const absl::Time now = clock_->Now();
  absl::Status s = associations_->Transact([&](AssociationTxn& txn) -> absl::Status {
    out = ProcessorOutput();
    auto due = txn.DueStartups(now, options_.timer_batch);
    if (!due.ok()) return due.status();
    for (AssociationRow& row : *due) {
      if (row.startups_sent >= options_.startup_attempts) {
        // S24 -> S27: six startups went unanswered; drop the row.
        if (absl::Status d = txn.Delete(row.id); !d.ok()) return d;
        // S28: tell the requester, with its own id.
        v1::SaRequest original;
        original.set_id(row.a.request_id);
        original.set_source(row.a.address);
        original.set_peer(row.b.address);
        out.messages.emplace_back(
            row.a.address,
            ErrorFor(original, v1::SetupError::PEER_UNREACHABLE,
                     absl::StrCat(row.b.address, " did not answer ", row.startups_sent,
                                  " request startups")));
        AddEvent(out, v1::Event::PEER_UNREACHABLE, absl::StrCat(row.id),
                 absl::StrCat(row.a.address, " -> ", row.b.address));
        AddEvent(out, v1::Event::ASSOCIATION_DELETED, absl::StrCat(row.id), "peer unreachable");
        continue;
      }
      // S23 repeated: the previous startup may have been lost.
      ++row.startups_sent;
      row.next_startup_time = now + options_.startup_interval;
      if (absl::Status u = txn.Update(row); !u.ok()) return u;
      out.messages.emplace_back(row.b.address, StartupFor(row));
      AddEvent(out, v1::Event::STARTUP_SENT, absl::StrCat(row.id),
               absl::StrCat("to=", row.b.address, " attempt=", row.startups_sent));
    }
    auto expired = txn.Expired(now, options_.timer_batch);
    if (!expired.ok()) return expired.status();
    for (const AssociationRow& row : *expired) {
      // The SA's hard lifetime is over: so is its row.
      if (absl::Status d = txn.Delete(row.id); !d.ok()) return d;
      AddEvent(out, v1::Event::ASSOCIATION_DELETED, absl::StrCat(row.id),
               "hard lifetime ended");
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<absl::Time> RequestProcessor::NextDeadline() {
  return associations_->NextDeadline();
}

}  // namespace ikeless::controller
