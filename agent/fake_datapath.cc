#include "agent/fake_datapath.h"

#include "absl/strings/str_cat.h"

namespace ikeless::agent {

using datapath::Direction;

namespace {
const char* Dir(Direction d) { return d == Direction::kInbound ? "in" : "out"; }
}  // namespace

std::string FakeDatapath::Call::ToString() const {
  switch (kind) {
    case Kind::kSetPolicies:
      return "set_policies";
    case Kind::kInstall:
      return absl::StrCat("install ", Dir(direction), " entry=", spd_entry, " spi=", spi);
    case Kind::kRemove:
      return absl::StrCat("remove ", Dir(direction), " spi=", spi);
    case Kind::kRelease:
      return absl::StrCat("release entry=", spd_entry);
    case Kind::kDrop:
      return absl::StrCat("drop entry=", spd_entry);
  }
  return "?";
}

bool FakeDatapath::Reentrant() {
  if (sink_thread_.load() != std::this_thread::get_id()) return false;
  ++reentrant_calls_;
  return true;
}

absl::Status FakeDatapath::SetPolicies(const std::vector<datapath::SpdEntry>& entries) {
  if (Reentrant()) return absl::InternalError("called from the event sink");
  absl::MutexLock l(&mu_);
  policies_ = entries;
  calls_.push_back({Call::Kind::kSetPolicies});
  return absl::OkStatus();
}

absl::Status FakeDatapath::InstallSa(uint32_t spd_entry, Direction direction,
                                     const v1::SaParameters& sa) {
  if (Reentrant()) return absl::InternalError("called from the event sink");
  absl::MutexLock l(&mu_);
  calls_.push_back({Call::Kind::kInstall, spd_entry, direction, sa.spi()});
  if (auto g = fail_install_of_.find({static_cast<int>(direction), sa.spi()});
      g != fail_install_of_.end()) {
    absl::Status s = g->second;
    fail_install_of_.erase(g);
    return s;
  }
  auto f = fail_next_install_.find(static_cast<int>(direction));
  if (f != fail_next_install_.end()) {
    absl::Status s = f->second;
    fail_next_install_.erase(f);
    return s;
  }
  sas_[{static_cast<int>(direction), sa.destination(), sa.spi()}] = sa;
  return absl::OkStatus();
}

absl::Status FakeDatapath::RemoveSa(Direction direction, const datapath::SaKey& key) {
  if (Reentrant()) return absl::InternalError("called from the event sink");
  absl::MutexLock l(&mu_);
  calls_.push_back({Call::Kind::kRemove, 0, direction, key.spi});
  if (sas_.erase({static_cast<int>(direction), key.destination, key.spi}) == 0) {
    return absl::NotFoundError("no such SA");
  }
  return absl::OkStatus();
}

void FakeDatapath::ReleaseHeld(uint32_t spd_entry) {
  if (Reentrant()) return;
  absl::MutexLock l(&mu_);
  calls_.push_back({Call::Kind::kRelease, spd_entry});
}

void FakeDatapath::DropHeld(uint32_t spd_entry) {
  if (Reentrant()) return;
  absl::MutexLock l(&mu_);
  calls_.push_back({Call::Kind::kDrop, spd_entry});
}

absl::StatusOr<datapath::SaCounters> FakeDatapath::Counters(Direction direction,
                                                            const datapath::SaKey& key) {
  if (Reentrant()) return absl::InternalError("called from the event sink");
  absl::MutexLock l(&mu_);
  if (sas_.count({static_cast<int>(direction), key.destination, key.spi}) == 0) {
    return absl::NotFoundError("no such SA");
  }
  datapath::SaCounters c;
  c.packets = 7;
  c.bytes = 700;
  return c;
}

void FakeDatapath::SetEventSink(std::function<void(const datapath::DatapathEvent&)> sink) {
  if (Reentrant()) return;
  absl::MutexLock l(&mu_);
  sink_ = std::move(sink);
}

void FakeDatapath::Raise(const datapath::DatapathEvent& event) {
  // Like a backend that raises events under its own lock.
  absl::MutexLock l(&mu_);
  if (!sink_) return;
  if (event.kind == datapath::DatapathEvent::Kind::kHardExpire) {
    sas_.erase({static_cast<int>(event.direction), event.sa.destination, event.sa.spi});
  }
  sink_thread_.store(std::this_thread::get_id());
  sink_(event);
  sink_thread_.store(std::thread::id());
}

void FakeDatapath::FailNextInstall(Direction direction, absl::Status status) {
  absl::MutexLock l(&mu_);
  fail_next_install_[static_cast<int>(direction)] = std::move(status);
}

void FakeDatapath::FailInstallOf(Direction direction, uint32_t spi, absl::Status status) {
  absl::MutexLock l(&mu_);
  fail_install_of_[{static_cast<int>(direction), spi}] = std::move(status);
}

std::vector<FakeDatapath::Call> FakeDatapath::calls() const {
  absl::MutexLock l(&mu_);
  return calls_;
}

std::vector<std::string> FakeDatapath::CallStrings() const {
  std::vector<std::string> v;
  for (const Call& c : calls()) v.push_back(c.ToString());
  return v;
}

void FakeDatapath::ClearCalls() {
  absl::MutexLock l(&mu_);
  calls_.clear();
}

std::vector<datapath::SpdEntry> FakeDatapath::policies() const {
  absl::MutexLock l(&mu_);
  return policies_;
}

std::optional<v1::SaParameters> FakeDatapath::Installed(Direction direction, uint32_t spi) const {
  absl::MutexLock l(&mu_);
  for (const auto& [k, sa] : sas_) {
    if (std::get<0>(k) == static_cast<int>(direction) && std::get<2>(k) == spi) return sa;
  }
  return std::nullopt;
}

size_t FakeDatapath::installed_count() const {
  absl::MutexLock l(&mu_);
  return sas_.size();
}

bool FakeDatapath::has_sink() const {
  absl::MutexLock l(&mu_);
  return static_cast<bool>(sink_);
}

}  // namespace ikeless::agent
