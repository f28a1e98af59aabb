// fleet_size: what N connected, idle agents cost the controller. Connects N
// agents (distinct node names and addresses in 198.18.0.0/15, each with its
// own Hello), waits until ListAgents shows them all connected, and reports
// the controller's resident memory before and after (and per agent), its
// CPU over an idle period, and how long a RequestStartup takes to reach a
// random one of them: an extra agent asks for a pair with it, and the time
// runs until that agent receives the startup. The idle agents answer as
// real ones would (they ask for their side), so each probe completes.
//
// --connections decides how many TCP connections carry the N streams: one
// per agent (a real fleet, also per-connection cost) or fewer, shared by
// HTTP/2 multiplexing (per-stream cost alone). One run per invocation, on a
// fresh controller.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/bench_addresses.h"
#include "bench/bench_agent.h"
#include "bench/channel_pool.h"
#include "bench/controller_admin.h"
#include "bench/controller_process.h"
#include "bench/latency_summary.h"
#include "bench/process_stats.h"
#include "bench/temp_dir.h"
#include "bench/text_table.h"

ABSL_FLAG(std::string, controller_bin, "", "controller binary (default: next to this one)");
ABSL_FLAG(int, agents, 1000, "idle agents N");
ABSL_FLAG(int, connections, 0, "TCP connections carrying their streams; 0 = one per agent");
ABSL_FLAG(absl::Duration, idle, absl::Seconds(10), "idle time over which controller CPU is read");
ABSL_FLAG(int, probes, 200, "RequestStartups pushed to random agents");
ABSL_FLAG(bool, keep_dir, false, "keep the temp dir (controller.db, controller.log)");
ABSL_FLAG(absl::Duration, time_limit, absl::Minutes(10), "give up (and kill the controller) after");

namespace ikeless::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

int Fail(const std::string& what) {
  std::fprintf(stderr, "fleet_size: %s\n", what.c_str());
  return 1;
}

std::string Mib(int64_t bytes) { return Fixed(static_cast<double>(bytes) / (1 << 20), 1); }

// One probe at a time: which agent should be woken, when the request left,
// and what has arrived since.
class Probe {
 public:
  void Begin(uint32_t target) {
    absl::MutexLock l(&mu_);
    target_ = target;
    start_ = SteadyClock::now();
    woken_ = prober_done_ = target_done_ = failed_ = false;
  }
  // Called by every idle agent on a RequestStartup.
  void Startup(uint32_t agent, SteadyClock::time_point at) {
    absl::MutexLock l(&mu_);
    if (agent != target_ || woken_) return;
    woken_ = true;
    latency_ = absl::FromChrono(at - start_);
  }
  void Distribution(bool prober) {
    absl::MutexLock l(&mu_);
    (prober ? prober_done_ : target_done_) = true;
  }
  void Failed(const std::string& why) {
    absl::MutexLock l(&mu_);
    failed_ = true;
    why_ = why;
  }
  // The startup latency once the whole setup is done; false on error or timeout.
  bool Wait(absl::Duration timeout, absl::Duration* latency, std::string* why) {
    absl::MutexLock l(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return failed_ || (woken_ && prober_done_ && target_done_);
    };
    bool ok = mu_.AwaitWithTimeout(absl::Condition(&done), timeout) && !failed_;
    *latency = latency_;
    *why = failed_ ? why_ : "no answer within the timeout";
    return ok;
  }

 private:
  absl::Mutex mu_;
  uint32_t target_ ABSL_GUARDED_BY(mu_) = UINT32_MAX;
  SteadyClock::time_point start_ ABSL_GUARDED_BY(mu_);
  absl::Duration latency_ ABSL_GUARDED_BY(mu_);
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool prober_done_ ABSL_GUARDED_BY(mu_) = false;
  bool target_done_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  std::string why_ ABSL_GUARDED_BY(mu_);
};

int Run() {
  const int n = absl::GetFlag(FLAGS_agents);
  if (n < 1 || static_cast<uint32_t>(n) + 1 > kMaxBenchAddresses)
    return Fail("--agents: 1..131069");
  const int connections =
      absl::GetFlag(FLAGS_connections) > 0 ? absl::GetFlag(FLAGS_connections) : n;
  GuardChildren(absl::GetFlag(FLAGS_time_limit));
  auto limit = RaiseFileLimit();
  if (!limit.ok()) return Fail(limit.status().ToString());
  if (*limit < static_cast<uint64_t>(connections) + 256) {
    return Fail(absl::StrCat("RLIMIT_NOFILE ", *limit, " is too low for ", connections,
                             " connections; use fewer --connections"));
  }
  std::string binary = absl::GetFlag(FLAGS_controller_bin);
  if (binary.empty()) binary = DefaultControllerBinary();

  auto dir = TempDir::Create();
  if (!dir.ok()) return Fail(dir.status().ToString());
  if (absl::GetFlag(FLAGS_keep_dir)) {
    dir->Keep();
    std::fprintf(stderr, "keeping %s\n", dir->path().c_str());
  }
  auto controller = ControllerProcess::Start(binary, dir->path());
  if (!controller.ok()) return Fail(controller.status().ToString());
  const pid_t pid = controller->pid();
  ControllerAdmin admin(controller->address());
  if (auto s = admin.AddMeshPolicy("bench-mesh", kBenchPrefix, 3600); !s.ok()) {
    return Fail(s.ToString());
  }
  if (auto c = admin.ConnectedAgents(); !c.ok()) return Fail(c.status().ToString());
  const int64_t rss_before = ResidentBytes(pid).value_or(0);
  const int fds_before = OpenFdCount(pid).value_or(0);

  // The fleet. Idle agents answer a RequestStartup by asking for their side.
  Probe probe;
  std::atomic<uint64_t> next_id{1};
  auto idle_handler = [&](BenchAgent& agent, const v1::ControllerMessage& m) {
    if (m.has_startup()) {
      probe.Startup(agent.index(), SteadyClock::now());
      uint64_t id = next_id.fetch_add(1);
      agent.Request(id, m.startup().peer(), static_cast<uint32_t>(256 + id));
    } else if (m.has_distribution()) {
      probe.Distribution(false);
    } else if (m.has_error()) {
      probe.Failed(m.error().message());
    }
  };
  const absl::Time connect_start = absl::Now();
  ChannelPool channels(controller->address(), connections);
  if (!channels.Connect(absl::Seconds(60))) return Fail("cannot connect to the controller");
  std::vector<std::unique_ptr<BenchAgent>> agents;
  agents.reserve(n);
  for (int i = 0; i < n; ++i) {
    agents.push_back(std::make_unique<BenchAgent>(channels.StubFor(i), absl::StrCat("idle-", i),
                                                  BenchAddress(i), i, idle_handler));
    agents.back()->Start();
  }
  const absl::Time welcome_deadline = absl::Now() + absl::Seconds(120);
  for (auto& a : agents) {
    if (!a->WaitWelcome(welcome_deadline - absl::Now())) {
      return Fail(absl::StrCat("agent ", a->node_name(), " got no Welcome"));
    }
  }
  int listed = 0;
  while (absl::Now() < welcome_deadline) {
    listed = admin.ConnectedAgents().value_or(-1);
    if (listed == n) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (listed != n) return Fail(absl::StrCat("ListAgents shows ", listed, " of ", n, " connected"));
  const absl::Duration connect_time = absl::Now() - connect_start;
  const int64_t rss_after = ResidentBytes(pid).value_or(0);
  const int fds_after = OpenFdCount(pid).value_or(0);
  const int threads = ThreadCount(pid).value_or(0);

  // Idle.
  const double cpu_idle_start = CpuSeconds(pid).value_or(0);
  const absl::Time idle_start = absl::Now();
  absl::SleepFor(absl::GetFlag(FLAGS_idle));
  const double idle_cpu = CpuSeconds(pid).value_or(0) - cpu_idle_start;
  const double idle_seconds = absl::ToDoubleSeconds(absl::Now() - idle_start);

  // Probes from one more agent, on its own connection.
  ChannelPool prober_channel(controller->address(), 1);
  BenchAgent prober(prober_channel.StubFor(0), "prober", BenchAddress(n), n,
                    [&](BenchAgent&, const v1::ControllerMessage& m) {
                      if (m.has_distribution()) probe.Distribution(true);
                      if (m.has_error()) probe.Failed(m.error().message());
                    });
  prober.Start();
  if (!prober.WaitWelcome(absl::Seconds(10))) return Fail("prober got no Welcome");
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::vector<double> micros;
  for (int i = 0; i < absl::GetFlag(FLAGS_probes); ++i) {
    const uint32_t target = static_cast<uint32_t>(pick(random));
    probe.Begin(target);
    const uint64_t id = static_cast<uint64_t>(i) + 1;
    prober.Request(id, agents[target]->address(), static_cast<uint32_t>(256 + id));
    absl::Duration latency;
    std::string why;
    if (!probe.Wait(absl::Seconds(10), &latency, &why)) {
      return Fail(absl::StrCat("probe ", i + 1, " to ", agents[target]->node_name(), ": ", why));
    }
    micros.push_back(absl::ToDoubleMicroseconds(latency));
  }
  const LatencySummary push = Summarize(micros);

  prober.Stop();
  for (auto& a : agents) a->Stop();
  controller->Stop();

  std::printf(
      "fleet_size: %d idle agents over %d TCP connection%s (%s streams per connection), "
      "each with its own Hello; fresh controller; RLIMIT_NOFILE %llu\n\n",
      n, connections, connections == 1 ? "" : "s",
      Fixed(static_cast<double>(n) / connections, 1).c_str(),
      static_cast<unsigned long long>(*limit));
  TextTable table({"measure", "value"});
  table.AddRow({"agents connected (ListAgents)", absl::StrCat(listed)});
  table.AddRow(
      {"time to connect and register all, ms", Fixed(absl::ToDoubleMilliseconds(connect_time), 0)});
  table.AddRow({"controller VmRSS before, MiB", Mib(rss_before)});
  table.AddRow({"controller VmRSS after, MiB", Mib(rss_after)});
  table.AddRow(
      {"VmRSS per agent, KiB", Fixed(static_cast<double>(rss_after - rss_before) / n / 1024, 1)});
  table.AddRow({"controller fds before / after", absl::StrCat(fds_before, " / ", fds_after)});
  table.AddRow({"controller threads", absl::StrCat(threads)});
  table.AddRow({absl::StrCat("controller CPU idle over ",
                             absl::FormatDuration(absl::GetFlag(FLAGS_idle)), ", ms"),
                Fixed(idle_cpu * 1e3, 0)});
  table.AddRow({"  = % of one core", Fixed(100 * idle_cpu / idle_seconds, 2)});
  table.AddRow({absl::StrCat("RequestStartup push, p50 µs (", push.count, " probes)"),
                Fixed(push.p50_us, 0)});
  table.AddRow({"RequestStartup push, p99 µs", Fixed(push.p99_us, 0)});
  table.AddRow({"RequestStartup push, max µs", Fixed(push.max_us, 0)});
  std::fputs(table.Render().c_str(), stdout);
  std::printf(
      "\npush: from the prober's SaRequest send to the RequestStartup arriving at the "
      "random idle agent (S21-S23, one SQLite commit). target: >= 10000 agents\n");
  return 0;
}

}  // namespace
}  // namespace ikeless::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("fleet_size [--agents=N] [--connections=C]");
  absl::ParseCommandLine(argc, argv);
  return ikeless::bench::Run();
}
