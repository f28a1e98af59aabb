#ifndef IKELESS_AGENT_FAKE_DATAPATH_H_
#define IKELESS_AGENT_FAKE_DATAPATH_H_

// A datapath for tests: records every call in order, keeps the installed SAs
// in a map, fails installs on request, and raises events the way a real
// backend does: on the caller's thread standing for the datapath's own,
// with the fake's lock held. A call into the fake from inside its event
// sink (which the Datapath contract forbids) is counted, not deadlocked.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "datapath/datapath.h"

namespace ikeless::agent {

class FakeDatapath final : public datapath::Datapath {
 public:
  // One call, as recorded.
  struct Call {
    enum class Kind { kSetPolicies, kInstall, kRemove, kRelease, kDrop };
    Kind kind;
    uint32_t spd_entry = 0;  // kInstall, kRelease, kDrop
    datapath::Direction direction = datapath::Direction::kOutbound;  // kInstall, kRemove
    uint32_t spi = 0;                                                // kInstall, kRemove
    std::string ToString() const;
  };

  v1::Capabilities capabilities() const override { return {}; }
  absl::Status SetPolicies(const std::vector<datapath::SpdEntry>& entries) override;
  absl::Status InstallSa(uint32_t spd_entry, datapath::Direction direction,
                         const v1::SaParameters& sa) override;
  absl::Status RemoveSa(datapath::Direction direction, const datapath::SaKey& key) override;
  void ReleaseHeld(uint32_t spd_entry) override;
  void DropHeld(uint32_t spd_entry) override;
  absl::StatusOr<datapath::SaCounters> Counters(datapath::Direction direction,
                                                const datapath::SaKey& key) override;
  void SetEventSink(std::function<void(const datapath::DatapathEvent&)> sink) override;
  datapath::DropCounts Drops() override {
    absl::MutexLock l(&mu_);
    return drops_;
  }
  // What Drops() answers, and per-SA counters Counters() answers.
  void SetDrops(datapath::DropCounts drops) {
    absl::MutexLock l(&mu_);
    drops_ = std::move(drops);
  }

  // Delivers `event` to the sink as the datapath's thread would.
  void Raise(const datapath::DatapathEvent& event);

  // Makes the next InstallSa() for `direction` fail with `status`.
  void FailNextInstall(datapath::Direction direction, absl::Status status);
  // Makes the next InstallSa() of (direction, SPI) fail with `status`.
  void FailInstallOf(datapath::Direction direction, uint32_t spi, absl::Status status);

  std::vector<Call> calls() const;
  std::vector<std::string> CallStrings() const;  // "install in entry=1 spi=300"
  void ClearCalls();
  std::vector<datapath::SpdEntry> policies() const;
  // The installed SA of (direction, SPI), if any.
  std::optional<v1::SaParameters> Installed(datapath::Direction direction, uint32_t spi) const;
  size_t installed_count() const;
  bool has_sink() const;
  // Calls made from inside the event sink: must stay 0.
  int reentrant_calls() const { return reentrant_calls_.load(); }

 private:
  bool Reentrant();  // true (and counted) if called from inside the sink

  mutable absl::Mutex mu_;
  datapath::DropCounts drops_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<datapath::SpdEntry> policies_ ABSL_GUARDED_BY(mu_);
  std::map<std::tuple<int, std::string, uint32_t>, v1::SaParameters> sas_ ABSL_GUARDED_BY(mu_);
  std::map<int, absl::Status> fail_next_install_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<int, uint32_t>, absl::Status> fail_install_of_ ABSL_GUARDED_BY(mu_);
  std::function<void(const datapath::DatapathEvent&)> sink_ ABSL_GUARDED_BY(mu_);
  std::atomic<std::thread::id> sink_thread_{};
  std::atomic<int> reentrant_calls_{0};
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_FAKE_DATAPATH_H_
