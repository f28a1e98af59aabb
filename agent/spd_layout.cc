#include "agent/spd_layout.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "agent/spd_match.h"

namespace ikeless::agent {
namespace {

using datapath::SpdEntry;

// What the datapath matches on: two entries alike here are one to XFRM.
using Traffic = std::tuple<std::string, std::string, uint32_t, uint32_t>;
Traffic TrafficOf(const SpdEntry& e) {
  return {e.local_prefix, e.remote_prefix, e.protocol, e.port};
}

}  // namespace

SpdEntry EntryForRule(const v1::PushedRule& rule, uint32_t id) {
  SpdEntry e;
  e.id = id;
  e.name = rule.name().empty() ? rule.key() : rule.name();
  e.local_prefix = CanonicalCidrOrSelf(rule.local());
  e.remote_prefix = CanonicalCidrOrSelf(rule.remote());
  e.protocol = rule.protocol();
  e.port = rule.port();
  switch (rule.action()) {
    case v1::POLICY_ACTION_BYPASS:
      e.action = SpdEntry::Action::kBypass;
      break;
    case v1::POLICY_ACTION_DISCARD:
      e.action = SpdEntry::Action::kDiscard;
      break;
    default:  // PROTECT (unspecified included, policy.proto)
      e.action = SpdEntry::Action::kProtect;
      e.setup_peer = CanonicalOrSelf(rule.setup_peer());
      e.local_address = CanonicalOrSelf(rule.local_address());
      break;
  }
  return e;
}

SpdLayout::SpdLayout(std::vector<SpdEntry> local, std::optional<IpAddress> controller)
    : fixed_(std::move(local)), controller_(controller) {
  uint32_t max_id = 0;
  for (const SpdEntry& e : fixed_) max_id = std::max(max_id, e.id);
  if (controller_.has_value()) {
    SpdEntry bypass;
    bypass.id = ++max_id;
    bypass.name = "controller";
    bypass.local_prefix = controller_->is_v4() ? "0.0.0.0/0" : "::/0";
    bypass.remote_prefix = absl::StrCat(controller_->ToString(), controller_->is_v4() ? "/32" : "/128");
    bypass.action = SpdEntry::Action::kBypass;
    fixed_.push_back(std::move(bypass));
  }
  first_pushed_id_ = max_id + 1;
  next_id_ = first_pushed_id_;
}

absl::StatusOr<LaidOutSpd> SpdLayout::Plan(const std::map<std::string, v1::PushedRule>& rules) const {
  LaidOutSpd out;
  // (rank, key): the controller's precedence among its rules.
  std::vector<const v1::PushedRule*> sorted;
  for (const auto& [key, rule] : rules) sorted.push_back(&rule);
  std::sort(sorted.begin(), sorted.end(), [](const v1::PushedRule* a, const v1::PushedRule* b) {
    if (a->rank() != b->rank()) return a->rank() < b->rank();
    return a->key() < b->key();
  });

  // Keys that stay keep their ids; new keys take the next free ones.
  std::set<uint32_t> used;
  for (const auto& [key, rule] : rules) {
    if (auto it = ids_.find(key); it != ids_.end()) {
      out.ids[key] = it->second;
      used.insert(it->second);
    }
  }
  if (first_pushed_id_ > kMaxEntryId && !rules.empty()) {
    return absl::ResourceExhaustedError("spd: the local rules leave no entry ids for pushed rules");
  }
  const uint32_t span = kMaxEntryId - first_pushed_id_ + 1;
  uint32_t next = next_id_;
  for (const v1::PushedRule* rule : sorted) {
    if (out.ids.count(rule->key()) != 0) continue;
    uint32_t tries = 0;
    while (true) {
      if (next > kMaxEntryId || next < first_pushed_id_) next = first_pushed_id_;
      if (used.count(next) == 0) break;
      ++next;
      if (++tries > span) {
        return absl::ResourceExhaustedError(absl::StrCat("spd: ", rules.size(),
                                                         " pushed rules; at most ", span, " fit"));
      }
    }
    out.ids[rule->key()] = next;
    used.insert(next);
    ++next;
  }
  out.next_id = next;

  std::set<Traffic> seen;
  for (const SpdEntry& e : fixed_) {
    seen.insert(TrafficOf(e));
    out.entries.push_back(e);
  }
  for (const v1::PushedRule* rule : sorted) {
    SpdEntry e = EntryForRule(*rule, out.ids[rule->key()]);
    if (!seen.insert(TrafficOf(e)).second) {
      out.shadowed.push_back(rule->key());
      continue;
    }
    out.pushed_ids.insert(e.id);
    out.entries.push_back(std::move(e));
  }
  return out;
}

void SpdLayout::Commit(const LaidOutSpd& laid) {
  ids_ = laid.ids;
  next_id_ = laid.next_id;
}

std::optional<IpAddress> ControllerAddressOf(const std::string& target) {
  absl::string_view t = target;
  for (absl::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&t, scheme)) break;
  }
  absl::string_view host = t;
  if (absl::ConsumePrefix(&t, "[")) {
    host = t.substr(0, t.find(']'));
  } else if (std::count(t.begin(), t.end(), ':') == 1) {
    host = t.substr(0, t.find(':'));
  }
  auto ip = IpAddress::Parse(host);
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

}  // namespace ikeless::agent
