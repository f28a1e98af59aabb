#include "common/clock.h"

namespace ikeless {

SystemClock* SystemClock::Get() {
  static SystemClock* clock = new SystemClock;
  return clock;
}

}  // namespace ikeless
