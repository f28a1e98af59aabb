// ikeless-controller: holds every IPsec policy of a fleet and hands out
// fresh keys on demand (the source's "IPsec setting server").
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/log.h"
#include "common/mutex_checks.h"
#include "controller/accept_guard.h"
#include "controller/controller_server.h"
#include "storage/store_url.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC listen addresses, comma-separated: host:port or unix:PATH");
ABSL_FLAG(std::string, store, "",
          "where the controller keeps its state: sqlite:///ABSOLUTE/PATH.db, "
          "sqlite:RELATIVE/PATH.db or sqlite::memory: (keeps nothing); postgres:// is not "
          "built yet (issue #15). Default: sqlite: + --database, or --data_dir/controller.db "
          "(--data_dir is then unused)");
ABSL_FLAG(std::string, data_dir, "/var/lib/ikeless",
          "directory of the embedded SQLite database (controller.db), unless --store or "
          "--database names it");
ABSL_FLAG(std::string, database, "",
          "SQLite database file; overrides --data_dir (\":memory:\" keeps nothing); the same "
          "as --store sqlite:PATH, and not combined with --store");
ABSL_FLAG(absl::Duration, startup_interval, absl::Seconds(5),
          "interval between RequestStartup repetitions (S23)");
ABSL_FLAG(uint32_t, startup_attempts, 6, "RequestStartups before PEER_UNREACHABLE (S24)");
ABSL_FLAG(uint32_t, max_rows_per_pair, 16,
          "associations one node may hold with one peer that can still be used (live SAs, "
          "pending requests; rows a rekey replaced do not count); 0 = no limit (benchmarks)");
ABSL_FLAG(uint32_t, max_rows_per_pair_total, 256,
          "associations of one pair of nodes, replaced ones included (they live until their "
          "lifetime ends); 0 = no limit (benchmarks)");
ABSL_FLAG(int32_t, max_message_bytes, 1024 * 1024,
          "largest accepted gRPC message (a whole fleet file for plan/apply)");
ABSL_FLAG(int32_t, sqlite_wal_autocheckpoint, 1000,
          "WAL pages (4 KiB) at which a commit moves the WAL into the database file, >= 1; "
          "more: fewer, longer checkpoints (measured at 4000: setup p99 ~1.2 ms instead of "
          "~5 ms, p50 +10 %, rare stalls of ~20 ms; BENCHMARKS.md § 1)");
ABSL_FLAG(absl::Duration, sqlite_checkpoint_interval, absl::ZeroDuration(),
          "> 0: a background thread moves the SQLite WAL into the database file when it "
          "holds --sqlite_wal_autocheckpoint pages and at least this often, so no request waits for it (setup p99 "
          "~0.8 ms instead of ~3.5 ms, p50 ~420 us instead of ~330 us); 0: SQLite's "
          "auto-checkpoint, run by the commit that crosses 1000 pages");
ABSL_FLAG(bool, fsync_every_commit, false,
          "fsync the SQLite WAL at every commit (survives power loss, ~4x slower); "
          "without it a commit still survives a crash of the controller process");
ABSL_FLAG(std::string, kek_file, "",
          "key-encryption key for SA keys at rest (32 bytes hex, mode 0600; created only "
          "while the database holds no sealed keys, never beside one that does); default: "
          "kek.key beside the database");
ABSL_FLAG(std::string, revoked_serials, "",
          "file of revoked certificate serials (hex, one per line), re-read every second; "
          "default: revoked.txt beside the database");
ABSL_FLAG(std::string, ca_dir, "",
          "CA directory (ikeless-ca init) for enrolling nodes with one-time tokens and "
          "renewing their certificates; empty: no enrollment");
ABSL_FLAG(std::string, tls_ca, "", "CA certificate (PEM) that signed agents' and admins' certificates");
ABSL_FLAG(std::string, tls_cert, "", "the controller's certificate (PEM)");
ABSL_FLAG(std::string, tls_key, "", "the controller's private key (PEM)");
ABSL_FLAG(bool, insecure, false,
          "serve without TLS: anyone who can connect gets keys. For tests on loopback only");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(uint64_t, max_connections, 0,
          "open client connections at most; more are closed at once (0: the descriptor "
          "limit less 256, kept for the database and files, at most 65536)");
ABSL_FLAG(uint64_t, max_connections_per_address, 256,
          "open client connections from one IP address at most (agents need one each; "
          "nodes behind one NAT share an address); 0 = no limit");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "close a connection that has not completed its TLS/HTTP2 handshake by then");
ABSL_FLAG(absl::Duration, hello_timeout, absl::Seconds(10),
          "end an agent stream that has not sent Hello by then");
ABSL_FLAG(double, max_requests_per_second, 200,
          "SaRequests one agent may send per second (bursts of twice that); more are "
          "answered RESOURCE_EXHAUSTED; 0 = no limit");
ABSL_FLAG(uint32_t, max_half_open_per_address, 256,
          "associations one address may have opened that its peers have not answered yet; "
          "0 = no limit");
ABSL_FLAG(uint32_t, request_inline_batches, 4,
          "batches of SaRequests the gRPC thread that received one decides before it hands a "
          "busy shard to the shard's own thread; 0 = until the queue is empty");
ABSL_FLAG(uint32_t, request_shards, 1,
          "request loops: threads that each decide the SaRequests of the address pairs hashed "
          "to them, a batch per transaction (controller/request_shards.h); 1-64");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "ikeless-controller: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ikeless::DisableMutexDeadlockDetection();  // see common/mutex_checks.h
  absl::SetProgramUsageMessage(
      "ikeless-controller --listen HOST:PORT [--data_dir DIR | --store URL]\n"
      "Centrally keyed IPsec controller; manage it with ipsecctl.");
  absl::ParseCommandLine(argc, argv);
  if (!ikeless::SetMinLogLevelByName(absl::GetFlag(FLAGS_log_level))) {
    return Fail("--log_level: use debug, info, warning or error");
  }

  if (absl::GetFlag(FLAGS_startup_interval) <= absl::ZeroDuration()) {
    return Fail("--startup_interval: must be positive");
  }
  if (absl::GetFlag(FLAGS_startup_attempts) == 0) return Fail("--startup_attempts: must be >= 1");
  if (absl::GetFlag(FLAGS_max_message_bytes) < 4096) {
    return Fail("--max_message_bytes: must be at least 4096");
  }

  ikeless::controller::ControllerServer::Options options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.store_url = absl::GetFlag(FLAGS_store);
  if (!options.store_url.empty() && !absl::GetFlag(FLAGS_database).empty()) {
    return Fail("--store and --database: give one (--database PATH means --store sqlite:PATH)");
  }
  if (options.store_url.empty()) {
    std::string database = absl::GetFlag(FLAGS_database);
    if (database.empty()) {
      const std::string dir = absl::GetFlag(FLAGS_data_dir);
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return Fail(absl::StrCat("--data_dir: cannot create ", dir, ": ", ec.message()));
      database = dir + "/controller.db";
    }
    options.store_url = ikeless::storage::SqliteStoreUrl(database);
  }
  auto store_url = ikeless::storage::ParseStoreUrl(options.store_url);
  if (!store_url.ok()) return Fail(std::string(store_url.status().message()));
  // The SQLite file; kek.key and revoked.txt default to its directory.
  const std::string database = store_url->sqlite_path;
  ikeless::TlsFiles tls{absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                        absl::GetFlag(FLAGS_tls_key)};
  if (absl::GetFlag(FLAGS_insecure)) {
    if (!tls.empty()) return Fail("--insecure: do not combine with --tls_ca/--tls_cert/--tls_key");
    ikeless::LogWarning("INSECURE_PLAINTEXT_TRANSPORT")
        .Kv("detail", "no TLS: any client that can connect can ask for keys; loopback tests only");
  } else {
    if (tls.ca_file.empty() || tls.cert_file.empty() || tls.key_file.empty()) {
      return Fail(
          "TLS needs --tls_ca, --tls_cert and --tls_key (make them with ikeless-ca), or pass "
          "--insecure for a plain-text test setup");
    }
    options.tls = tls;
  }
  options.store.sqlite.sync_every_commit = absl::GetFlag(FLAGS_fsync_every_commit);
  options.store.sqlite.checkpoint_interval = absl::GetFlag(FLAGS_sqlite_checkpoint_interval);
  if (absl::GetFlag(FLAGS_sqlite_wal_autocheckpoint) < 1) {
    return Fail("--sqlite_wal_autocheckpoint: must be at least 1 (pages)");
  }
  options.store.sqlite.wal_autocheckpoint_pages = absl::GetFlag(FLAGS_sqlite_wal_autocheckpoint);
  options.kek_file = absl::GetFlag(FLAGS_kek_file);
  if (options.kek_file.empty() && database != ":memory:") {
    options.kek_file = (std::filesystem::path(database).parent_path() / "kek.key").string();
  }
  options.ca_dir = absl::GetFlag(FLAGS_ca_dir);
  options.revocation_file = absl::GetFlag(FLAGS_revoked_serials);
  if (options.revocation_file.empty() && database != ":memory:") {
    options.revocation_file =
        (std::filesystem::path(database).parent_path() / "revoked.txt").string();
  }
  options.processor.startup_interval = absl::GetFlag(FLAGS_startup_interval);
  options.processor.max_rows_per_pair = absl::GetFlag(FLAGS_max_rows_per_pair);
  options.processor.max_rows_per_pair_total = absl::GetFlag(FLAGS_max_rows_per_pair_total);
  options.processor.startup_attempts = absl::GetFlag(FLAGS_startup_attempts);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  for (auto [flag, value] : {std::pair{"--handshake_timeout", absl::GetFlag(FLAGS_handshake_timeout)},
                             {"--hello_timeout", absl::GetFlag(FLAGS_hello_timeout)}}) {
    if (value <= absl::ZeroDuration()) return Fail(absl::StrCat(flag, ": must be positive"));
  }
  options.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  options.agent.hello_timeout = absl::GetFlag(FLAGS_hello_timeout);
  if (absl::GetFlag(FLAGS_max_requests_per_second) < 0) {
    return Fail("--max_requests_per_second: must be 0 (no limit) or positive");
  }
  options.agent.request_budget.per_second = absl::GetFlag(FLAGS_max_requests_per_second);
  options.agent.request_budget.burst = 2 * absl::GetFlag(FLAGS_max_requests_per_second);
  options.processor.max_half_open_per_address = absl::GetFlag(FLAGS_max_half_open_per_address);
  if (absl::GetFlag(FLAGS_request_shards) < 1 || absl::GetFlag(FLAGS_request_shards) > 64) {
    return Fail("--request_shards: must be between 1 and 64");
  }
  options.shards.shards = absl::GetFlag(FLAGS_request_shards);
  options.shards.inline_batches = absl::GetFlag(FLAGS_request_inline_batches);

  // Connection hygiene (controller/accept_guard.h): every descriptor the
  // system allows, a cap below it, and accept() that survives exhaustion.
  const uint64_t descriptors = ikeless::controller::RaiseDescriptorLimit();
  ikeless::controller::AcceptGuardLimits limits;
  limits.max_connections = absl::GetFlag(FLAGS_max_connections);
  if (limits.max_connections == 0) {
    // Bounded also where systemd allows a million descriptors: each
    // connection costs memory long before that.
    limits.max_connections =
        std::min<uint64_t>(65536, descriptors > 512 ? descriptors - 256 : descriptors / 2);
  }
  limits.max_per_address = absl::GetFlag(FLAGS_max_connections_per_address);
  ikeless::controller::InstallAcceptGuard(limits);
  ikeless::LogInfo("connection_limits")
      .Kv("descriptors", descriptors)
      .Kv("max_connections", limits.max_connections)
      .Kv("max_connections_per_address", limits.max_per_address)
      .Kv("handshake_timeout_ms", absl::ToInt64Milliseconds(options.handshake_timeout))
      .Kv("hello_timeout_ms", absl::ToInt64Milliseconds(options.agent.hello_timeout));

  // Block the stop signals in every thread; this one waits for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto server = ikeless::controller::ControllerServer::Start(options);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  // Tests and scripts read the bound port from here (--listen with port 0).
  std::printf("listening on %s\n", (*server)->address().c_str());
  std::fflush(stdout);

  // The accept guard's backstop, every second (controller/accept_guard.h).
  absl::Notification stopping;
  std::thread guard_ticker([&stopping] {
    while (!stopping.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      ikeless::controller::AcceptGuardTick();
    }
  });

  int sig = 0;
  sigwait(&stop, &sig);
  stopping.Notify();
  guard_ticker.join();
  ikeless::LogInfo("controller_stopping").Kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown();
  return 0;
}
