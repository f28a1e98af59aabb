#ifndef IKELESS_CONTROLLER_CONTROLLER_SERVER_H_
#define IKELESS_CONTROLLER_CONTROLLER_SERVER_H_

// The whole controller in one object: the store (opened by URL), request
// processor, session registry, timers, and the gRPC server with
// AgentService, PolicyService, health checking and reflection. The binary
// (main.cc) and the in-process tests both start it this way.

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/tls_credentials.h"
#include "controller/agent_service.h"
#include "controller/association_reconciler.h"
#include "controller/dispatcher.h"
#include "controller/enrollment_service.h"
#include "controller/enrollment_tokens.h"
#include "controller/event_hub.h"
#include "controller/intent_service.h"
#include "controller/policy_service.h"
#include "controller/request_processor.h"
#include "controller/request_shards.h"
#include "controller/revocation_list.h"
#include "controller/session_registry.h"
#include "grpcpp/server.h"
#include "storage/key_sealer.h"
#include "storage/store_factory.h"

namespace ikeless::controller {

class ControllerServer {
 public:
  struct Options {
    // host:port (port 0 picks a free one) or unix:PATH; several separated
    // by commas.
    std::string listen = "127.0.0.1:50051";
    // Where the state lives (storage/store_url.h): sqlite:///ABS/PATH.db,
    // sqlite:REL/PATH.db or sqlite::memory:. Empty: `database`.
    std::string store_url;
    // Shorthand for store_url = sqlite:DATABASE: a SQLite file, or
    // ":memory:". Set one of the two, not both.
    std::string database;
    // Passed to the backend the URL names (the sealer is set from kek_file).
    storage::StoreOptions store = DefaultStoreOptions();
    // Mutual TLS on every listening address; nullopt = plain text (the
    // binary allows that only with --insecure).
    std::optional<TlsFiles> tls;
    // Key-encryption key for SA keys at rest (created 0600 if missing);
    // empty = keys stored unsealed (in-memory test databases only).
    std::string kek_file;
    // Certificate serials to refuse (controller/revocation_list.h); re-read
    // every second. Empty: none.
    std::string revocation_file;
    // A CA directory (ikeless-ca init) whose key the controller may use to
    // enroll nodes with one-time tokens and renew their certificates.
    // Empty: no enrollment (certificates come from ikeless-ca offline).
    std::string ca_dir;
    RequestProcessor::Options processor;
    RequestShards::Options shards;
    AgentServiceImpl::Options agent;
    // Larger messages: RESOURCE_EXHAUSTED. 1 MiB holds a fleet file of about
    // 15,000 nodes (plan/apply send the whole intent in one message).
    int max_message_bytes = 1024 * 1024;
    // A connection that has not finished its TLS (and HTTP/2) handshake by
    // then is closed; one with no call in progress for idle_timeout too.
    // Both keep a flood of silent connections from holding descriptors.
    absl::Duration handshake_timeout = absl::Seconds(10);
    absl::Duration idle_timeout = absl::Seconds(60);
    // Longest sleep of the timer loop; deadlines are usually met sooner.
    absl::Duration max_timer_sleep = absl::Milliseconds(100);
  };

  // WAL with synchronous=NORMAL: a commit survives kill -9; after power
  // loss the newest rows may be gone, which agents repair by retransmitting
  // (S43 -> S5) or rekeying. docs/DECISIONS.md has the measurements.
  static storage::StoreOptions DefaultStoreOptions() {
    storage::StoreOptions o;
    o.sqlite.sync_every_commit = false;
    return o;
  }

  static absl::StatusOr<std::unique_ptr<ControllerServer>> Start(Options options);
  ~ControllerServer();

  int port() const { return port_; }
  std::string address() const;
  // Stops accepting, ends streams (agents reconnect elsewhere or later),
  // stops the timer. Idempotent.
  void Shutdown();

  SessionRegistry& registry() { return registry_; }
  storage::ControllerStore& store() { return *store_; }

 private:
  explicit ControllerServer(Options options) : options_(std::move(options)) {}
  void TimerLoop();
  // Re-reads the revocation list; closes the sessions it now refuses.
  void CheckRevocations();

  Options options_;
  std::unique_ptr<storage::KeySealer> sealer_;  // outlives store_
  std::unique_ptr<storage::ControllerStore> store_;
  SessionRegistry registry_;
  EventHub events_;
  std::unique_ptr<RevocationList> revocations_;
  std::optional<pki::CertificateAuthority> ca_;
  std::unique_ptr<EnrollmentTokens> tokens_;
  std::unique_ptr<EnrollmentServiceImpl> enrollment_service_;
  std::unique_ptr<RequestProcessor> processor_;
  std::unique_ptr<Dispatcher> dispatcher_;
  // Admitted SaRequests, decided in batches per pair shard; stopped after
  // the server, before the dispatcher and registry it delivers through.
  std::unique_ptr<RequestShards> request_shards_;
  std::unique_ptr<IntentService> intent_;
  std::unique_ptr<AssociationReconciler> reconciler_;
  std::unique_ptr<AgentServiceImpl> agent_service_;
  std::unique_ptr<PolicyServiceImpl> policy_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string primary_listen_;
  std::thread timer_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_CONTROLLER_SERVER_H_
