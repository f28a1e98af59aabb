#include "bench/setup_pair.h"

#include "absl/strings/str_cat.h"
#include "bench/bench_addresses.h"

namespace ikeless::bench {
namespace {

// RFC 4303 §2.1: SPIs below 256 are reserved.
uint32_t SpiFor(uint64_t id) { return static_cast<uint32_t>(256 + id); }

std::string Describe(const v1::SetupError& e) {
  return absl::StrCat(v1::SetupError::Code_Name(e.code()), ": ", e.message());
}

}  // namespace

SetupPair::SetupPair(uint32_t index, ChannelPool& channels, OnDone on_done)
    : on_done_(std::move(on_done)) {
  const uint32_t ia = 2 * index, ib = 2 * index + 1;
  a_ = std::make_unique<BenchAgent>(
      channels.StubFor(ia), absl::StrCat("bench-a-", index), BenchAddress(ia), ia,
      [this](BenchAgent&, const v1::ControllerMessage& m) { OnA(m); });
  b_ = std::make_unique<BenchAgent>(
      channels.StubFor(ib), absl::StrCat("bench-b-", index), BenchAddress(ib), ib,
      [this](BenchAgent&, const v1::ControllerMessage& m) { OnB(m); });
}

void SetupPair::Connect() {
  a_->Start();
  b_->Start();
}

bool SetupPair::WaitWelcome(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  return a_->WaitWelcome(timeout) && b_->WaitWelcome(deadline - absl::Now());
}

bool SetupPair::BeginSetup() {
  uint64_t id;
  {
    absl::MutexLock l(&mu_);
    if (in_flight_) return false;
    in_flight_ = true;
    b_asked_ = a_done_ = b_done_ = false;
    id = ++id_a_;
    start_ = std::chrono::steady_clock::now();
  }
  if (!a_->Request(id, b_->address(), SpiFor(id))) {
    MaybeFinish(true, "A's stream is broken");
    return false;
  }
  return true;
}

bool SetupPair::in_flight() const {
  absl::MutexLock l(&mu_);
  return in_flight_;
}

void SetupPair::Stop() {
  a_->Stop();
  b_->Stop();
}

std::string SetupPair::last_error() const {
  absl::MutexLock l(&mu_);
  return last_error_;
}

void SetupPair::OnA(const v1::ControllerMessage& m) {
  if (m.has_error()) return MaybeFinish(true, absl::StrCat("A: ", Describe(m.error())));
  if (!m.has_distribution()) return;
  {
    absl::MutexLock l(&mu_);
    if (!in_flight_ || m.distribution().request_id() != id_a_) return;
    a_done_ = true;
  }
  MaybeFinish(false, "");
}

void SetupPair::OnB(const v1::ControllerMessage& m) {
  if (m.has_error()) return MaybeFinish(true, absl::StrCat("B: ", Describe(m.error())));
  if (m.has_startup()) {
    // S23 -> FIG. 20: B asks for its side of the pair the controller named.
    uint64_t id;
    {
      absl::MutexLock l(&mu_);
      if (!in_flight_ || b_asked_ || m.startup().peer() != a_->address()) return;
      b_asked_ = true;
      id = ++id_b_;
    }
    if (!b_->Request(id, m.startup().peer(), SpiFor(id))) MaybeFinish(true, "B's stream is broken");
    return;
  }
  if (!m.has_distribution()) return;
  {
    absl::MutexLock l(&mu_);
    if (!in_flight_ || !b_asked_ || m.distribution().request_id() != id_b_) return;
    b_done_ = true;
  }
  MaybeFinish(false, "");
}

void SetupPair::MaybeFinish(bool error, const std::string& message) {
  const SteadyTime now = std::chrono::steady_clock::now();
  absl::Duration latency;
  {
    absl::MutexLock l(&mu_);
    if (!in_flight_) return;
    if (!error && !(a_done_ && b_done_)) return;
    in_flight_ = false;
    latency = absl::FromChrono(now - start_);
    if (error) last_error_ = message;
  }
  (error ? failed_ : completed_).fetch_add(1, std::memory_order_relaxed);
  on_done_(*this, !error, latency);
}

}  // namespace ikeless::bench
