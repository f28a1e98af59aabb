#ifndef IKELESS_CONTROLLER_ENROLLMENT_TOKENS_H_
#define IKELESS_CONTROLLER_ENROLLMENT_TOKENS_H_

// One-time, expiring enrollment tokens. An admin creates one for a node
// name and its addresses; whoever presents it first, before it expires, gets
// a node certificate for exactly that identity. Only a SHA-256 of each token
// is kept. Tokens live in memory: a controller restart voids the unused
// ones (an admin issues new ones).

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/random.h"

namespace ikeless::controller {

class EnrollmentTokens {
 public:
  struct Grant {
    std::string node_name;
    std::vector<std::string> addresses;  // canonical
  };

  EnrollmentTokens(Clock* clock, RandomSource* random) : clock_(clock), random_(random) {}

  // A new token (43 characters, 256 random bits) and its expiry.
  // INVALID_ARGUMENT naming the field for a bad name, address or ttl.
  absl::StatusOr<std::pair<std::string, absl::Time>> Create(Grant grant, absl::Duration ttl);

  // The grant of `token`, which is then used up. Unknown, used and expired
  // tokens are all PERMISSION_DENIED with one message (no oracle).
  absl::StatusOr<Grant> Redeem(const std::string& token);

 private:
  struct Entry {
    Grant grant;
    absl::Time expires;
  };
  void PurgeLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock* clock_;
  RandomSource* random_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_hash_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_ENROLLMENT_TOKENS_H_
