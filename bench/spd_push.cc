// spd_push: how fast a change of intent reaches a 1,000-node fleet
// (DESIGN.md "Policy is the whole configuration", two Targets rows).
//
// Setup: N node records (--nodes; node-I, address 198.18.0.0 + 1 + I, one
// site 10.x.y.0/24 each) and one wildcard policy ("*" <-> "*"), then N
// agents on real gRPC streams, each with its own Hello; every agent answers
// every SpdUpdate at once with SpdAck{revision} (a real agent does so after
// applying it). Waits until ListNodes shows all N in sync.
//
// 1. Join: CreateNode for node N+1 (no agent). Per existing agent, the
//    time from the RPC's start until that agent has received the SpdUpdate
//    carrying rules toward the new node (and queued its ack); the bytes of
//    every SpdUpdate the change caused (ByteSizeLong of each received one),
//    whether each was a delta, and its largest rule count. Also when
//    ListNodes (polled every 10 ms) first shows the whole fleet in sync.
// 2. Teardown: N associations governed by the policy, ring pairs
//    (I, I+1 mod N), each set up as agents do (SaRequest, RequestStartup,
//    SaRequest, two Distributions). Then DeletePolicy; per side (2N), the
//    time from the RPC's start until that side's Teardown listing the
//    association arrives. The max is "all told".
//
// Starts the real controller binary on 127.0.0.1:0 (as fleet_size), stops
// by itself and kills only the PID it started.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
#include "grpcpp/grpcpp.h"
#include "proto/admin.grpc.pb.h"

ABSL_FLAG(std::string, controller_bin, "", "controller binary (default: next to this one)");
ABSL_FLAG(int, nodes, 1000, "node records with a connected agent, N (the join adds one more)");
ABSL_FLAG(int, connections, 0, "TCP connections carrying the agents' streams; 0 = one per agent");
ABSL_FLAG(bool, keep_dir, false, "keep the temp dir (controller.db, controller.log)");
ABSL_FLAG(absl::Duration, time_limit, absl::Minutes(10), "give up (and kill the controller) after");

namespace ikeless::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr char kPolicy[] = "mesh";

int Fail(const std::string& what) {
  std::fprintf(stderr, "spd_push: %s\n", what.c_str());
  return 1;
}

std::string NodeName(int i) { return absl::StrCat("node-", i); }
std::string SitePrefix(int i) { return absl::StrCat("10.", (i >> 8) & 255, ".", i & 255, ".0/24"); }

enum class Phase { kSetup, kJoin, kTeardown };

// What the agents received, per phase; called from gRPC callback threads.
class Recorder {
 public:
  explicit Recorder(int n) : join_at_(n), sides_(n), told_(n) {}

  void Begin(Phase phase, std::string joined = "") {
    absl::MutexLock l(&mu_);
    phase_ = phase;
    joined_ = std::move(joined);
    start_ = SteadyClock::now();
    updates_ = bytes_ = snapshots_ = max_rules_ = 0;
    spd_first_.clear();
  }

  void Spd(uint32_t agent, const v1::SpdUpdate& u, SteadyClock::time_point at) {
    const int64_t size = static_cast<int64_t>(u.ByteSizeLong());
    absl::MutexLock l(&mu_);
    if (phase_ == Phase::kSetup) return;
    ++updates_;
    bytes_ += size;
    snapshots_ += u.snapshot() ? 1 : 0;
    max_rules_ = std::max<int64_t>(max_rules_, u.upsert_size() + u.remove_size());
    spd_first_.emplace(agent, at);
    if (phase_ != Phase::kJoin || join_at_[agent].has_value()) return;
    for (const v1::PushedRule& r : u.upsert()) {
      if (r.peer_node() == joined_) {
        join_at_[agent] = at - start_;
        ++joined_count_;
        return;
      }
    }
  }

  void Distribution(uint32_t agent, uint64_t association) {
    absl::MutexLock l(&mu_);
    if (sides_[agent].insert(association).second) ++distributions_;
  }

  void Teardown(uint32_t agent, const v1::Teardown& t, SteadyClock::time_point at) {
    absl::MutexLock l(&mu_);
    if (phase_ != Phase::kTeardown) return;
    for (uint64_t id : t.association_ids()) {
      if (sides_[agent].count(id) != 0 && told_[agent].emplace(id, at - start_).second) ++told_count_;
    }
  }

  void Error(const std::string& message) {
    absl::MutexLock l(&mu_);
    ++errors_;
    last_error_ = message;
  }

  // Waits until `done` holds (under the lock) or `timeout` passes.
  template <typename F>
  bool Await(absl::Duration timeout, F done) {
    absl::MutexLock l(&mu_);
    auto cond = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(*this); };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }

  // Fields read by Await's predicate and after the phase (under mu_).
  absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kSetup;
  std::string joined_ ABSL_GUARDED_BY(mu_);
  SteadyClock::time_point start_ ABSL_GUARDED_BY(mu_);
  int64_t updates_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t snapshots_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_rules_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint32_t, SteadyClock::time_point> spd_first_ ABSL_GUARDED_BY(mu_);
  std::vector<std::optional<SteadyClock::duration>> join_at_ ABSL_GUARDED_BY(mu_);
  int joined_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::set<uint64_t>> sides_ ABSL_GUARDED_BY(mu_);  // association ids per agent
  int64_t distributions_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::map<uint64_t, SteadyClock::duration>> told_ ABSL_GUARDED_BY(mu_);
  int64_t told_count_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

double Micros(SteadyClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}
std::string Ms(double us) { return Fixed(us / 1000, 1); }

// Polls ListNodes until `want` nodes are in sync; the time it first saw
// them so, from `start`.
absl::StatusOr<absl::Duration> WaitInSync(ControllerAdmin& admin, int want, absl::Time start,
                                          absl::Duration timeout, absl::Duration every) {
  const absl::Time deadline = absl::Now() + timeout;
  int seen = 0;
  while (absl::Now() < deadline) {
    absl::StatusOr<int> n = admin.NodesInSync();
    if (!n.ok()) return n.status();
    seen = *n;
    if (seen >= want) return absl::Now() - start;
    absl::SleepFor(every);
  }
  return absl::DeadlineExceededError(absl::StrCat(seen, " of ", want, " nodes in sync"));
}

int Run() {
  const int n = absl::GetFlag(FLAGS_nodes);
  if (n < 3 || static_cast<uint32_t>(n) + 1 > kMaxBenchAddresses || n + 1 > 65536) {
    return Fail("--nodes: 3..65535");
  }
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
  ControllerAdmin admin(controller->address());
  auto add_node = [&admin](int i) {
    return admin.AddNode(NodeName(i), BenchAddress(static_cast<uint32_t>(i)), SitePrefix(i));
  };

  // Intent first (no agent connected: nothing is pushed yet).
  const absl::Time records_start = absl::Now();
  for (int i = 0; i < n; ++i) {
    if (auto s = add_node(i); !s.ok()) return Fail(s.ToString());
  }
  if (auto s = admin.AddMeshPolicy(kPolicy, "*", 3600); !s.ok()) return Fail(s.ToString());
  const absl::Duration records_time = absl::Now() - records_start;

  Recorder rec(n);
  std::atomic<uint64_t> next_id{1};
  auto handler = [&](BenchAgent& agent, const v1::ControllerMessage& m) {
    const SteadyClock::time_point at = SteadyClock::now();
    switch (m.body_case()) {
      case v1::ControllerMessage::kSpdUpdate: {
        rec.Spd(agent.index(), m.spd_update(), at);
        v1::AgentMessage ack;
        ack.mutable_spd_ack()->set_revision(m.spd_update().revision());
        agent.Send(std::move(ack));
        break;
      }
      case v1::ControllerMessage::kStartup: {
        const uint64_t id = next_id.fetch_add(1);
        agent.Request(id, m.startup().peer(), static_cast<uint32_t>(256 + id));
        break;
      }
      case v1::ControllerMessage::kDistribution:
        rec.Distribution(agent.index(), m.distribution().association_id());
        break;
      case v1::ControllerMessage::kTeardown:
        rec.Teardown(agent.index(), m.teardown(), at);
        break;
      case v1::ControllerMessage::kError:
        rec.Error(m.error().message());
        break;
      default:
        break;
    }
  };
  const absl::Time connect_start = absl::Now();
  ChannelPool channels(controller->address(), connections);
  if (!channels.Connect(absl::Seconds(60))) return Fail("cannot connect to the controller");
  std::vector<std::unique_ptr<BenchAgent>> agents;
  agents.reserve(n);
  for (int i = 0; i < n; ++i) {
    agents.push_back(std::make_unique<BenchAgent>(channels.StubFor(i), NodeName(i),
                                                  BenchAddress(i), i, handler));
    agents.back()->Start();
  }
  for (auto& a : agents) {
    if (!a->WaitWelcome(absl::Seconds(120))) {
      return Fail(absl::StrCat("agent ", a->node_name(), " got no Welcome"));
    }
  }
  auto synced = WaitInSync(admin, n, connect_start, absl::Seconds(120), absl::Milliseconds(50));
  if (!synced.ok()) return Fail(absl::StrCat("initial sync: ", synced.status().ToString()));
  absl::SleepFor(absl::Milliseconds(500));  // let the controller settle

  // 1. Node N+1 joins.
  rec.Begin(Phase::kJoin, NodeName(n));
  const absl::Time join_wall = absl::Now();
  if (auto s = add_node(n); !s.ok()) return Fail(s.ToString());
  const absl::Duration join_rpc = absl::Now() - join_wall;
  if (!rec.Await(absl::Seconds(60), [n](Recorder& r) {
        r.mu_.AssertHeld();  // Await calls the predicate under mu_
        return r.joined_count_ >= n;
      })) {
    return Fail("not every agent received the join's SpdUpdate within 60 s");
  }
  auto join_synced =
      WaitInSync(admin, n, join_wall, absl::Seconds(60), absl::Milliseconds(10));
  if (!join_synced.ok()) return Fail(absl::StrCat("join sync: ", join_synced.status().ToString()));
  absl::SleepFor(absl::Milliseconds(200));  // stragglers of the same change
  std::vector<double> join_us;
  int64_t join_updates, join_bytes, join_snapshots, join_max_rules;
  {
    absl::MutexLock l(&rec.mu_);
    for (const auto& d : rec.join_at_) join_us.push_back(Micros(*d));
    join_updates = rec.updates_;
    join_bytes = rec.bytes_;
    join_snapshots = rec.snapshots_;
    join_max_rules = rec.max_rules_;
  }
  const LatencySummary join = Summarize(join_us);

  // 2. N associations under the policy: ring pairs (I, I+1 mod N).
  const absl::Time setup_start = absl::Now();
  for (int i = 0; i < n; ++i) {
    const uint64_t id = next_id.fetch_add(1);
    agents[i]->Request(id, agents[(i + 1) % n]->address(), static_cast<uint32_t>(256 + id));
  }
  if (!rec.Await(absl::Seconds(120), [n](Recorder& r) {
        r.mu_.AssertHeld();  // Await calls the predicate under mu_
        return r.distributions_ >= 2 * n || r.errors_ > 0;
      })) {
    return Fail("associations not set up within 120 s");
  }
  {
    absl::MutexLock l(&rec.mu_);
    if (rec.errors_ > 0) return Fail(absl::StrCat("setup error: ", rec.last_error_));
  }
  const absl::Duration setup_time = absl::Now() - setup_start;
  auto counts = CountAssociations(controller->database());
  if (!counts.ok()) return Fail(counts.status().ToString());
  if (counts->established != n) {
    return Fail(absl::StrCat(counts->established, " established rows, want ", n));
  }
  absl::SleepFor(absl::Milliseconds(500));

  rec.Begin(Phase::kTeardown);
  const absl::Time delete_wall = absl::Now();
  if (auto s = admin.DeletePolicy(kPolicy); !s.ok()) return Fail(s.ToString());
  const absl::Duration delete_rpc = absl::Now() - delete_wall;
  if (!rec.Await(absl::Seconds(60), [n](Recorder& r) {
        r.mu_.AssertHeld();  // Await calls the predicate under mu_
        return r.told_count_ >= 2 * n;
      })) {
    return Fail("not every side was told within 60 s");
  }
  auto delete_synced =
      WaitInSync(admin, n, delete_wall, absl::Seconds(60), absl::Milliseconds(10));
  if (!delete_synced.ok()) {
    return Fail(absl::StrCat("delete sync: ", delete_synced.status().ToString()));
  }
  absl::SleepFor(absl::Milliseconds(200));
  std::vector<double> told_us, spd_us;
  int64_t del_updates, del_bytes, del_max_rules;
  {
    absl::MutexLock l(&rec.mu_);
    for (const auto& sides : rec.told_) {
      for (const auto& [_, d] : sides) told_us.push_back(Micros(d));
    }
    for (const auto& [_, at] : rec.spd_first_) spd_us.push_back(Micros(at - rec.start_));
    del_updates = rec.updates_;
    del_bytes = rec.bytes_;
    del_max_rules = rec.max_rules_;
  }
  const LatencySummary told = Summarize(told_us);
  const LatencySummary spd_after_delete = Summarize(spd_us);

  for (auto& a : agents) a->Stop();
  controller->Stop();

  std::printf(
      "spd_push: %d nodes with agents over %d TCP connection%s, one wildcard policy "
      "(\"*\" <-> \"*\"), each agent acks every SpdUpdate at once; fresh controller\n\n",
      n, connections, connections == 1 ? "" : "s");
  TextTable table({"measure", "value"});
  table.AddRow({absl::StrCat(n, " CreateNode + CreatePolicy, ms"),
                Fixed(absl::ToDoubleMilliseconds(records_time), 0)});
  table.AddRow({"connect all + snapshots acked (ListNodes in sync), ms",
                Fixed(absl::ToDoubleMilliseconds(*synced), 0)});
  table.AddRow({absl::StrCat("join: CreateNode ", NodeName(n), " RPC, ms"),
                Ms(absl::ToDoubleMicroseconds(join_rpc))});
  table.AddRow({absl::StrCat("join: delta received + acked, p50 ms (", join.count, " agents)"),
                Ms(join.p50_us)});
  table.AddRow({"join: delta received + acked, p99 ms", Ms(join.p99_us)});
  table.AddRow({"join: delta received + acked, max ms (all)", Ms(join.max_us)});
  table.AddRow({"join: ListNodes shows all in sync by (10 ms polls), ms",
                Ms(absl::ToDoubleMicroseconds(*join_synced))});
  table.AddRow({"join: SpdUpdates received / snapshots", absl::StrCat(join_updates, " / ",
                                                                       join_snapshots)});
  table.AddRow({"join: SpdUpdate bytes, total", absl::StrCat(join_bytes)});
  table.AddRow({"join: SpdUpdate bytes, per agent",
                Fixed(static_cast<double>(join_bytes) / std::max<int64_t>(join_updates, 1), 0)});
  table.AddRow({"join: largest update, rules (upsert + remove)", absl::StrCat(join_max_rules)});
  table.AddRow({absl::StrCat(n, " associations set up (ring pairs), ms"),
                Fixed(absl::ToDoubleMilliseconds(setup_time), 0)});
  table.AddRow({"delete: DeletePolicy RPC, ms", Ms(absl::ToDoubleMicroseconds(delete_rpc))});
  table.AddRow({absl::StrCat("delete: side told, p50 ms (", told.count, " sides)"),
                Ms(told.p50_us)});
  table.AddRow({"delete: side told, p99 ms", Ms(told.p99_us)});
  table.AddRow({"delete: side told, max ms (all told)", Ms(told.max_us)});
  table.AddRow({"delete: first SpdUpdate received, p50 / max ms",
                absl::StrCat(Ms(spd_after_delete.p50_us), " / ", Ms(spd_after_delete.max_us))});
  table.AddRow({"delete: ListNodes shows all in sync by, ms",
                Ms(absl::ToDoubleMicroseconds(*delete_synced))});
  table.AddRow({"delete: SpdUpdates received / bytes total",
                absl::StrCat(del_updates, " / ", del_bytes)});
  table.AddRow({"delete: largest update, rules", absl::StrCat(del_max_rules)});
  std::fputs(table.Render().c_str(), stdout);
  std::printf(
      "\ntimes run from the RPC's start (client side) to the agent's receipt. "
      "targets: join -> all peers acknowledged <= 1 s; policy deleted -> both sides of "
      "%d associations told <= 1 s\n",
      n);
  return 0;
}

}  // namespace
}  // namespace ikeless::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("spd_push [--nodes=N] [--connections=C]");
  absl::ParseCommandLine(argc, argv);
  return ikeless::bench::Run();
}
