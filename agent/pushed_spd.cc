#include "agent/pushed_spd.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/spd_match.h"
#include "common/address.h"
#include "google/protobuf/util/message_differencer.h"

namespace ikeless::agent {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Checks one rule; on success `rule` holds canonical addresses.
absl::Status CheckRule(v1::PushedRule& rule, const std::string& field) {
  if (rule.key().empty()) return Invalid(field + ".key", "is required");
  const std::string what = absl::StrCat(field, " (key \"", rule.key(), "\")");
  if (absl::Status s = CheckCanonicalCidr(rule.local(), what + ".local"); !s.ok()) return s;
  if (absl::Status s = CheckCanonicalCidr(rule.remote(), what + ".remote"); !s.ok()) return s;
  if ((rule.local().find(':') == std::string::npos) !=
      (rule.remote().find(':') == std::string::npos)) {
    return Invalid(what + ".remote", "must be of the same address family as local");
  }
  if (rule.protocol() > 255) return Invalid(what + ".protocol", "must be 0..255");
  if (rule.port() > 65535) return Invalid(what + ".port", "must be 0..65535");
  if (rule.port() != 0 && rule.protocol() != 6 && rule.protocol() != 17) {
    return Invalid(what + ".port", "needs protocol 6 (tcp) or 17 (udp)");
  }
  switch (rule.action()) {
    case v1::POLICY_ACTION_UNSPECIFIED:  // PROTECT, as policy.proto says
    case v1::POLICY_ACTION_PROTECT:
      break;
    case v1::POLICY_ACTION_BYPASS:
    case v1::POLICY_ACTION_DISCARD:
      return absl::OkStatus();  // setup_peer and local_address do not matter
    default:
      return Invalid(what + ".action", absl::StrCat("unknown action ", rule.action()));
  }
  // RFC 4301 §4.4.1 PROTECT: FIG. 15's "opposite party address for setting
  // request" and the request source.
  auto peer = IpAddress::Parse(rule.setup_peer());
  if (!peer.ok()) return Invalid(what + ".setup_peer", peer.status().message());
  auto local = IpAddress::Parse(rule.local_address());
  if (!local.ok()) return Invalid(what + ".local_address", local.status().message());
  if (peer->is_v4() != local->is_v4()) {
    return Invalid(what + ".setup_peer", "must be of the same address family as local_address");
  }
  if (*peer == *local) return Invalid(what + ".setup_peer", "must differ from local_address");
  rule.set_setup_peer(peer->ToString());
  rule.set_local_address(local->ToString());
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckCanonicalCidr(const std::string& text, const std::string& field) {
  if (text.empty()) return Invalid(field, "is required (a CIDR prefix such as 198.18.10.0/24)");
  if (text.find('/') == std::string::npos) {
    return Invalid(field, absl::StrCat("'", text, "' has no prefix length"));
  }
  auto m = AddressMatch::Parse(text);
  if (!m.ok()) return Invalid(field, m.status().message());
  if (m->is_wildcard()) return Invalid(field, "use a prefix such as 0.0.0.0/0, not a wildcard");
  const std::string canonical = CanonicalCidrOrSelf(text);
  if (canonical != text) {
    return Invalid(field, absl::StrCat("'", text, "' is not canonical (", canonical, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PushedSpd::Change> PushedSpd::Apply(const v1::SpdUpdate& update) {
  // The revision first: a delta on another base is no error in the rules.
  if (!update.snapshot()) {
    if (!has_snapshot_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "spd_update: delta to revision ", update.revision(), " before any snapshot"));
    }
    if (update.base_revision() != revision_) {
      return absl::FailedPreconditionError(
          absl::StrCat("spd_update.base_revision: ", update.base_revision(),
                       " is not the applied revision ", revision_));
    }
    if (update.revision() <= update.base_revision()) {
      return Invalid("spd_update.revision", absl::StrCat("must be above base_revision (",
                                                         update.revision(), " <= ",
                                                         update.base_revision(), ")"));
    }
  } else if (update.remove_size() != 0) {
    return Invalid("spd_update.remove", "must be empty in a snapshot");
  }

  // Validate everything before anything changes.
  std::map<std::string, v1::PushedRule> upserts;
  for (int i = 0; i < update.upsert_size(); ++i) {
    v1::PushedRule rule = update.upsert(i);
    const std::string field = absl::StrCat("spd_update.upsert[", i, "]");
    if (absl::Status s = CheckRule(rule, field); !s.ok()) return s;
    if (rule.name().empty()) rule.set_name(rule.key());
    const std::string key = rule.key();
    if (!upserts.emplace(key, std::move(rule)).second) {
      return Invalid(field + ".key", absl::StrCat("\"", key, "\" appears twice"));
    }
  }
  std::set<std::string> removes;
  for (int i = 0; i < update.remove_size(); ++i) {
    const std::string& key = update.remove(i);
    const std::string field = absl::StrCat("spd_update.remove[", i, "]");
    if (key.empty()) return Invalid(field, "is empty");
    if (!removes.insert(key).second) {
      return Invalid(field, absl::StrCat("\"", key, "\" appears twice"));
    }
    if (upserts.count(key) != 0) {
      return Invalid(field, absl::StrCat("\"", key, "\" is also upserted"));
    }
    if (rules_.count(key) == 0) {
      // The controller thinks we have a rule we do not: out of step.
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": \"", key, "\" is not in the applied SPD (revision ", revision_,
                       ")"));
    }
  }

  Change change;
  change.revision = update.revision();
  change.snapshot = update.snapshot();
  std::map<std::string, v1::PushedRule> next = update.snapshot() ? decltype(next)() : rules_;
  for (const std::string& key : removes) {
    next.erase(key);
    change.removed.push_back(key);
  }
  if (update.snapshot()) {
    for (const auto& [key, rule] : rules_) {
      if (upserts.count(key) == 0) change.removed.push_back(key);
    }
  }
  for (auto& [key, rule] : upserts) {
    auto old = rules_.find(key);
    if (old == rules_.end()) {
      change.added.push_back(key);
    } else if (!google::protobuf::util::MessageDifferencer::Equals(old->second, rule)) {
      change.changed.push_back(key);
    }
    next[key] = std::move(rule);
  }
  rules_ = std::move(next);
  revision_ = update.revision();
  has_snapshot_ = true;
  return change;
}

}  // namespace ikeless::agent
