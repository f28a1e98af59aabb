#include "common/mutex_checks.h"

#include "absl/synchronization/mutex.h"

namespace ikeless {

void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace ikeless
