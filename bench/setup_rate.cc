// setup_rate: pair setups per second on one controller. K agent pairs run
// setups back to back over their own streams (each pair: A asks, B is
// woken and asks, both get their Distribution, then A asks again) for a
// fixed time, on gRPC's callback threads: the client needs no thread per
// agent. Reports setups/s, CPU of the controller and of this client per
// setup, the controller's request transactions per setup (one per batch of
// its request loops), and checks one association row per setup. A fresh
// controller for each K.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
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
ABSL_FLAG(std::vector<std::string>, pairs, std::vector<std::string>({"10", "100", "1000"}),
          "concurrent agent pairs K, one run per value");
ABSL_FLAG(int, connections, 0,
          "TCP connections to the controller per run; 0 = one per agent (2K), as in a real "
          "fleet");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "measured time per K");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "unmeasured time before it");
ABSL_FLAG(int64_t, lifetime_seconds, 3600, "hard SA lifetime of the policy (rows live this long)");
ABSL_FLAG(std::string, tsv_out, "", "also write the table as tab-separated values to this file");
ABSL_FLAG(bool, keep_dir, false, "keep the temp dir (controller.db, controller.log)");
ABSL_FLAG(absl::Duration, time_limit, absl::Minutes(10), "give up (and kill the controller) after");

namespace ikeless::bench {
namespace {

// Counters read at the start and the end of the measured time.
struct Snapshot {
  absl::Time when;
  int64_t setups = 0;
  double controller_cpu = 0;
  double client_cpu = 0;
};

// Keeps every pair busy until stopped, and collects latencies.
class Driver {
 public:
  void Done(SetupPair& pair, bool ok, absl::Duration latency) {
    {
      absl::MutexLock l(&mu_);
      if (ok) micros_.push_back(absl::ToDoubleMicroseconds(latency));
      if (stopping_) return;
    }
    pair.BeginSetup();
  }
  void Stop() {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  std::vector<double> TakeLatencies() {
    absl::MutexLock l(&mu_);
    return std::move(micros_);
  }

 private:
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<double> micros_ ABSL_GUARDED_BY(mu_);
};

Snapshot Take(pid_t controller, const std::vector<std::unique_ptr<SetupPair>>& pairs) {
  Snapshot s;
  s.when = absl::Now();
  for (const auto& p : pairs) s.setups += p->completed();
  s.controller_cpu = CpuSeconds(controller).value_or(0);
  s.client_cpu = CpuSeconds(0).value_or(0);
  return s;
}

// The `batches=` of the controller's request_shards_stopped log line: the
// transactions its request loops committed.
absl::StatusOr<uint64_t> RequestBatchesFromLog(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("event=request_shards_stopped") == std::string::npos) continue;
    const size_t at = line.find(" batches=");
    uint64_t batches = 0;
    if (at != std::string::npos &&
        absl::SimpleAtoi(line.substr(at + 9, line.find(' ', at + 9) - at - 9), &batches)) {
      return batches;
    }
  }
  return absl::NotFoundError(absl::StrCat("no request_shards_stopped line in ", path));
}

// One K: returns the table row, or an error.
absl::StatusOr<std::vector<std::string>> RunOne(const std::string& binary, int k) {
  auto dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  if (absl::GetFlag(FLAGS_keep_dir)) {
    dir->Keep();
    std::fprintf(stderr, "keeping %s\n", dir->path().c_str());
  }
  auto controller = ControllerProcess::Start(binary, dir->path(), absl::GetFlag(FLAGS_controller_flags));
  if (!controller.ok()) return controller.status();
  ControllerAdmin admin(controller->address());
  if (auto s =
          admin.AddMeshPolicy("bench-mesh", kBenchPrefix, absl::GetFlag(FLAGS_lifetime_seconds));
      !s.ok()) {
    return s;
  }
  const int connections =
      absl::GetFlag(FLAGS_connections) > 0 ? absl::GetFlag(FLAGS_connections) : 2 * k;
  ChannelPool channels(controller->address(), connections);
  if (!channels.Connect(absl::Seconds(30))) return absl::UnavailableError("cannot connect");

  Driver driver;
  std::vector<std::unique_ptr<SetupPair>> pairs;
  for (int i = 0; i < k; ++i) {
    pairs.push_back(std::make_unique<SetupPair>(
        i, channels,
        [&driver](SetupPair& p, bool ok, absl::Duration latency) { driver.Done(p, ok, latency); }));
    pairs.back()->Connect();
  }
  for (auto& p : pairs) {
    if (!p->WaitWelcome(absl::Seconds(60))) return absl::UnavailableError("no Welcome");
  }

  for (auto& p : pairs) p->BeginSetup();
  absl::SleepFor(absl::GetFlag(FLAGS_warmup));
  const Snapshot start = Take(controller->pid(), pairs);
  absl::SleepFor(absl::GetFlag(FLAGS_duration));
  const Snapshot end = Take(controller->pid(), pairs);
  driver.Stop();
  // Let the setups in flight finish, so every row is complete.
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(10);
  for (auto& p : pairs) {
    while (p->in_flight() && absl::Now() < drain_deadline) absl::SleepFor(absl::Milliseconds(1));
  }
  int64_t completed = 0, failed = 0, stuck = 0;
  std::string error;
  for (auto& p : pairs) {
    completed += p->completed();
    failed += p->failed();
    stuck += p->in_flight() ? 1 : 0;
    if (error.empty()) error = p->last_error();
  }
  const int client_threads = ThreadCount(0).value_or(0);
  auto rows = CountAssociations(controller->database());
  for (auto& p : pairs) p->Stop();
  controller->Stop();

  const double seconds = absl::ToDoubleSeconds(end.when - start.when);
  const double setups = static_cast<double>(end.setups - start.setups);
  const double per_setup = setups > 0 ? 1e6 / setups : 0;
  const LatencySummary latency = Summarize(driver.TakeLatencies());
  std::string check = "?";
  if (rows.ok()) {
    check = rows->established == completed && rows->rows == completed + stuck
                ? absl::StrCat(rows->established, " rows = setups")
                : absl::StrCat("MISMATCH ", rows->established, " rows, ", completed, " setups");
  }
  // The controller's request loops count the transactions they committed
  // (one per batch) and say so when they stop; warm-up and drain included.
  std::string commits = "?";
  if (auto batches = RequestBatchesFromLog(controller->log_path()); batches.ok() && completed > 0) {
    commits = Fixed(static_cast<double>(*batches) / static_cast<double>(completed), 3);
  }
  if (failed > 0) {
    std::fprintf(stderr, "setup_rate: K=%d: %lld failed setups, last: %s\n", k,
                 static_cast<long long>(failed), error.c_str());
  }
  if (stuck > 0) {
    std::fprintf(stderr, "setup_rate: K=%d: %lld setups unanswered after 10 s\n", k,
                 static_cast<long long>(stuck));
  }
  return std::vector<std::string>{
      absl::StrCat(k),
      absl::StrCat(channels.size()),
      Fixed(setups / seconds, 0),
      Fixed((end.controller_cpu - start.controller_cpu) * per_setup, 1),
      Fixed((end.controller_cpu - start.controller_cpu) / seconds, 2),
      Fixed((end.client_cpu - start.client_cpu) * per_setup, 1),
      Fixed((end.client_cpu - start.client_cpu) / seconds, 2),
      absl::StrCat(client_threads),
      Fixed(latency.p50_us, 0),
      Fixed(latency.p99_us, 0),
      commits,
      check,
  };
}

int Run() {
  GuardChildren(absl::GetFlag(FLAGS_time_limit));
  auto limit = RaiseFileLimit();  // one descriptor per connection
  std::string binary = absl::GetFlag(FLAGS_controller_bin);
  if (binary.empty()) binary = DefaultControllerBinary();
  std::vector<int> ks;
  for (const std::string& s : absl::GetFlag(FLAGS_pairs)) {
    int k = 0;
    if (!absl::SimpleAtoi(s, &k) || k < 1 || 2u * k > kMaxBenchAddresses) {
      std::fprintf(stderr, "setup_rate: --pairs: '%s' is not a pair count\n", s.c_str());
      return 2;
    }
    ks.push_back(k);
  }
  TextTable table({"K pairs", "conns", "setups/s", "ctl CPU µs/setup", "ctl cores",
                   "client CPU µs/setup", "client cores", "client threads", "p50 µs", "p99 µs",
                   "commits/setup", "rows check"});
  for (int k : ks) {
    auto row = RunOne(binary, k);
    if (!row.ok()) {
      std::fprintf(stderr, "setup_rate: K=%d: %s\n", k, row.status().ToString().c_str());
      return 1;
    }
    table.AddRow(*row);
  }
  std::printf(
      "setup_rate: K pairs doing setups back to back for %s each (after %s warm-up); "
      "fresh controller per K, SQLite default durability (WAL, synchronous=NORMAL); "
      "RLIMIT_NOFILE %llu\n\n",
      absl::FormatDuration(absl::GetFlag(FLAGS_duration)).c_str(),
      absl::FormatDuration(absl::GetFlag(FLAGS_warmup)).c_str(),
      static_cast<unsigned long long>(limit.value_or(0)));
  std::fputs(table.Render().c_str(), stdout);
  if (const std::string path = absl::GetFlag(FLAGS_tsv_out);
      !path.empty() && !WriteTextFile(path, table.RenderTsv())) {
    std::fprintf(stderr, "setup_rate: cannot write %s\n", path.c_str());
    return 1;
  }
  std::printf(
      "\nctl = controller process (utime+stime from /proc); commits/setup: the controller's "
      "request transactions (one per batch, from its request_shards_stopped log line) per "
      "completed setup;\nrows check: one established association row per completed setup. "
      "p50/p99: setup latency under load. target: >= 20000 setups/s\n");
  return 0;
}

}  // namespace
}  // namespace ikeless::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("setup_rate [--pairs=10,100,1000] [--duration=5s]");
  absl::ParseCommandLine(argc, argv);
  return ikeless::bench::Run();
}
