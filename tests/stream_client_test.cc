// The agent's stream client against the real controller service in one
// process: Hello/Welcome, messages both ways, and reconnection after the
// controller goes away and comes back on the same address.
#include "agent/stream_client.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "controller/controller_server.h"
#include "gtest/gtest.h"

namespace ikeless {
namespace {

std::unique_ptr<controller::ControllerServer> StartController(const std::string& listen,
                                                              const std::string& db) {
  controller::ControllerServer::Options o;
  o.listen = listen;
  o.database = db;
  auto s = controller::ControllerServer::Start(o);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

TEST(StreamClient, ReconnectsAfterControllerRestart) {
  const std::string db = absl::StrCat(std::getenv("TEST_TMPDIR"), "/stream_client.db");
  auto controller = StartController("127.0.0.1:0", db);
  ASSERT_NE(controller, nullptr);
  const std::string address = controller->address();

  std::atomic<int> connects{0};
  std::atomic<int> errors{0};
  agent::StreamClient::Options o;
  o.target = address;
  o.hello.set_node_name("gw-a");
  o.hello.add_addresses("198.18.1.1");
  o.min_backoff = absl::Milliseconds(50);
  o.max_backoff = absl::Milliseconds(400);
  agent::StreamClient::Handler h;
  h.on_connected = [&] { ++connects; };
  h.on_message = [&](const v1::ControllerMessage& m) {
    if (m.has_error()) ++errors;
  };
  auto created = agent::StreamClient::Create(o, h, CryptoRandom::Get());
  ASSERT_TRUE(created.ok()) << created.status();
  agent::StreamClient& client = **created;
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return connects == 1; }));
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(controller->registry().size(), 1u);

  // A request for an unknown pair comes back as NO_POLICY: messages flow
  // both ways through the client.
  v1::AgentMessage m;
  m.mutable_request()->set_id(1);
  m.mutable_request()->set_source("198.18.1.1");
  m.mutable_request()->set_peer("198.18.2.1");
  m.mutable_request()->set_spi(4096);
  ASSERT_TRUE(client.Send(m));
  ASSERT_TRUE(WaitFor([&] { return errors == 1; }));

  controller->Shutdown();
  controller.reset();
  ASSERT_TRUE(WaitFor([&] { return !client.connected(); }));
  EXPECT_FALSE(client.Send(m));  // nothing is queued for a stream that is gone

  controller = StartController(address, db);
  ASSERT_NE(controller, nullptr);
  ASSERT_TRUE(WaitFor([&] { return connects == 2; }));
  EXPECT_TRUE(WaitFor([&] { return controller->registry().size() == 1u; }));
  client.Stop();
  EXPECT_TRUE(WaitFor([&] { return controller->registry().size() == 0u; }));
}

}  // namespace
}  // namespace ikeless
