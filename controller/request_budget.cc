#include "controller/request_budget.h"

#include <algorithm>

namespace ikeless::controller {

bool RequestBudget::Take(absl::Time now) {
  if (options_.per_second <= 0) return true;
  if (now > last_) {
    const double seconds = absl::ToDoubleSeconds(now - last_);
    tokens_ = std::min(options_.burst, tokens_ + seconds * options_.per_second);
    last_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace ikeless::controller
