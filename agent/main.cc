// ikeless-agent: a node's agent. Keeps one stream to the controller, holds
// the first packet of a flow that needs an SA, asks the controller, installs
// what it hands out, and rekeys before lifetimes end (FIG. 18-20).
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent_core.h"
#include "agent/config.h"
#include "agent/datapath_factory.h"
#include "agent/datapath_reporter.h"
#include "agent/enrollment.h"
#include "agent/hello_builder.h"
#include "agent/netlink_route_table.h"
#include "agent/route_sync.h"
#include "agent/spd_layout.h"
#include "agent/stream_client.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/mutex_checks.h"
#include "common/random.h"
#include "common/secret.h"

ABSL_FLAG(std::string, config, "/etc/ikeless/agent.conf", "agent configuration file (text proto)");
ABSL_FLAG(std::string, enroll, "",
          "enroll: obtain this node's certificate (tls.cert_file, tls.key_file) with a "
          "one-time token, then exit. '-' reads the token from standard input (keeps it "
          "out of the process list and shell history)");
ABSL_FLAG(absl::Duration, renew_check_interval, absl::Minutes(10),
          "how often to check whether the certificate is due for renewal (1/3 of its "
          "lifetime left)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

namespace {

constexpr char kVersion[] = "ikeless-agent/0.1";

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "ikeless-agent: %s\n", message.c_str());
  return code;
}

// Runs AgentCore::Tick at its deadlines (resends, deferred datapath work,
// old-SA removal) until stopped. `clock` must be the core's: its deadlines
// are readings of that clock's Monotonic(), and the wait is the time left
// to them, so an NTP step of the wall clock moves no wake-up.
class Ticker {
 public:
  explicit Ticker(ikeless::agent::AgentCore* core,
                  ikeless::Clock* clock = ikeless::SystemClock::Get())
      : core_(core), clock_(clock) {
    core_->SetWakeup([this] {
      absl::MutexLock l(&mu_);
      woken_ = true;
    });
    thread_ = std::thread([this] { Run(); });
  }
  ~Ticker() {
    core_->SetWakeup(nullptr);  // nothing may wake a destroyed Ticker
    {
      absl::MutexLock l(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

 private:
  void Run() {
    while (true) {
      core_->Tick();
      // A relative wait, at most 200 ms (InfiniteFuture: nothing due).
      const absl::Duration wait =
          std::clamp(core_->NextDeadline() - clock_->Monotonic(), absl::ZeroDuration(),
                     absl::Milliseconds(200));
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || woken_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
      if (stop_) return;
      woken_ = false;
    }
  }

  ikeless::agent::AgentCore* core_;
  ikeless::Clock* clock_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  ikeless::DisableMutexDeadlockDetection();  // see common/mutex_checks.h
  absl::SetProgramUsageMessage("ikeless-agent --config FILE");
  absl::ParseCommandLine(argc, argv);
  if (!ikeless::SetMinLogLevelByName(absl::GetFlag(FLAGS_log_level))) {
    return Fail(2, "--log_level: use debug, info, warning or error");
  }

  auto loaded = ikeless::agent::LoadConfigFile(absl::GetFlag(FLAGS_config));
  if (!loaded.ok()) return Fail(2, std::string(loaded.status().message()));
  const ikeless::v1::AgentConfig& config = loaded->config;
  const ikeless::TlsFiles tls_files{config.tls().ca_file(), config.tls().cert_file(),
                                    config.tls().key_file(), config.tls().server_name()};
  if (!absl::GetFlag(FLAGS_enroll).empty()) {
    if (config.insecure()) return Fail(2, "--enroll: needs tls {} in the config, not insecure");
    std::string token = absl::GetFlag(FLAGS_enroll);
    if (token == "-") {
      std::getline(std::cin, token);
      token = std::string(absl::StripAsciiWhitespace(token));
    }
    absl::Status s = ikeless::agent::EnrollNode(config.controller(), tls_files, config.node_name(),
                                                token);
    ikeless::WipeString(&token);
    if (!s.ok()) return Fail(1, std::string(s.message()));
    std::printf("enrolled: %s\n", tls_files.cert_file.c_str());
    return 0;
  }

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto datapath = ikeless::agent::MakeDatapath(config);
  if (!datapath.ok()) return Fail(1, std::string(datapath.status().message()));

  ikeless::agent::AgentCore* core_ptr = nullptr;
  ikeless::agent::StreamClient::Options stream_options;
  stream_options.target = config.controller();
  stream_options.hello.set_node_name(config.node_name());
  for (const auto& a : config.addresses()) stream_options.hello.add_addresses(a);
  stream_options.hello.set_agent_version(kVersion);
  *stream_options.hello.mutable_capabilities() = (*datapath)->capabilities();
  // At each (re)connect: what this process holds, for the controller's
  // reconciliation (agent/hello_builder.h). The stream thread calls it
  // before the first attempt only after the core exists (client.Start()).
  stream_options.build_hello = [&core_ptr](const ikeless::v1::Hello& identity) {
    // From the core's own records, not the datapath's counters: an SA whose
    // counters cannot be read just now is still in use.
    return ikeless::agent::BuildHello(identity, core_ptr->AssociationIds(),
                                      core_ptr->InFlightSetups());
  };
  ikeless::agent::StreamClient::Handler handler;
  handler.on_connected = [&core_ptr] { core_ptr->OnConnected(); };
  handler.on_message = [&core_ptr](const ikeless::v1::ControllerMessage& m) {
    core_ptr->OnControllerMessage(m);
  };
  if (config.insecure()) {
    ikeless::LogWarning("INSECURE_PLAINTEXT_TRANSPORT")
        .Kv("detail", "no TLS to the controller: keys cross the network in clear; tests only");
  } else {
    stream_options.tls = tls_files;
  }
  auto created =
      ikeless::agent::StreamClient::Create(stream_options, handler, ikeless::CryptoRandom::Get());
  if (!created.ok()) return Fail(1, std::string(created.status().message()));
  ikeless::agent::StreamClient& client = **created;

  ikeless::agent::AgentCore::Options core_options;
  core_options.setup.resend_interval = absl::Milliseconds(config.setup().resend_interval_ms());
  core_options.setup.max_attempts = static_cast<int>(config.setup().max_attempts());
  core_options.setup.successor_keys = static_cast<int>(config.setup().successor_keys());
  // The controller's own address is always bypassed (when it is one).
  core_options.controller_address = ikeless::agent::ControllerAddressOf(config.controller());
  if (!core_options.controller_address.has_value() &&
      !absl::StartsWith(config.controller(), "unix:")) {
    ikeless::LogWarning("controller_not_bypassed")
        .Kv("controller", config.controller())
        .Kv("why", "not an IP literal: make sure no pushed rule covers the controller's address");
  }
  // The engine's routes for pushed rules (kernel XFRM needs none).
  std::unique_ptr<ikeless::agent::NetlinkRouteTable> route_table;
  std::unique_ptr<ikeless::agent::RouteSync> routes;
  if (!config.has_xfrm() && config.esp().manage_routes()) {
    auto opened = ikeless::agent::NetlinkRouteTable::Open(config.esp().tun_name());
    if (!opened.ok()) return Fail(1, std::string(opened.status().message()));
    route_table = std::move(*opened);
    ikeless::agent::RoutingOptions ro;
    ro.table = config.esp().route_table();
    ro.mark = config.esp().socket_mark();
    ro.rule_priority = config.esp().route_rule_priority();
    routes = std::make_unique<ikeless::agent::RouteSync>(route_table.get(), ro);
    core_options.spd_listener = routes.get();
  }
  auto core = std::make_unique<ikeless::agent::AgentCore>(
      core_options, loaded->spd, datapath->get(), &client, ikeless::SystemClock::Get(),
      ikeless::CryptoRandom::Get());
  core_ptr = core.get();
  if (absl::Status s = core->Start(); !s.ok()) return Fail(1, std::string(s.message()));
  {
    Ticker ticker(core.get());
    client.Start();
    ikeless::LogInfo("agent_started")
        .Kv("node", config.node_name())
        .Kv("controller", config.controller())
        .Kv("datapath", (*datapath)->capabilities().datapath())
        .Kv("spd_entries", static_cast<uint64_t>(loaded->spd.size()))
        .Kv("controller_bypass", core_options.controller_address.has_value())
        .Kv("manage_routes", routes != nullptr);
    // Renews the certificate before it expires; the stream reconnects with
    // the new one and the SAs carry on.
    absl::Mutex renew_mu;
    bool stopping = false;
    std::thread renewer([&] {
      if (config.insecure()) return;
      while (true) {
        auto renewed = ikeless::agent::RenewIfDue(config.controller(), tls_files);
        if (!renewed.ok()) {
          ikeless::LogWarning("certificate_renewal_failed").Kv("error", renewed.status().message());
        } else if (renewed->has_value()) {
          client.Reconnect();
        }
        absl::MutexLock l(&renew_mu);
        if (renew_mu.AwaitWithTimeout(absl::Condition(&stopping),
                                      absl::GetFlag(FLAGS_renew_check_interval))) {
          return;
        }
      }
    });
    // Drops and SA counters to the controller and, per reason, to the log
    // (agent/datapath_reporter.h).
    std::thread reporter([&] {
      ikeless::agent::DatapathReporter decide;
      const absl::Duration every = absl::Seconds(
          config.report_interval_seconds() != 0 ? config.report_interval_seconds() : 10);
      while (true) {
        {
          absl::MutexLock l(&renew_mu);
          if (renew_mu.AwaitWithTimeout(absl::Condition(&stopping), every)) return;
        }
        auto out = decide.Next((*datapath)->Drops(), core->SaReports(), absl::Now());
        for (const auto& [reason, more] : out.new_drops) {
          ikeless::LogWarning("datapath_drops").Kv("reason", reason).Kv("new", more);
        }
        if (out.report.has_value() && !client.Send(*out.report)) decide.Undelivered();
      }
    });
    int sig = 0;
    sigwait(&stop, &sig);
    {
      absl::MutexLock l(&renew_mu);
      stopping = true;
    }
    renewer.join();
    reporter.join();
    ikeless::LogInfo("agent_stopping")
        .Kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT")
        .Kv("spd_revision", core->pushed_revision());
    client.Stop();
  }
  core.reset();
  if (routes != nullptr) {
    // The routes this agent made go before the TUN does.
    if (absl::Status s = routes->Clear(); !s.ok()) {
      ikeless::LogWarning("routes_not_removed").Kv("reason", s.message());
    }
  }
  datapath->reset();  // closes the TUN device; installed SAs go with it
  return 0;
}
