#include "agent/reconnect_backoff.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace ikeless::agent {
namespace {

// Uniform in [0, d].
absl::Duration UpTo(absl::Duration d, RandomSource& random) {
  const int64_t us = std::max<int64_t>(0, absl::ToInt64Microseconds(d));
  return absl::Microseconds(static_cast<int64_t>(random.Uniform(0, static_cast<uint64_t>(us))));
}

}  // namespace

ReconnectBackoff::ReconnectBackoff(Options options)
    : options_(options), backoff_(options.min), refused_backoff_(options.refused_min) {}

ReconnectBackoff::Outcome ReconnectBackoff::Classify(absl::StatusCode code,
                                                     absl::string_view message, bool welcomed) {
  switch (code) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:  // replaced by another stream of the node
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kNotFound:
      return Outcome::kRefused;
    default:
      break;
  }
  if (welcomed) return Outcome::kEnded;
  // gRPC reports a failed TLS handshake as UNAVAILABLE ("Ssl handshake
  // failed: ... CERTIFICATE_VERIFY_FAILED"): someone is there and says no.
  const std::string lower = absl::AsciiStrToLower(message);
  for (absl::string_view sign : {"handshake", "ssl", "certificate", "tls"}) {
    if (absl::StrContains(lower, sign)) return Outcome::kRefused;
  }
  return Outcome::kUnreachable;
}

absl::Duration ReconnectBackoff::Next(Outcome outcome, RandomSource& random) {
  switch (outcome) {
    case Outcome::kEnded:
      // Every agent's stream ends at once when the controller restarts:
      // the first retry is spread over the whole cap, not 100 ms.
      backoff_ = options_.max;
      refused_backoff_ = options_.refused_min;
      break;
    case Outcome::kUnreachable:
      break;
    case Outcome::kRefused: {
      const absl::Duration b = refused_backoff_;
      refused_backoff_ = std::min(refused_backoff_ * 2, options_.refused_max);
      backoff_ = options_.max;  // an unreachable attempt after it: no fast ramp
      return b / 2 + UpTo(b / 2, random);
    }
  }
  const absl::Duration b = backoff_;
  backoff_ = std::min(backoff_ * 2, options_.max);
  return UpTo(b, random);
}

}  // namespace ikeless::agent
