// The reconnect schedule: an unreachable controller is retried within 1 s
// (full jitter), a refusal is not hammered, a working stream starts over.
#include "agent/reconnect_backoff.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using Outcome = ReconnectBackoff::Outcome;

ReconnectBackoff::Options Defaults() { return ReconnectBackoff::Options(); }

TEST(ReconnectBackoff, UnreachableNeverWaitsMoreThanOneSecond) {
  ReconnectBackoff b(Defaults());
  FakeRandom random(7);
  absl::Duration longest = absl::ZeroDuration(), total = absl::ZeroDuration();
  // Ten minutes of a controller that is away.
  for (int i = 0; i < 1200; ++i) {
    absl::Duration w = b.Next(Outcome::kUnreachable, random);
    EXPECT_GE(w, absl::ZeroDuration());
    EXPECT_LE(w, absl::Seconds(1));
    longest = std::max(longest, w);
    total += w;
  }
  EXPECT_GT(longest, absl::Milliseconds(900));  // the cap is reached
  // Full jitter: about half the cap on average, so attempts spread evenly.
  EXPECT_GT(total / 1200, absl::Milliseconds(400));
  EXPECT_LT(total / 1200, absl::Milliseconds(600));
}

TEST(ReconnectBackoff, StartsSmallAndDoubles) {
  ReconnectBackoff b(Defaults());
  FakeRandom random(1);
  EXPECT_LE(b.Next(Outcome::kUnreachable, random), absl::Milliseconds(100));
  EXPECT_LE(b.Next(Outcome::kUnreachable, random), absl::Milliseconds(200));
  EXPECT_LE(b.Next(Outcome::kUnreachable, random), absl::Milliseconds(400));
}

TEST(ReconnectBackoff, RefusalsBackOffToThirtySecondsNeverBelowHalf) {
  ReconnectBackoff b(Defaults());
  FakeRandom random(3);
  absl::Duration expected = absl::Seconds(1);
  for (int i = 0; i < 10; ++i) {
    absl::Duration w = b.Next(Outcome::kRefused, random);
    EXPECT_GE(w, expected / 2) << i;
    EXPECT_LE(w, expected) << i;
    expected = std::min(expected * 2, absl::Seconds(30));
  }
  // An unreachable attempt after refusals does not ramp up from 100 ms.
  FakeRandom r2(5);
  absl::Duration sum = absl::ZeroDuration();
  for (int i = 0; i < 100; ++i) {
    ReconnectBackoff c(Defaults());
    c.Next(Outcome::kRefused, r2);
    sum += c.Next(Outcome::kUnreachable, r2);
  }
  EXPECT_GT(sum / 100, absl::Milliseconds(300));
}

TEST(ReconnectBackoff, AWorkingStreamStartsBothSchedulesOver) {
  ReconnectBackoff b(Defaults());
  FakeRandom random(9);
  for (int i = 0; i < 8; ++i) b.Next(Outcome::kRefused, random);
  EXPECT_LE(b.Next(Outcome::kEnded, random), absl::Seconds(1));
  absl::Duration w = b.Next(Outcome::kRefused, random);
  EXPECT_LE(w, absl::Seconds(1));
}

TEST(ReconnectBackoff, AFleetCutOffAtOnceSpreadsOverTheWholeSecond) {
  // 1,000 agents whose streams ended when the controller restarted.
  FakeRandom random(11);
  int first_100ms = 0;
  absl::Duration longest = absl::ZeroDuration();
  for (int i = 0; i < 1000; ++i) {
    ReconnectBackoff b(Defaults());
    absl::Duration w = b.Next(Outcome::kEnded, random);
    EXPECT_LE(w, absl::Seconds(1));
    longest = std::max(longest, w);
    if (w < absl::Milliseconds(100)) ++first_100ms;
  }
  EXPECT_GT(longest, absl::Milliseconds(900));
  EXPECT_LT(first_100ms, 200);  // about 100: a tenth of the fleet, not all of it
}

TEST(ReconnectBackoff, Classify) {
  using C = absl::StatusCode;
  EXPECT_EQ(ReconnectBackoff::Classify(C::kResourceExhausted, "", true), Outcome::kRefused);
  EXPECT_EQ(ReconnectBackoff::Classify(C::kResourceExhausted, "", false), Outcome::kRefused);
  EXPECT_EQ(ReconnectBackoff::Classify(C::kPermissionDenied, "revoked", false), Outcome::kRefused);
  EXPECT_EQ(ReconnectBackoff::Classify(C::kUnavailable,
                                       "failed to connect to all addresses; last error: UNKNOWN: "
                                       "ipv4:127.0.0.1:1: Ssl handshake failed: SSL_ERROR_SSL",
                                       false),
            Outcome::kRefused);
  EXPECT_EQ(ReconnectBackoff::Classify(C::kUnavailable,
                                       "failed to connect to all addresses; last error: UNKNOWN: "
                                       "ipv4:127.0.0.1:1: Failed to connect to remote host: "
                                       "Connection refused",
                                       false),
            Outcome::kUnreachable);
  EXPECT_EQ(ReconnectBackoff::Classify(C::kUnavailable, "Socket closed", true), Outcome::kEnded);
  EXPECT_EQ(ReconnectBackoff::Classify(C::kOk, "", true), Outcome::kEnded);
  EXPECT_EQ(ReconnectBackoff::Classify(C::kCancelled, "", false), Outcome::kUnreachable);
}

}  // namespace
}  // namespace ikeless::agent
