// The setup client, FIG. 19 (S41-S49) and FIG. 20 (S51-S60), branch by
// branch, with a fake clock and scripted randomness. Addresses follow the
// source's worked example: 2a (198.18.1.1) asks about 2b (198.18.2.1).
#ifndef IKELESS_AGENT_SETUP_CLIENT_TEST_FIXTURE_H_
#define IKELESS_AGENT_SETUP_CLIENT_TEST_FIXTURE_H_

#include "agent/setup_client.h"

#include <cstring>
#include <deque>
#include <set>

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace setup_client_fixture {

using datapath::SpdEntry;

constexpr char k2a[] = "198.18.1.1";
constexpr char k2b[] = "198.18.2.1";
constexpr char k2c[] = "198.18.3.1";

// Randomness whose next Uint64() values are scripted: Uniform(256, 2^32-1)
// then yields 256 + v for small v. Falls back to a seeded fake.
class ScriptedRandom final : public RandomSource {
 public:
  void Push(uint64_t v) { script_.push_back(v); }
  void PushSpi(uint32_t spi) { Push(spi - kMinSpi); }
  void Fill(uint8_t* out, size_t n) override {
    if (n == 8 && !script_.empty()) {
      uint64_t v = script_.front();
      script_.pop_front();
      std::memcpy(out, &v, 8);
      return;
    }
    fallback_.Fill(out, n);
  }

 private:
  std::deque<uint64_t> script_;
  FakeRandom fallback_{42};
};

inline SpdEntry Entry(uint32_t id, std::string peer, uint32_t protocol = 0, uint32_t port = 0) {
  SpdEntry e;
  e.id = id;
  e.name = "e" + std::to_string(id);
  e.local_prefix = "198.18.10.0/24";
  e.remote_prefix = "198.18.20.0/24";
  e.protocol = protocol;
  e.port = port;
  e.setup_peer = std::move(peer);
  e.local_address = k2a;
  return e;
}

inline std::vector<SpdEntry> Spd() {
  SpdEntry conventional = Entry(3, "");  // S33: no setup_peer
  SpdEntry bypass = Entry(4, k2c);
  bypass.action = SpdEntry::Action::kBypass;
  return {Entry(1, k2b), Entry(2, k2c, 6, 443), conventional, bypass};
}

inline v1::Distribution Dist(const v1::SaRequest& r, uint32_t peer_spi) {
  v1::Distribution d;
  d.set_request_id(r.id());
  d.set_source(r.source());
  d.set_peer(r.peer());
  d.set_association_id(77);
  d.mutable_inbound()->set_spi(r.spi());
  d.mutable_inbound()->set_source(r.peer());
  d.mutable_inbound()->set_destination(r.source());
  d.mutable_inbound()->set_encryption_key(std::string(16, 'k'));
  d.mutable_outbound()->set_spi(peer_spi);
  d.mutable_outbound()->set_source(r.source());
  d.mutable_outbound()->set_destination(r.peer());
  return d;
}

inline v1::SetupError Error(const v1::SaRequest& r, v1::SetupError::Code code) {
  v1::SetupError e;
  e.set_code(code);
  e.set_request_id(r.id());
  e.set_source(r.source());
  e.set_peer(r.peer());
  e.set_message("test");
  return e;
}

inline v1::RequestStartup Startup(std::string peer, std::string local = k2a, uint32_t protocol = 0,
                           uint32_t port = 0) {
  v1::RequestStartup s;
  s.set_peer(std::move(peer));
  s.set_local(std::move(local));
  s.mutable_selector()->set_protocol(protocol);
  s.mutable_selector()->set_port(port);
  return s;
}

class SetupClientTest : public ::testing::Test {
 protected:
  SetupClientTest() : client_(SetupClient::Options{}, Spd(), &clock_, &random_) {}

  // Begins a setup and returns its one request.
  v1::SaRequest BeginOne(uint32_t entry, SetupTrigger trigger = SetupTrigger::kAcquire) {
    SetupOutput out = client_.Begin(entry, trigger);
    EXPECT_EQ(out.requests.size(), 1u);
    EXPECT_TRUE(out.results.empty());
    return out.requests.empty() ? v1::SaRequest() : out.requests[0];
  }

  FakeClock clock_;
  ScriptedRandom random_;
  SetupClient client_;
};

}  // namespace setup_client_fixture
}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_SETUP_CLIENT_TEST_FIXTURE_H_
