#include "controller/session_handler.h"

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/dispatcher.h"
#include "controller/event_hub.h"
#include "controller/fake_agent_session.h"
#include "controller/request_sink.h"
#include "controller/session_registry.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::controller {
namespace {

constexpr char kA[] = "198.18.1.1";
constexpr char kA6[] = "fd00::13:1";

// A RequestSink that records what it was given.
class RecordingSink final : public RequestSink {
 public:
  struct Entry {
    v1::SaRequest request;
    std::shared_ptr<AgentSession> from;
  };
  void Submit(v1::SaRequest request, std::shared_ptr<AgentSession> from) override {
    submitted.push_back({std::move(request), std::move(from)});
  }
  std::vector<Entry> submitted;
};

// One stream: the fake transport and the handler attached to it.
struct Stream {
  std::shared_ptr<FakeAgentSession> session;
  std::unique_ptr<AgentSessionHandler> handler;
};

v1::AgentMessage HelloMessage(const std::string& node, const std::vector<std::string>& addresses) {
  v1::AgentMessage m;
  m.mutable_hello()->set_node_name(node);
  for (const auto& a : addresses) m.mutable_hello()->add_addresses(a);
  m.mutable_hello()->set_agent_version("agent/9");
  m.mutable_hello()->mutable_capabilities()->set_datapath("xfrm");
  return m;
}

v1::AgentMessage RequestMessage(const std::string& source, uint64_t id = 42) {
  v1::AgentMessage m;
  m.mutable_request()->set_id(id);
  m.mutable_request()->set_source(source);
  m.mutable_request()->set_peer("198.18.2.1");
  m.mutable_request()->set_spi(0x1000);
  return m;
}

class SessionHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.controller_version = "ikeless-controller/test";
    Reset();
  }

  // A fresh shared state with options_ (budgets, pending Hellos).
  void Reset() {
    AgentSessionHandler::Deps d;
    d.registry = &registry_;
    d.dispatcher = &dispatcher_;
    d.events = &events_;
    d.agents = &store_;
    d.requests = &sink_;
    d.clock = &clock_;
    shared_ = std::make_unique<AgentSessionHandler::Shared>(options_, d);
  }

  // The fake reports the identity the Hello will give (the gRPC reactor
  // reports its handler's); Open must admit the caller.
  Stream Open(const std::string& node, std::vector<std::string> addresses,
              absl::StatusOr<Caller> caller = Caller()) {
    Stream s{std::make_shared<FakeAgentSession>(node, std::move(addresses)),
             std::make_unique<AgentSessionHandler>(shared_.get(), "ipv4:127.0.0.1:4000",
                                                   std::move(caller))};
    s.handler->Open(s.session);
    return s;
  }

  // Opened and said Hello for its own name and addresses.
  Stream Connected(const std::string& node, std::vector<std::string> addresses) {
    Stream s = Open(node, addresses);
    EXPECT_TRUE(s.handler->Handle(HelloMessage(node, addresses)));
    EXPECT_FALSE(s.session->closed()) << s.session->close_status;
    return s;
  }

  static void ExpectClosed(const Stream& s, absl::StatusCode code, const std::string& message) {
    EXPECT_TRUE(s.session->closed());
    EXPECT_EQ(s.session->close_status.code(), code) << s.session->close_status;
    EXPECT_EQ(s.session->close_status.message(), message);
  }

  AgentSessionHandler::Options options_;
  FakeClock clock_;
  SessionRegistry registry_;
  EventHub events_;
  std::shared_ptr<EventHub::Subscription> watcher_ = events_.Subscribe();
  Dispatcher dispatcher_{&registry_, &events_, &clock_, Dispatcher::Options()};
  storage::MemoryStore store_;
  RecordingSink sink_;
  std::unique_ptr<AgentSessionHandler::Shared> shared_;
};

TEST_F(SessionHandlerTest, EveryOtherMessageNeedsHelloFirst) {
  const std::vector<std::pair<v1::AgentMessage, std::string>> cases = [] {
    std::vector<std::pair<v1::AgentMessage, std::string>> c;
    c.emplace_back(RequestMessage(kA), "send Hello before any SaRequest");
    v1::AgentMessage m;
    m.mutable_sa_event()->set_kind(v1::SaEvent::INSTALLED);
    c.emplace_back(m, "send Hello before any SaEvent");
    m.Clear();
    m.mutable_spd_ack();
    c.emplace_back(m, "send Hello before any SpdAck");
    m.Clear();
    m.mutable_report();
    c.emplace_back(m, "send Hello before any DatapathReport");
    return c;
  }();
  for (const auto& [message, text] : cases) {
    Stream s = Open("gw-a", {kA});
    EXPECT_FALSE(s.handler->Handle(message)) << text;
    ExpectClosed(s, absl::StatusCode::kFailedPrecondition, text);
    EXPECT_TRUE(s.session->sent.empty());
  }
  EXPECT_TRUE(sink_.submitted.empty());
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(SessionHandlerTest, HelloRegistersRecordsAndWelcomes) {
  Stream s = Open("gw-a", {kA, kA6});
  v1::AgentMessage hello = HelloMessage("gw-a", {kA, "FD00:0::13:1", kA});
  hello.mutable_hello()->mutable_capabilities()->set_drops_early_esp(true);
  ASSERT_TRUE(s.handler->Handle(hello));
  EXPECT_FALSE(s.session->closed());

  // Canonical and de-duplicated, everywhere.
  const std::vector<std::string> canonical = {kA, kA6};
  EXPECT_EQ(s.handler->node_name(), "gw-a");
  EXPECT_EQ(s.handler->addresses(), canonical);
  EXPECT_TRUE(s.handler->drops_early_esp());
  ASSERT_EQ(s.session->sent.size(), 1u);
  const v1::Welcome& w = s.session->sent[0].welcome();
  EXPECT_EQ(w.controller_version(), "ikeless-controller/test");
  EXPECT_EQ(w.node_name(), "gw-a");
  EXPECT_EQ(std::vector<std::string>(w.addresses().begin(), w.addresses().end()), canonical);
  EXPECT_EQ(registry_.FindByNode("gw-a"), s.session);
  EXPECT_EQ(registry_.FindByAddress(kA6), s.session);

  auto events = watcher_->Next(absl::ZeroDuration());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::Event::AGENT_CONNECTED);
  EXPECT_EQ(events[0].subject(), "gw-a");
  EXPECT_EQ(events[0].detail(), "198.18.1.1,fd00::13:1");
  EXPECT_EQ(events[0].time_unix_micros(), absl::ToUnixMicros(clock_.Now()));
  auto agents = store_.ListAgents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ((*agents)[0].node_name, "gw-a");
  EXPECT_EQ((*agents)[0].addresses, canonical);
  EXPECT_EQ((*agents)[0].agent_version, "agent/9");
  EXPECT_EQ((*agents)[0].datapath, "xfrm");
  EXPECT_EQ((*agents)[0].last_seen, clock_.Now());

  // The stream ends: unregistered, event, record's last_seen moves.
  clock_.Advance(absl::Seconds(30));
  s.handler->OnClosed();
  EXPECT_EQ(registry_.size(), 0u);
  events = watcher_->Next(absl::ZeroDuration());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::Event::AGENT_DISCONNECTED);
  EXPECT_EQ(events[0].subject(), "gw-a");
  EXPECT_EQ(events[0].time_unix_micros(), absl::ToUnixMicros(clock_.Now()));
  agents = store_.ListAgents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 1u);
  EXPECT_EQ((*agents)[0].last_seen, clock_.Now());
  EXPECT_EQ((*agents)[0].addresses, canonical);
}

TEST_F(SessionHandlerTest, SecondHelloOnOneStreamIsRefused) {
  Stream s = Connected("gw-a", {kA});
  EXPECT_FALSE(s.handler->Handle(HelloMessage("gw-a", {kA})));
  ExpectClosed(s, absl::StatusCode::kFailedPrecondition, "Hello may be sent only once per stream");
  EXPECT_EQ(s.session->sent.size(), 1u);  // the first Welcome only
}

TEST_F(SessionHandlerTest, MalformedHelloNamesTheField) {
  struct Case {
    v1::AgentMessage hello;
    std::string prefix;
  };
  std::vector<Case> cases;
  cases.push_back({HelloMessage("gw a", {kA}), "hello.node_name: "});
  cases.push_back({HelloMessage("", {kA}), "hello.node_name: must not be empty"});
  cases.push_back({HelloMessage("gw-a", {}), "hello.addresses: name at least one address"});
  cases.push_back({HelloMessage("gw-a", {kA, "198.18.1.999"}), "hello.addresses[1]: "});
  cases.push_back({HelloMessage("gw-a", std::vector<std::string>(65, kA)),
                   "hello.addresses: at most 64 addresses"});
  for (const Case& c : cases) {
    Stream s = Open("gw-a", {kA});
    EXPECT_FALSE(s.handler->Handle(c.hello)) << c.prefix;
    EXPECT_TRUE(s.session->closed());
    EXPECT_EQ(s.session->close_status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.session->close_status.message().substr(0, c.prefix.size()), c.prefix)
        << s.session->close_status;
    EXPECT_TRUE(s.session->sent.empty());
  }
  EXPECT_EQ(registry_.size(), 0u);
  auto agents = store_.ListAgents();
  ASSERT_TRUE(agents.ok());
  EXPECT_TRUE(agents->empty());
}

TEST_F(SessionHandlerTest, HelloMustMatchTheClientCertificate) {
  Caller cert;
  cert.kind = Caller::Kind::kNode;
  cert.name = "gw-a";
  cert.addresses = {kA};
  {
    Stream s = Open("gw-b", {kA}, cert);
    EXPECT_FALSE(s.handler->Handle(HelloMessage("gw-b", {kA})));
    ExpectClosed(s, absl::StatusCode::kPermissionDenied,
                 "hello.node_name: 'gw-b' but the certificate is for node 'gw-a'");
  }
  {
    Stream s = Open("gw-a", {kA, "198.18.9.9"}, cert);
    EXPECT_FALSE(s.handler->Handle(HelloMessage("gw-a", {kA, "198.18.9.9"})));
    ExpectClosed(s, absl::StatusCode::kPermissionDenied,
                 "hello.addresses[1]: 198.18.9.9 is not in the certificate of node 'gw-a'");
  }
  EXPECT_EQ(registry_.size(), 0u);
  Stream s = Open("gw-a", {kA}, cert);
  EXPECT_TRUE(s.handler->Handle(HelloMessage("gw-a", {kA})));
  EXPECT_FALSE(s.session->closed());
  EXPECT_EQ(s.handler->caller().name, "gw-a");
  EXPECT_EQ(registry_.FindByNode("gw-a"), s.session);
}

TEST_F(SessionHandlerTest, CallerWithoutStandingIsRefusedAtOpen) {
  Stream unreadable = Open("gw-a", {kA}, absl::UnauthenticatedError("no client certificate"));
  ExpectClosed(unreadable, absl::StatusCode::kUnauthenticated, "no client certificate");
  EXPECT_EQ(unreadable.handler->caller().kind, Caller::Kind::kAnonymous);

  Caller expired;
  expired.kind = Caller::Kind::kNode;
  expired.name = "gw-a";
  expired.addresses = {kA};
  expired.not_after = absl::Now() - absl::Hours(1);
  auto s = std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{kA});
  AgentSessionHandler h(shared_.get(), "peer", expired);
  EXPECT_FALSE(h.Open(s));
  EXPECT_EQ(s->close_status.code(), absl::StatusCode::kUnauthenticated);
  // Refused streams do not wait for a Hello.
  clock_.Advance(options_.hello_timeout + absl::Seconds(1));
  EXPECT_EQ(shared_->CloseStreamsWithoutHello(), 0);
}

TEST_F(SessionHandlerTest, NewerStreamOfTheNodeReplacesTheOlder) {
  Stream old_stream = Connected("gw-a", {kA});
  Stream new_stream = Connected("gw-a", {kA});
  ExpectClosed(old_stream, absl::StatusCode::kAborted,
               "replaced by a newer stream of the same node");
  EXPECT_FALSE(new_stream.session->closed());
  EXPECT_EQ(registry_.FindByAddress(kA), new_stream.session);
  (void)watcher_->Next(absl::ZeroDuration());
  // The old stream's end neither unregisters the new one nor says the node
  // left.
  old_stream.handler->OnClosed();
  EXPECT_EQ(registry_.FindByNode("gw-a"), new_stream.session);
  EXPECT_TRUE(watcher_->Next(absl::ZeroDuration()).empty());
}

TEST_F(SessionHandlerTest, AddressOfAnotherConnectedNodeIsRefused) {
  Stream a = Connected("gw-a", {kA});
  Stream b = Open("gw-b", {kA});
  EXPECT_FALSE(b.handler->Handle(HelloMessage("gw-b", {kA})));
  ExpectClosed(b, absl::StatusCode::kPermissionDenied,
               "address 198.18.1.1 is registered by connected node 'gw-a'");
  EXPECT_EQ(registry_.FindByAddress(kA), a.session);
  EXPECT_FALSE(b.handler->hello_done());
}

TEST_F(SessionHandlerTest, UnparsableSourceIsAnsweredOnTheStream) {
  Stream s = Connected("gw-a", {kA});
  EXPECT_TRUE(s.handler->Handle(RequestMessage("not-an-address", 7)));
  EXPECT_FALSE(s.session->closed());
  EXPECT_TRUE(sink_.submitted.empty());
  ASSERT_EQ(s.session->sent.size(), 2u);
  const v1::SetupError& e = s.session->sent[1].error();
  EXPECT_EQ(e.code(), v1::SetupError::INVALID_ARGUMENT);
  EXPECT_EQ(e.request_id(), 7u);
  EXPECT_EQ(e.message().rfind("request.source: ", 0), 0u) << e.message();
}

TEST_F(SessionHandlerTest, SourceNotOwnedIsPermissionDenied) {
  Stream s = Connected("gw-a", {kA});
  EXPECT_TRUE(s.handler->Handle(RequestMessage("198.18.2.1")));
  EXPECT_TRUE(sink_.submitted.empty());
  ASSERT_EQ(s.session->sent.size(), 2u);
  const v1::SetupError& e = s.session->sent[1].error();
  EXPECT_EQ(e.code(), v1::SetupError::PERMISSION_DENIED);
  EXPECT_EQ(e.message(), "request.source: 198.18.2.1 is not an address of node 'gw-a'");
}

TEST_F(SessionHandlerTest, AdmittedRequestGoesToTheSinkInCanonicalForm) {
  Stream s = Connected("gw-a", {kA, kA6});
  EXPECT_TRUE(s.handler->Handle(RequestMessage("FD00:0::13:1", 9)));
  ASSERT_EQ(sink_.submitted.size(), 1u);
  EXPECT_EQ(sink_.submitted[0].request.source(), kA6);
  EXPECT_EQ(sink_.submitted[0].request.id(), 9u);
  EXPECT_EQ(sink_.submitted[0].request.peer(), "198.18.2.1");
  EXPECT_EQ(sink_.submitted[0].request.spi(), 0x1000u);
  EXPECT_EQ(sink_.submitted[0].from, s.session);
  EXPECT_EQ(s.session->sent.size(), 1u);  // the Welcome; replies are the sink's
}

TEST_F(SessionHandlerTest, RequestBudgetIsPerNodeAndRefillsOnTheClock) {
  options_.request_budget.per_second = 1;
  options_.request_budget.burst = 2;
  Reset();
  Stream s = Connected("gw-a", {kA});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.handler->Handle(RequestMessage(kA, 100 + i)));
  EXPECT_EQ(sink_.submitted.size(), 2u);
  ASSERT_EQ(s.session->sent.size(), 2u);
  const v1::SetupError& e = s.session->sent[1].error();
  EXPECT_EQ(e.code(), v1::SetupError::RESOURCE_EXHAUSTED);
  EXPECT_EQ(e.request_id(), 102u);
  EXPECT_EQ(e.message(), "more than 1 requests a second from node 'gw-a'; retry later");
  // Even a malformed request costs.
  EXPECT_TRUE(s.handler->Handle(RequestMessage("junk")));
  EXPECT_EQ(s.session->sent.back().error().code(), v1::SetupError::RESOURCE_EXHAUSTED);

  // A new stream of the node keeps the empty budget.
  Stream again = Connected("gw-a", {kA});
  EXPECT_TRUE(again.handler->Handle(RequestMessage(kA, 200)));
  EXPECT_EQ(sink_.submitted.size(), 2u);
  EXPECT_EQ(again.session->sent.back().error().code(), v1::SetupError::RESOURCE_EXHAUSTED);
  // Another node has its own.
  Stream b = Connected("gw-b", {"198.18.2.1"});
  EXPECT_TRUE(b.handler->Handle(RequestMessage("198.18.2.1", 300)));
  EXPECT_EQ(sink_.submitted.size(), 3u);
  // One second refills one token.
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(again.handler->Handle(RequestMessage(kA, 201)));
  ASSERT_EQ(sink_.submitted.size(), 4u);
  EXPECT_EQ(sink_.submitted[3].request.id(), 201u);
}

TEST_F(SessionHandlerTest, StreamsWithoutHelloCloseAfterTheTimeout) {
  options_.hello_timeout = absl::Seconds(10);
  Reset();
  Stream silent = Open("gw-a", {kA});
  Stream greeted = Open("gw-b", {"198.18.2.1"});
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(greeted.handler->Handle(HelloMessage("gw-b", {"198.18.2.1"})));
  Stream late = Open("gw-c", {"198.18.3.1"});  // opened 5 s after the others
  Stream gone = Open("gw-d", {"198.18.4.1"});
  gone.handler->OnClosed();
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(shared_->CloseStreamsWithoutHello(), 0);
  EXPECT_FALSE(silent.session->closed());
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(shared_->CloseStreamsWithoutHello(), 1);
  ExpectClosed(silent, absl::StatusCode::kDeadlineExceeded, "no Hello within 10s");
  EXPECT_FALSE(greeted.session->closed());
  EXPECT_FALSE(late.session->closed());
  EXPECT_EQ(shared_->CloseStreamsWithoutHello(), 0);  // closed once
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(shared_->CloseStreamsWithoutHello(), 1);
  EXPECT_TRUE(late.session->closed());
  EXPECT_FALSE(gone.session->closed());
}

TEST_F(SessionHandlerTest, InstalledEventReleasesTheHeldDistribution) {
  // gw-a's Distribution waits for gw-b (whose datapath drops early ESP) to
  // report INSTALLED (dispatcher.h, S11).
  auto a = std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{kA});
  ASSERT_TRUE(registry_.Register(a).ok());
  Stream b = Connected("gw-b", {"198.18.2.1"});
  b.session->drops_early = true;
  ProcessorOutput out;
  v1::ControllerMessage m;
  m.mutable_distribution()->set_association_id(7);
  out.messages.emplace_back(kA, m);
  out.messages.back().after_installed_at = "198.18.2.1";
  out.messages.emplace_back("198.18.2.1", m);
  EXPECT_EQ(dispatcher_.Deliver(out), 1);
  EXPECT_TRUE(a->sent.empty());
  v1::AgentMessage installed;
  installed.mutable_sa_event()->set_kind(v1::SaEvent::INSTALLED);
  installed.mutable_sa_event()->set_association_id(7);
  EXPECT_TRUE(b.handler->Handle(installed));
  ASSERT_EQ(a->sent.size(), 1u);
  EXPECT_EQ(a->sent[0].distribution().association_id(), 7u);
}

}  // namespace
}  // namespace ikeless::controller
