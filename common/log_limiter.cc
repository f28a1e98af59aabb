#include "common/log_limiter.h"

namespace ikeless {

std::optional<uint64_t> LogLimiter::Admit(absl::string_view key, Time now) {
  absl::MutexLock l(&mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    // Keys are events and node addresses: few. Windows idle for a whole
    // interval are dropped below, so the map does not grow with time.
    if (windows_.size() > 4096) {
      for (auto w = windows_.begin(); w != windows_.end();) {
        w = now - w->second.start > interval_ && w->second.held_back == 0 ? windows_.erase(w)
                                                                          : std::next(w);
      }
    }
    it = windows_.emplace(std::string(key), Window{now, 0, 0}).first;
  }
  Window& w = it->second;
  if (now - w.start >= interval_) {
    w.start = now;
    w.passed = 0;
  }
  if (w.passed >= per_interval_) {
    ++w.held_back;
    return std::nullopt;
  }
  ++w.passed;
  const uint64_t held = w.held_back;
  w.held_back = 0;
  return held;
}

std::vector<std::pair<std::string, uint64_t>> LogLimiter::TakeHeldBack(Time now) {
  std::vector<std::pair<std::string, uint64_t>> out;
  absl::MutexLock l(&mu_);
  for (auto& [key, w] : windows_) {
    if (w.held_back == 0 || now - w.start < interval_) continue;
    out.emplace_back(key, w.held_back);
    w.held_back = 0;
  }
  return out;
}

}  // namespace ikeless
