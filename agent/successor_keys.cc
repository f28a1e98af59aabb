#include "agent/successor_keys.h"

#include <utility>

#include "agent/lifetime_jitter.h"
#include "common/lifetime_rules.h"
#include "common/secret.h"

namespace ikeless::agent {

SuccessorKeys::SuccessorKeys(SuccessorKeys&& other) noexcept
    : association_id_(other.association_id_), sas_(std::move(other.sas_)) {
  other.sas_.clear();
}

SuccessorKeys& SuccessorKeys::operator=(SuccessorKeys&& other) noexcept {
  if (this != &other) {
    Clear();
    association_id_ = other.association_id_;
    sas_ = std::move(other.sas_);
    other.sas_.clear();
  }
  return *this;
}

SuccessorKeys::~SuccessorKeys() { Clear(); }

void SuccessorKeys::Reset(uint64_t association_id, v1::SaParameters& outbound) {
  Clear();
  association_id_ = association_id;
  for (v1::SaParameters& s : *outbound.mutable_successors()) {
    sas_.emplace_back();
    sas_.back().Swap(&s);  // no copy of the keys is left behind
  }
  outbound.clear_successors();
}

void SuccessorKeys::Clear() {
  for (v1::SaParameters& s : sas_) WipeKeys(&s);
  sas_.clear();
}

bool SuccessorKeys::TakeNext(v1::SaParameters* out) {
  if (sas_.empty()) return false;
  WipeKeys(out);
  out->Clear();
  out->Swap(&sas_.front());
  sas_.pop_front();
  return true;
}

v1::Lifetime StandbyInboundLifetime(const v1::Lifetime& lifetime, int generation) {
  v1::Lifetime out = lifetime;
  const uint64_t hard = lifetime.hard_seconds();
  if (hard == 0) return out;  // no time limit: nothing to stretch
  const uint64_t soft = EffectiveSoftSeconds(lifetime);
  const uint64_t extra = static_cast<uint64_t>(generation) * soft +
                         SuccessorSlackSeconds(static_cast<uint64_t>(generation));
  out.set_hard_seconds(hard + extra);
  out.set_soft_seconds(soft + extra);
  return out;
}

}  // namespace ikeless::agent
