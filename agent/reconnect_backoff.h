#ifndef IKELESS_AGENT_RECONNECT_BACKOFF_H_
#define IKELESS_AGENT_RECONNECT_BACKOFF_H_

// How long the agent's stream client waits before its next attempt to reach
// the controller (issue #12: agents came back 7.8 s after the controller
// did). Two schedules:
//   - the controller is unreachable (connection refused, no route, the
//     stream cut): exponential from 100 ms, capped at 1 s, full jitter
//     (uniform in [0, backoff]). A controller away for minutes is found
//     within 1 s of its return, and a fleet's reconnects spread evenly over
//     that second rather than arriving in the same millisecond: 10,000
//     agents make ~10,000 handshakes/s, not 10,000 at once. While it is
//     away, each agent tries about twice a second (a SYN and a RST).
//   - the controller answered and refused (RESOURCE_EXHAUSTED, a failed
//     TLS handshake or certificate, PERMISSION_DENIED, ...): exponential
//     from 1 s to 30 s, equal jitter (half fixed, half uniform), never
//     below 0.5 s. Retrying a refusal faster would only add to the load or
//     repeat the error.
// A stream that was welcomed and then ended resets the refusal schedule and
// waits uniformly in [0, 1 s]: a controller that restarts ends every
// stream at the same moment, and the fleet's reconnects then spread over
// that second too instead of arriving within the first 100 ms.
// Pure: the caller supplies the randomness.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/random.h"

namespace ikeless::agent {

class ReconnectBackoff {
 public:
  struct Options {
    absl::Duration min = absl::Milliseconds(100);
    absl::Duration max = absl::Seconds(1);
    absl::Duration refused_min = absl::Seconds(1);
    absl::Duration refused_max = absl::Seconds(30);
  };
  enum class Outcome {
    kEnded,        // welcomed, then the stream ended (controller restart, network)
    kUnreachable,  // never welcomed, nobody answered
    kRefused,      // the controller (or its TLS) answered no
  };

  explicit ReconnectBackoff(Options options);

  // What an attempt that ended with `code`/`message` was. gRPC's codes are
  // absl's.
  static Outcome Classify(absl::StatusCode code, absl::string_view message, bool welcomed);

  // The wait before the next attempt, after one with `outcome`.
  absl::Duration Next(Outcome outcome, RandomSource& random);

 private:
  const Options options_;
  absl::Duration backoff_;
  absl::Duration refused_backoff_;
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_RECONNECT_BACKOFF_H_
