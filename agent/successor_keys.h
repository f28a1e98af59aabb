#ifndef IKELESS_AGENT_SUCCESSOR_KEYS_H_
#define IKELESS_AGENT_SUCCESSOR_KEYS_H_

// Successor keys (DECISIONS 33): a Distribution's SAs carry the next
// generations of the same association (SaParameters.successors), on SPIs
// each receiver reserved ahead. The receiver installs its inbound
// successors at once; the sender keeps its outbound successors here and
// switches to the next one locally when its current SA reaches its soft
// lifetime. So the pair keeps moving to fresh keys while the controller
// cannot be reached, for as many soft lifetimes as there are successors.

#include <cstdint>
#include <deque>

#include "absl/time/time.h"
#include "proto/policy.pb.h"

namespace ikeless::agent {

// The outbound successors of one SPD entry's current association, next
// first. Wipes the keys of every SA it drops or holds when destroyed.
class SuccessorKeys {
 public:
  SuccessorKeys() = default;
  SuccessorKeys(const SuccessorKeys&) = delete;
  SuccessorKeys& operator=(const SuccessorKeys&) = delete;
  SuccessorKeys(SuccessorKeys&& other) noexcept;
  SuccessorKeys& operator=(SuccessorKeys&& other) noexcept;
  ~SuccessorKeys();

  // Replaces the list with `outbound`'s successors (taken out of it) for
  // association `association_id`.
  void Reset(uint64_t association_id, v1::SaParameters& outbound);
  // Drops them all, wiped.
  void Clear();
  // Moves the next successor into `*out` (wiping what `*out` held); false
  // if there is none.
  bool TakeNext(v1::SaParameters* out);

  uint64_t association_id() const { return association_id_; }
  size_t size() const { return sas_.size(); }
  bool empty() const { return sas_.empty(); }

 private:
  uint64_t association_id_ = 0;
  std::deque<v1::SaParameters> sas_;
};

// The lifetime to install the inbound successor number `generation` (1 =
// the next) with, at the moment its association is installed: the sender
// switches to it at most `generation` soft lifetimes later (each switch
// happens at the previous SA's soft lifetime, which jitter only shortens)
// and uses it for at most `lifetime.hard_seconds`; SuccessorSlackSeconds
// (common/lifetime_rules.h) covers late switches and the two ends
// installing the association a little apart. The soft limit keeps its
// distance to the hard one. Time limits only; byte and packet limits are
// the policy's.
v1::Lifetime StandbyInboundLifetime(const v1::Lifetime& lifetime, int generation);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_SUCCESSOR_KEYS_H_
