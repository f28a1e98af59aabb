#include "controller/enrollment_tokens.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/secret.h"
#include "controller/pki/names.h"

namespace ikeless::controller {
namespace {

constexpr absl::Duration kMaxTtl = absl::Hours(24 * 7);
constexpr size_t kMaxOutstanding = 100'000;

std::string Hash(const std::string& token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace

absl::StatusOr<std::pair<std::string, absl::Time>> EnrollmentTokens::Create(Grant grant,
                                                                           absl::Duration ttl) {
  if (absl::Status s = pki::ValidateIdentityName(grant.node_name, "node_name"); !s.ok()) return s;
  if (grant.addresses.empty()) return absl::InvalidArgumentError("addresses: name at least one");
  for (size_t i = 0; i < grant.addresses.size(); ++i) {
    auto a = CanonicalAddress(grant.addresses[i], absl::StrCat("addresses[", i, "]"));
    if (!a.ok()) return a.status();
    grant.addresses[i] = *a;
  }
  if (ttl <= absl::ZeroDuration() || ttl > kMaxTtl) {
    return absl::InvalidArgumentError("ttl_seconds: must be 1 s to one week");
  }
  uint8_t bytes[32];
  random_->Fill(bytes, sizeof bytes);
  std::string token = absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  OPENSSL_cleanse(bytes, sizeof bytes);
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&mu_);
  PurgeLocked(now);
  if (by_hash_.size() >= kMaxOutstanding) {
    WipeString(&token);
    return absl::ResourceExhaustedError("too many unused enrollment tokens");
  }
  by_hash_[Hash(token)] = Entry{std::move(grant), now + ttl};
  return std::make_pair(std::move(token), now + ttl);
}

absl::StatusOr<EnrollmentTokens::Grant> EnrollmentTokens::Redeem(const std::string& token) {
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&mu_);
  PurgeLocked(now);
  auto it = by_hash_.find(Hash(token));
  if (it == by_hash_.end()) {
    return absl::PermissionDeniedError("enrollment token unknown, used or expired");
  }
  Grant grant = std::move(it->second.grant);
  by_hash_.erase(it);  // one time
  return grant;
}

void EnrollmentTokens::PurgeLocked(absl::Time now) {
  absl::erase_if(by_hash_, [now](const auto& kv) { return kv.second.expires <= now; });
}

}  // namespace ikeless::controller
