// setup_latency: how long one SA pair setup takes end to end over the real
// controller binary, real gRPC streams on loopback and the controller's
// SQLite file with its default durability. Two agents, A and B; A asks,
// the controller wakes B, B asks, both get their Distribution. Setups run
// one after another; latency is from A's send to the later Distribution.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/bench_addresses.h"
#include "bench/channel_pool.h"
#include "bench/controller_admin.h"
#include "bench/controller_process.h"
#include "bench/latency_summary.h"
#include "bench/process_stats.h"
#include "bench/setup_pair.h"
#include "bench/temp_dir.h"
#include "bench/text_table.h"

ABSL_FLAG(std::string, controller_bin, "", "controller binary (default: next to this one)");
ABSL_FLAG(std::vector<std::string>, controller_flags, {},
          "extra flags for the controller, comma-separated (e.g. --request_shards=2)");
ABSL_FLAG(int, setups, 2000, "measured setups (the target needs at least 1000)");
ABSL_FLAG(int, warmup, 100, "setups before measuring");
ABSL_FLAG(int64_t, lifetime_seconds, 3600, "hard SA lifetime of the policy (rows live this long)");
ABSL_FLAG(std::string, samples_out, "",
          "also write every measured latency (µs, one per line, in order) to this file");
ABSL_FLAG(bool, keep_dir, false, "keep the temp dir (controller.db, controller.log)");
ABSL_FLAG(absl::Duration, time_limit, absl::Minutes(5), "give up (and kill the controller) after");

namespace ikeless::bench {
namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "setup_latency: %s\n", what.c_str());
  return 1;
}

std::vector<std::string> Row(const std::string& label, const LatencySummary& s) {
  return {label,
          absl::StrCat(s.count),
          Fixed(s.mean_us, 0),
          Fixed(s.p50_us, 0),
          Fixed(s.p90_us, 0),
          Fixed(s.p99_us, 0),
          Fixed(s.max_us, 0)};
}

// Waits for each setup in turn; the callback fills the slot.
class Sequencer {
 public:
  void Done(bool ok, absl::Duration latency) {
    absl::MutexLock l(&mu_);
    done_ = true;
    ok_ = ok;
    latency_ = latency;
  }
  // Ok and the latency, or false after an error or `timeout`.
  bool Wait(absl::Duration timeout, absl::Duration* latency) {
    absl::MutexLock l(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
    bool ok = done_ && ok_;
    *latency = latency_;
    done_ = false;
    return ok;
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool ok_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration latency_ ABSL_GUARDED_BY(mu_);
};

int Run() {
  const int setups = absl::GetFlag(FLAGS_setups);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  if (setups < 1 || warmup < 0) return Fail("--setups must be >= 1, --warmup >= 0");
  GuardChildren(absl::GetFlag(FLAGS_time_limit));
  std::string binary = absl::GetFlag(FLAGS_controller_bin);
  if (binary.empty()) binary = DefaultControllerBinary();

  auto dir = TempDir::Create();
  if (!dir.ok()) return Fail(dir.status().ToString());
  if (absl::GetFlag(FLAGS_keep_dir)) {
    dir->Keep();
    std::fprintf(stderr, "keeping %s\n", dir->path().c_str());
  }
  auto controller = ControllerProcess::Start(binary, dir->path(), absl::GetFlag(FLAGS_controller_flags));
  if (!controller.ok()) return Fail(controller.status().ToString());
  ControllerAdmin admin(controller->address());
  if (auto s =
          admin.AddMeshPolicy("bench-mesh", kBenchPrefix, absl::GetFlag(FLAGS_lifetime_seconds));
      !s.ok()) {
    return Fail(s.ToString());
  }

  // One TCP connection per node, as in a real fleet.
  ChannelPool channels(controller->address(), 2);
  if (!channels.Connect(absl::Seconds(10))) return Fail("cannot connect to the controller");
  Sequencer sequencer;
  SetupPair pair(0, channels,
                 [&](SetupPair&, bool ok, absl::Duration latency) { sequencer.Done(ok, latency); });
  pair.Connect();
  if (!pair.WaitWelcome(absl::Seconds(10))) return Fail("no Welcome from the controller");

  std::vector<double> micros;
  micros.reserve(setups);
  CpuTimes cpu_before;
  for (int i = 0; i < warmup + setups; ++i) {
    if (i == warmup) cpu_before = ProcessCpuTimes(controller->pid()).value_or(CpuTimes());
    absl::Duration latency;
    if (!pair.BeginSetup() || !sequencer.Wait(absl::Seconds(10), &latency)) {
      return Fail(absl::StrCat(
          "setup ", i + 1,
          " failed: ", pair.last_error().empty() ? "no answer within 10 s" : pair.last_error()));
    }
    if (i >= warmup) micros.push_back(absl::ToDoubleMicroseconds(latency));
  }
  const CpuTimes cpu_after = ProcessCpuTimes(controller->pid()).value_or(CpuTimes());
  const double user = cpu_after.user - cpu_before.user;
  const double system = cpu_after.system - cpu_before.system;
  auto rows = CountAssociations(controller->database());
  pair.Stop();

  if (const std::string path = absl::GetFlag(FLAGS_samples_out); !path.empty()) {
    std::string text;
    for (double us : micros) absl::StrAppend(&text, Fixed(us, 1), "\n");
    if (!WriteTextFile(path, text)) return Fail(absl::StrCat("cannot write ", path));
  }
  const size_t tenth = std::max<size_t>(1, micros.size() / 10);
  TextTable table({"setups (µs)", "n", "mean", "p50", "p90", "p99", "max"});
  table.AddRow(Row("all", Summarize(micros)));
  table.AddRow(Row("first 10%", Summarize({micros.begin(), micros.begin() + tenth})));
  table.AddRow(Row("last 10%", Summarize({micros.end() - tenth, micros.end()})));
  std::printf(
      "setup_latency: A SaRequest -> B RequestStartup -> B SaRequest -> both "
      "Distributions\n");
  std::printf(
      "controller %s (pid %d), SQLite file in a temp dir, default durability "
      "(WAL, synchronous=NORMAL); one TCP connection per agent; %d warm-up setups\n\n",
      controller->address().c_str(), controller->pid(), warmup);
  std::fputs(table.Render().c_str(), stdout);
  std::printf(
      "\ncontroller CPU per setup: %s µs (user %s, system %s; 2 transactions each: S22 open, "
      "S10 establish)\n",
      Fixed((user + system) * 1e6 / setups, 1).c_str(), Fixed(user * 1e6 / setups, 1).c_str(),
      Fixed(system * 1e6 / setups, 1).c_str());
  if (rows.ok()) {
    std::printf(
        "association rows: %lld, established: %lld (all between A and B; rows live "
        "%lld s, so later setups search more rows of the pair)\n",
        static_cast<long long>(rows->rows), static_cast<long long>(rows->established),
        static_cast<long long>(absl::GetFlag(FLAGS_lifetime_seconds)));
  }
  std::printf("target: p50 <= 350 µs, p99 <= 2000 µs\n");
  controller->Stop();
  return 0;
}

}  // namespace
}  // namespace ikeless::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("setup_latency [--setups=N] [--controller_bin=PATH]");
  absl::ParseCommandLine(argc, argv);
  return ikeless::bench::Run();
}
