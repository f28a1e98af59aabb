#include "tools/ipsecctl/policy_flags.h"

#include <algorithm>
#include <limits>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/lifetime_rules.h"
#include "tools/ipsecctl/duration.h"
#include "tools/ipsecctl/names.h"
#include "tools/ipsecctl/numbers.h"
#include "tools/ipsecctl/selector.h"

namespace ikeless::ipsecctl {
namespace {

constexpr OptionSpec kPolicySpecs[] = {
    {"--between", nullptr, 2, "A B"},
    {"--action", nullptr, 1, "protect|bypass|discard"},
    {"--protocol", nullptr, 1, "esp|ah"},
    {"--mode", nullptr, 1, "tunnel|transport"},
    {"--encryption", nullptr, 1, "NAME"},
    {"--key-bits", nullptr, 1, "N"},
    {"--integrity", nullptr, 1, "NAME"},
    {"--lifetime", nullptr, 1, "DURATION"},
    {"--soft-lifetime", nullptr, 1, "DURATION"},
    {"--lifetime-bytes", nullptr, 1, "N"},
    {"--soft-lifetime-bytes", nullptr, 1, "N"},
    {"--selector", nullptr, 1, "SPEC"},
    {"--priority", nullptr, 1, "N"},
    {"--replay-window", nullptr, 1, "N"},
    {"--allow-legacy", nullptr, 0, "", /*boolean=*/true},
    {"--description", nullptr, 1, "TEXT"},
};

// Prefixes an error with the option it is about.
absl::Status Named(absl::string_view option, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat(option, ": ", status.message()));
}

// Parses with `parse` and stores into `*field`, or returns the error named.
template <typename T, typename Parse>
absl::Status Set(const Option& option, Parse parse, std::optional<T>* field) {
  auto value = parse(option.values.at(0));
  if (!value.ok()) return Named(option.name, value.status());
  *field = static_cast<T>(*value);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseU32(absl::string_view text) {
  return ParseUnsigned(text, std::numeric_limits<uint32_t>::max());
}

absl::StatusOr<uint64_t> ParseU64(absl::string_view text) {
  return ParseUnsigned(text, std::numeric_limits<uint64_t>::max());
}

absl::StatusOr<int64_t> ParseI32(absl::string_view text) {
  return ParseSigned(text, std::numeric_limits<int32_t>::min(),
                     std::numeric_limits<int32_t>::max());
}

// The hard lifetime must leave a rekey time to complete, said here as the
// controller says it (common/lifetime_rules.h) so a typo fails before a
// round trip; a zero soft lifetime is meaningful (the controller then uses
// 90 % of the hard one).
absl::StatusOr<uint64_t> ParseHardLifetime(absl::string_view text) {
  auto seconds = ParseDurationSeconds(text);
  if (seconds.ok() && *seconds < kMinHardLifetimeSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be at least ", kMinHardLifetimeSeconds,
                     "s: a rekey must have time to complete before the SA dies"));
  }
  return seconds;
}

// An address, a CIDR prefix or "*", in canonical spelling.
absl::StatusOr<std::string> ParseEndpoint(absl::string_view text) {
  auto match = AddressMatch::Parse(text);
  if (!match.ok()) return match.status();
  return match->ToString();
}

}  // namespace

bool PolicyEdits::empty() const {
  return !a && !b && !action && !protocol && !mode && !encryption && !key_bits && !integrity &&
         !hard_seconds && !soft_seconds && !hard_bytes && !soft_bytes && !selector && !priority &&
         !replay_window && !allow_legacy && !description;
}

absl::Span<const OptionSpec> PolicyOptionSpecs() { return kPolicySpecs; }

absl::Status ParsePolicyOption(const Option& option, PolicyEdits* edits) {
  const std::string& name = option.name;
  if (name == "--between") {
    auto a = ParseEndpoint(option.values.at(0));
    if (!a.ok()) return Named("--between", a.status());
    auto b = ParseEndpoint(option.values.at(1));
    if (!b.ok()) return Named("--between", b.status());
    edits->a = *a;
    edits->b = *b;
    return absl::OkStatus();
  }
  if (name == "--action") return Set(option, ParseAction, &edits->action);
  if (name == "--protocol") return Set(option, ParseProtocol, &edits->protocol);
  if (name == "--mode") return Set(option, ParseMode, &edits->mode);
  if (name == "--encryption") return Set(option, ParseEncryption, &edits->encryption);
  if (name == "--key-bits") return Set(option, ParseU32, &edits->key_bits);
  if (name == "--integrity") return Set(option, ParseIntegrity, &edits->integrity);
  if (name == "--lifetime") return Set(option, ParseHardLifetime, &edits->hard_seconds);
  if (name == "--soft-lifetime") return Set(option, ParseDurationSeconds, &edits->soft_seconds);
  if (name == "--lifetime-bytes") return Set(option, ParseU64, &edits->hard_bytes);
  if (name == "--soft-lifetime-bytes") return Set(option, ParseU64, &edits->soft_bytes);
  if (name == "--selector") return Set(option, ParseSelector, &edits->selector);
  if (name == "--priority") return Set(option, ParseI32, &edits->priority);
  if (name == "--replay-window") return Set(option, ParseU32, &edits->replay_window);
  if (name == "--description") {
    edits->description = option.values.at(0);
    return absl::OkStatus();
  }
  if (name == "--allow-legacy") {
    auto value = BoolValue(option);
    if (!value.ok()) return Named(name, value.status());
    edits->allow_legacy = *value;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(name, ": unknown option"));
}

void ApplyPolicyEdits(const PolicyEdits& edits, v1::Policy* policy) {
  if (edits.a) policy->mutable_a()->set_address(*edits.a);
  if (edits.b) policy->mutable_b()->set_address(*edits.b);
  if (edits.action) policy->set_action(*edits.action);
  if (edits.protocol) policy->set_protocol(*edits.protocol);
  if (edits.mode) policy->set_mode(*edits.mode);
  if (edits.encryption) {
    // Another algorithm: the stored key size was the old one's (128 for
    // AES-GCM would be refused for ChaCha20); take the new one's default
    // unless --key-bits says otherwise.
    if (*edits.encryption != policy->encryption()) policy->set_encryption_key_bits(0);
    policy->set_encryption(*edits.encryption);
  }
  if (edits.key_bits) policy->set_encryption_key_bits(*edits.key_bits);
  if (edits.integrity) policy->set_integrity(*edits.integrity);
  // A new hard limit without a soft one: the stored soft limit was either
  // derived from the old hard one (the controller's 90 %) or is not below
  // the new one; either way 0 makes the controller derive it afresh, as it
  // did at creation (else `--lifetime 1h` after a 24h policy is refused).
  const v1::Lifetime& l = policy->lifetime();
  auto stale = [](uint64_t soft, uint64_t old_hard, uint64_t new_hard) {
    return soft == DerivedSoftLimit(old_hard) || soft >= new_hard;
  };
  if (edits.hard_seconds && !edits.soft_seconds &&
      stale(l.soft_seconds(), l.hard_seconds(), *edits.hard_seconds)) {
    policy->mutable_lifetime()->set_soft_seconds(0);
  }
  if (edits.hard_bytes && !edits.soft_bytes &&
      stale(l.soft_bytes(), l.hard_bytes(), *edits.hard_bytes)) {
    policy->mutable_lifetime()->set_soft_bytes(0);
  }
  if (edits.hard_seconds) policy->mutable_lifetime()->set_hard_seconds(*edits.hard_seconds);
  if (edits.soft_seconds) policy->mutable_lifetime()->set_soft_seconds(*edits.soft_seconds);
  if (edits.hard_bytes) policy->mutable_lifetime()->set_hard_bytes(*edits.hard_bytes);
  if (edits.soft_bytes) policy->mutable_lifetime()->set_soft_bytes(*edits.soft_bytes);
  if (edits.selector) *policy->mutable_selector() = *edits.selector;
  if (edits.priority) policy->set_priority(*edits.priority);
  if (edits.replay_window) policy->set_replay_window(*edits.replay_window);
  if (edits.allow_legacy) policy->set_allow_legacy_algorithms(*edits.allow_legacy);
  if (edits.description) policy->set_description(*edits.description);
}

}  // namespace ikeless::ipsecctl
