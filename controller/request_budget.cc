#include "controller/request_budget.h"

#include <algorithm>

namespace ikeless::controller {

bool RequestBudget::Take(Time now) {
  if (options_.per_second <= 0) return true;
  if (now > last_) {
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(options_.burst, tokens_ + seconds * options_.per_second);
    last_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace ikeless::controller
