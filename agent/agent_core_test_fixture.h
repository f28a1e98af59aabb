// The agent core with a fake datapath and a fake controller link: FIG. 18's
// hand-offs (S35 acquire, S36 release, S37 drop), FIG. 19/20 as seen from
// the datapath, installation order, rekey (FIG. 27) and SA retirement.
#ifndef IKELESS_AGENT_AGENT_CORE_TEST_FIXTURE_H_
#define IKELESS_AGENT_AGENT_CORE_TEST_FIXTURE_H_

#include "agent/agent_core.h"

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "agent/fake_controller_link.h"
#include "agent/fake_datapath.h"
#include "gtest/gtest.h"

namespace ikeless::agent {
namespace testing_fixture {

using datapath::DatapathEvent;
using datapath::Direction;
using datapath::SaKey;
using datapath::SpdEntry;

constexpr char k2a[] = "198.18.1.1";  // this node
constexpr char k2b[] = "198.18.2.1";
constexpr char k2c[] = "198.18.3.1";

inline SpdEntry Entry(uint32_t id, std::string peer) {
  SpdEntry e;
  e.id = id;
  e.name = "e" + std::to_string(id);
  e.local_prefix = "198.18.10.0/24";
  e.remote_prefix = "198.18." + std::to_string(20 + id) + ".0/24";
  e.setup_peer = std::move(peer);
  e.local_address = k2a;
  return e;
}

inline std::vector<SpdEntry> Spd() { return {Entry(1, k2b), Entry(2, k2c)}; }

// The controller's answer to `r`: our inbound on r.spi, outbound on the
// peer's `peer_spi`; lifetime 3600 s hard, `soft` s soft.
inline v1::Distribution Dist(const v1::SaRequest& r, uint32_t peer_spi, uint64_t soft = 3240) {
  v1::Distribution d;
  d.set_request_id(r.id());
  d.set_source(r.source());
  d.set_peer(r.peer());
  d.set_association_id(r.id() + 500);
  for (auto [sa, spi, src, dst] :
       {std::tuple{d.mutable_inbound(), r.spi(), r.peer(), r.source()},
        std::tuple{d.mutable_outbound(), peer_spi, r.source(), r.peer()}}) {
    sa->set_spi(spi);
    sa->set_source(src);
    sa->set_destination(dst);
    sa->set_encryption(v1::ENCRYPTION_AES_GCM_16);
    sa->set_encryption_key(std::string(16, 'k'));
    sa->mutable_lifetime()->set_hard_seconds(3600);
    sa->mutable_lifetime()->set_soft_seconds(soft);
  }
  return d;
}

inline DatapathEvent Event(DatapathEvent::Kind kind, uint32_t entry,
                    Direction direction = Direction::kOutbound, SaKey sa = {}) {
  DatapathEvent e;
  e.kind = kind;
  e.spd_entry = entry;
  e.direction = direction;
  e.sa = std::move(sa);
  return e;
}

class AgentCoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart({}); }

  void Restart(AgentCore::Options options, std::vector<SpdEntry> spd = Spd()) {
    core_.reset();
    core_ = std::make_unique<AgentCore>(options, std::move(spd), &dp_, &link_, &clock_, &random_);
    ASSERT_TRUE(core_->Start().ok());
    dp_.ClearCalls();
  }

  void Acquire(uint32_t entry) { dp_.Raise(Event(DatapathEvent::Kind::kAcquire, entry)); }
  void SoftExpire(uint32_t entry, Direction d, SaKey sa) {
    dp_.Raise(Event(DatapathEvent::Kind::kSoftExpire, entry, d, std::move(sa)));
  }
  void HardExpire(uint32_t entry, Direction d, SaKey sa) {
    dp_.Raise(Event(DatapathEvent::Kind::kHardExpire, entry, d, std::move(sa)));
  }
  void Deliver(const v1::Distribution& d) {
    v1::ControllerMessage m;
    *m.mutable_distribution() = d;
    core_->OnControllerMessage(m);
  }
  void DeliverError(const v1::SaRequest& r, v1::SetupError::Code code) {
    v1::ControllerMessage m;
    m.mutable_error()->set_code(code);
    m.mutable_error()->set_request_id(r.id());
    m.mutable_error()->set_source(r.source());
    m.mutable_error()->set_peer(r.peer());
    core_->OnControllerMessage(m);
  }
  void DeliverStartup(std::string peer, std::string local = k2a) {
    v1::ControllerMessage m;
    m.mutable_startup()->set_peer(std::move(peer));
    m.mutable_startup()->set_local(std::move(local));
    core_->OnControllerMessage(m);
  }
  v1::SaRequest LastRequest() {
    std::vector<v1::SaRequest> r = link_.requests();
    EXPECT_FALSE(r.empty());
    return r.empty() ? v1::SaRequest() : r.back();
  }
  // S35 -> S46 for `entry`; returns the request that was answered.
  v1::SaRequest Establish(uint32_t entry, uint32_t peer_spi) {
    Acquire(entry);
    v1::SaRequest r = LastRequest();
    Deliver(Dist(r, peer_spi));
    return r;
  }
  std::string In(uint32_t entry, uint32_t spi) {
    return "install in entry=" + std::to_string(entry) + " spi=" + std::to_string(spi);
  }
  std::string Out(uint32_t entry, uint32_t spi) {
    return "install out entry=" + std::to_string(entry) + " spi=" + std::to_string(spi);
  }

  FakeDatapath dp_;
  FakeControllerLink link_;
  FakeClock clock_;
  FakeRandom random_{5};
  std::unique_ptr<AgentCore> core_;
};

using Strings = std::vector<std::string>;

}  // namespace testing_fixture
}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_AGENT_CORE_TEST_FIXTURE_H_
