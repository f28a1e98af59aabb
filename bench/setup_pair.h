#ifndef IKELESS_BENCH_SETUP_PAIR_H_
#define IKELESS_BENCH_SETUP_PAIR_H_

// Two benchmark agents that set up SA pairs with each other through the
// real controller, as two agents do after a first packet (FIG. 18-20):
// A sends an SaRequest (S1), the controller wakes B with a RequestStartup
// (S22/S23), B sends its SaRequest (S9), both receive their Distribution
// (S10/S11). One setup at a time, each with a new request id and SPI on both
// sides. The latency of a setup runs from A's send to the later of the two
// Distributions arriving.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/bench_agent.h"
#include "bench/channel_pool.h"

namespace ikeless::bench {

class SetupPair {
 public:
  // Called on a gRPC callback thread when a setup has ended, with its
  // latency; ok is false after a SetupError. May call BeginSetup().
  using OnDone = std::function<void(SetupPair& pair, bool ok, absl::Duration latency)>;

  // Pair `index` uses agents 2*index (A) and 2*index+1 (B): their addresses
  // and their channels from `channels`.
  SetupPair(uint32_t index, ChannelPool& channels, OnDone on_done);

  // Opens both streams and sends the Hellos.
  void Connect();
  bool WaitWelcome(absl::Duration timeout);
  // A sends a new SaRequest. False if a setup is still in flight.
  bool BeginSetup();
  bool in_flight() const;
  // Cancels both streams.
  void Stop();

  int64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  std::string last_error() const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  void OnA(const v1::ControllerMessage& m);
  void OnB(const v1::ControllerMessage& m);
  // Ends the setup in flight if both sides have their Distribution (ok) or
  // with a failure; calls on_done_ outside the lock.
  void MaybeFinish(bool error, const std::string& message);

  const OnDone on_done_;
  std::unique_ptr<BenchAgent> a_;
  std::unique_ptr<BenchAgent> b_;
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> failed_{0};

  mutable absl::Mutex mu_;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool b_asked_ ABSL_GUARDED_BY(mu_) = false;
  bool a_done_ ABSL_GUARDED_BY(mu_) = false;
  bool b_done_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t id_a_ ABSL_GUARDED_BY(mu_) = 0;  // request ids; SPI = 256 + id
  uint64_t id_b_ ABSL_GUARDED_BY(mu_) = 0;
  SteadyTime start_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::bench

#endif  // IKELESS_BENCH_SETUP_PAIR_H_
