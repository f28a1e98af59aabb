#include "controller/policy_validation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/address.h"
#include "common/algorithms.h"
#include "common/lifetime_rules.h"

namespace ikeless::controller {
namespace {

constexpr uint64_t kMaxLifetimeSeconds = 365ull * 24 * 3600;
constexpr uint32_t kDefaultReplayWindow = 128;
constexpr uint32_t kMaxReplayWindow = 4096;

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// soft = 0 means "90 % of hard" (DerivedSoftLimit); otherwise soft must be
// below hard, and not so far below that its rekeys pile up rows
// (kMaxSoftLifetimesPerHard, common/lifetime_rules.h).
absl::Status NormalizePair(uint64_t* soft, uint64_t hard, absl::string_view soft_name,
                           absl::string_view hard_name) {
  if (hard == 0) {
    if (*soft != 0) return Invalid(soft_name, absl::StrCat("needs ", hard_name));
    return absl::OkStatus();
  }
  if (*soft == 0) *soft = DerivedSoftLimit(hard);
  if (*soft >= hard) {
    return Invalid(soft_name, absl::StrCat("must be below ", hard_name, " (", *soft,
                                           " >= ", hard, ")"));
  }
  // soft * k < hard, rounded up rather than multiplied: byte limits may
  // be near 2^64.
  const uint64_t least = hard / kMaxSoftLifetimesPerHard + (hard % kMaxSoftLifetimesPerHard != 0);
  if (*soft < least) {
    return Invalid(soft_name,
                   absl::StrCat("must be at least 1/", kMaxSoftLifetimesPerHard, " of ", hard_name,
                                " (", *soft, " < ", hard, "/", kMaxSoftLifetimesPerHard,
                                "): each soft expiry is a rekey and a new row kept until the "
                                "hard lifetime"));
  }
  return absl::OkStatus();
}

absl::Status CheckLegacy(bool legacy, bool allowed, absl::string_view field,
                         absl::string_view name, std::vector<std::string>* warnings) {
  if (!legacy) return absl::OkStatus();
  if (!allowed) {
    return Invalid(field, absl::StrCat(name,
                                       " is refused by RFC 8221; set "
                                       "allow_legacy_algorithms to use it anyway"));
  }
  warnings->push_back(absl::StrCat(field, ": legacy algorithm ", name,
                                   " accepted by opt-in (RFC 8221 advises against it)"));
  return absl::OkStatus();
}

absl::Status NormalizeAlgorithms(v1::Policy* p, std::vector<std::string>* warnings) {
  if (p->protocol() == v1::IPSEC_PROTOCOL_UNSPECIFIED) p->set_protocol(v1::IPSEC_PROTOCOL_ESP);
  if (!v1::IpsecProtocol_IsValid(p->protocol())) return Invalid("protocol", "unknown value");
  if (p->mode() == v1::MODE_UNSPECIFIED) p->set_mode(v1::MODE_TUNNEL);
  if (!v1::Mode_IsValid(p->mode())) return Invalid("mode", "unknown value");

  if (p->protocol() == v1::IPSEC_PROTOCOL_AH) {
    // AH authenticates only (RFC 4302).
    if (p->encryption() != v1::ENCRYPTION_UNSPECIFIED && p->encryption() != v1::ENCRYPTION_NULL) {
      return Invalid("encryption", "AH does not encrypt; leave it unset or null");
    }
    p->set_encryption(v1::ENCRYPTION_NULL);
  }
  if (p->encryption() == v1::ENCRYPTION_UNSPECIFIED) p->set_encryption(v1::ENCRYPTION_AES_GCM_16);
  const EncryptionInfo* enc = FindEncryption(p->encryption());
  if (enc == nullptr) {
    return Invalid("encryption", absl::StrCat("unknown algorithm ", p->encryption(),
                                              "; known: ", EncryptionNames()));
  }
  if (p->encryption_key_bits() == 0) p->set_encryption_key_bits(enc->key_bits.front());
  if (std::find(enc->key_bits.begin(), enc->key_bits.end(), p->encryption_key_bits()) ==
      enc->key_bits.end()) {
    return Invalid("encryption_key_bits",
                   absl::StrCat(enc->name, " takes ", absl::StrJoin(enc->key_bits, " or "),
                                " bits, not ", p->encryption_key_bits()));
  }

  if (p->integrity() == v1::INTEGRITY_UNSPECIFIED) {
    p->set_integrity(enc->aead ? v1::INTEGRITY_NONE : v1::INTEGRITY_HMAC_SHA2_256_128);
  }
  const IntegrityInfo* integ = FindIntegrity(p->integrity());
  if (integ == nullptr) {
    return Invalid("integrity", absl::StrCat("unknown algorithm ", p->integrity(),
                                             "; known: ", IntegrityNames()));
  }
  if (enc->aead && integ->id != v1::INTEGRITY_NONE) {
    // RFC 4106 §6 / RFC 7634 §2: the AEAD's tag is the ICV.
    return Invalid("integrity", absl::StrCat(enc->name, " is an AEAD and takes no separate "
                                             "integrity algorithm; use none"));
  }
  if (!enc->aead && integ->id == v1::INTEGRITY_NONE) {
    // RFC 8221 §3: encryption without integrity must not be used.
    return Invalid("integrity", absl::StrCat(enc->name, " needs an integrity algorithm (RFC 8221)"));
  }
  if (auto s = CheckLegacy(enc->legacy, p->allow_legacy_algorithms(), "encryption", enc->name,
                           warnings);
      !s.ok()) {
    return s;
  }
  return CheckLegacy(integ->legacy, p->allow_legacy_algorithms(), "integrity", integ->name,
                     warnings);
}

absl::Status NormalizeLifetime(v1::Lifetime* l) {
  if (l->hard_seconds() == 0) return Invalid("lifetime.hard_seconds", "must be > 0");
  if (l->hard_seconds() < kMinHardLifetimeSeconds) {
    return Invalid("lifetime.hard_seconds",
                   absl::StrCat("must be at least ", kMinHardLifetimeSeconds, " (",
                                l->hard_seconds(), " < ", kMinHardLifetimeSeconds,
                                "): a rekey must have time to complete before the SA dies"));
  }
  if (l->hard_seconds() > kMaxLifetimeSeconds) {
    return Invalid("lifetime.hard_seconds", absl::StrCat("must be at most ", kMaxLifetimeSeconds,
                                                         " (one year)"));
  }
  uint64_t soft = l->soft_seconds();
  if (auto s = NormalizePair(&soft, l->hard_seconds(), "lifetime.soft_seconds",
                             "lifetime.hard_seconds");
      !s.ok()) {
    return s;
  }
  l->set_soft_seconds(soft);
  soft = l->soft_bytes();
  if (auto s = NormalizePair(&soft, l->hard_bytes(), "lifetime.soft_bytes", "lifetime.hard_bytes");
      !s.ok()) {
    return s;
  }
  l->set_soft_bytes(soft);
  soft = l->soft_packets();
  if (auto s = NormalizePair(&soft, l->hard_packets(), "lifetime.soft_packets",
                             "lifetime.hard_packets");
      !s.ok()) {
    return s;
  }
  l->set_soft_packets(soft);
  return absl::OkStatus();
}

absl::Status NormalizeEndpoints(v1::Policy* p) {
  auto a = AddressMatch::Parse(p->a().address());
  if (!a.ok()) return Invalid("a.address", a.status().message());
  auto b = AddressMatch::Parse(p->b().address());
  if (!b.ok()) return Invalid("b.address", b.status().message());
  p->mutable_a()->set_address(a->ToString());
  p->mutable_b()->set_address(b->ToString());
  if (!a->is_wildcard() && !b->is_wildcard()) {
    bool a_v4 = p->a().address().find(':') == std::string::npos;
    bool b_v4 = p->b().address().find(':') == std::string::npos;
    if (a_v4 != b_v4) {
      return Invalid("b.address", "a and b are of different address families and can never match");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePolicyName(const std::string& name) {
  if (name.empty()) return Invalid("name", "must not be empty");
  if (name.size() > 63) return Invalid("name", "must be at most 63 characters");
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '.' || c == '_' || c == '-'));
    if (!ok) {
      return Invalid("name", "use lower-case letters, digits, '.', '_' and '-', starting "
                             "with a letter or digit");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSelector(const v1::Selector& s, const std::string& field) {
  if (s.protocol() > 255) return Invalid(field + ".protocol", "must be 0..255");
  if (s.port() > 65535) return Invalid(field + ".port", "must be 0..65535");
  if (s.port() != 0 && s.protocol() != 6 && s.protocol() != 17 && s.protocol() != 132 &&
      s.protocol() != 136) {
    return Invalid(field + ".port", "needs protocol tcp (6), udp (17), sctp (132) or udplite (136)");
  }
  return absl::OkStatus();
}

absl::Status NormalizePolicy(v1::Policy* p, std::vector<std::string>* warnings) {
  if (auto s = ValidatePolicyName(p->name()); !s.ok()) return s;
  if (auto s = NormalizeEndpoints(p); !s.ok()) return s;
  if (auto s = ValidateSelector(p->selector(), "selector"); !s.ok()) return s;
  if (!v1::PolicyAction_IsValid(p->action())) {
    return Invalid("action", absl::StrCat(p->action(), " is not protect, bypass or discard"));
  }
  if (p->action() == v1::POLICY_ACTION_UNSPECIFIED) p->set_action(v1::POLICY_ACTION_PROTECT);
  if (auto s = NormalizeAlgorithms(p, warnings); !s.ok()) return s;
  if (auto s = NormalizeLifetime(p->mutable_lifetime()); !s.ok()) return s;
  if (p->replay_window() == 0) p->set_replay_window(kDefaultReplayWindow);
  if (p->replay_window() > kMaxReplayWindow) {
    return Invalid("replay_window", absl::StrCat("must be at most ", kMaxReplayWindow));
  }
  if (p->description().size() > 256) return Invalid("description", "must be at most 256 bytes");
  for (unsigned char c : p->description()) {
    if (c < 0x20 || c == 0x7f) return Invalid("description", "must not contain control characters");
  }
  p->clear_revision();
  p->clear_create_time_unix();
  p->clear_update_time_unix();
  return absl::OkStatus();
}

}  // namespace ikeless::controller
