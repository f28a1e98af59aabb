#include "controller/session_registry.h"

#include "common/clock.h"
#include "controller/dispatcher.h"
#include "controller/fake_agent_session.h"
#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

TEST(SessionRegistry, RoutesByAddressAndNode) {
  SessionRegistry r;
  auto a = std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{"198.18.1.1", "fd00::1"});
  ASSERT_TRUE(r.Register(a).ok());
  EXPECT_EQ(r.FindByAddress("fd00::1"), a);
  EXPECT_EQ(r.FindByNode("gw-a"), a);
  EXPECT_EQ(r.FindByAddress("198.18.9.9"), nullptr);
  EXPECT_EQ(r.size(), 1u);
}

TEST(SessionRegistry, NewerStreamOfSameNodeReplacesOlder) {
  SessionRegistry r;
  auto old_s = std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{"198.18.1.1", "198.18.1.2"});
  auto new_s = std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{"198.18.1.1"});
  ASSERT_TRUE(r.Register(old_s).ok());
  auto replaced = r.Register(new_s);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(*replaced, old_s);
  EXPECT_EQ(r.FindByAddress("198.18.1.1"), new_s);
  // The address the new Hello dropped is no longer routed anywhere.
  EXPECT_EQ(r.FindByAddress("198.18.1.2"), nullptr);
  // The old stream's OnDone must not unregister the new one.
  EXPECT_FALSE(r.Unregister(old_s.get()));
  EXPECT_EQ(r.FindByNode("gw-a"), new_s);
  EXPECT_TRUE(r.Unregister(new_s.get()));
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.FindByAddress("198.18.1.1"), nullptr);
}

TEST(SessionRegistry, AddressOfAnotherConnectedNodeIsRefused) {
  SessionRegistry r;
  auto a = std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{"198.18.1.1"});
  auto b = std::make_shared<FakeAgentSession>("gw-b", std::vector<std::string>{"198.18.2.1", "198.18.1.1"});
  ASSERT_TRUE(r.Register(a).ok());
  auto s = r.Register(b);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.status().message().find("gw-a"), std::string::npos);
  // Nothing of b was registered.
  EXPECT_EQ(r.FindByAddress("198.18.2.1"), nullptr);
  EXPECT_EQ(r.FindByAddress("198.18.1.1"), a);
}

TEST(Dispatcher, DeliversToOwnerAndPublishesEvents) {
  SessionRegistry r;
  EventHub hub;
  auto sub = hub.Subscribe();
  auto a = std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{"198.18.1.1"});
  ASSERT_TRUE(r.Register(a).ok());
  Dispatcher d(&r, &hub);
  ProcessorOutput out;
  v1::ControllerMessage m;
  m.mutable_startup()->set_peer("198.18.2.1");
  out.messages.emplace_back("198.18.1.1", m);
  out.messages.emplace_back("198.18.3.3", m);  // nobody owns it
  v1::Event e;
  e.set_kind(v1::Event::STARTUP_SENT);
  out.events.push_back(e);
  EXPECT_EQ(d.Deliver(out), 1);
  ASSERT_EQ(a->sent.size(), 1u);
  EXPECT_EQ(a->sent[0].startup().peer(), "198.18.2.1");
  auto events = sub->Next(absl::ZeroDuration());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::Event::STARTUP_SENT);
}

// S11 with a peer whose datapath drops early ESP (kernel XFRM): the
// opener's Distribution waits for the peer's INSTALLED.
class DispatcherOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.Register(a_).ok());
    ASSERT_TRUE(registry_.Register(b_).ok());
  }
  ProcessorOutput Pair() {
    ProcessorOutput out;
    v1::ControllerMessage m;
    m.mutable_distribution()->set_association_id(7);
    m.mutable_distribution()->mutable_outbound()->set_encryption_key("key-for-a");
    out.messages.emplace_back("198.18.1.1", m);
    out.messages.back().after_installed_at = "198.18.2.1";
    out.messages.emplace_back("198.18.2.1", m);
    return out;
  }
  SessionRegistry registry_;
  EventHub hub_;
  FakeClock clock_;
  std::shared_ptr<FakeAgentSession> a_ =
      std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{"198.18.1.1"});
  std::shared_ptr<FakeAgentSession> b_ =
      std::make_shared<FakeAgentSession>("gw-b", std::vector<std::string>{"198.18.2.1"});
  Dispatcher d_{&registry_, &hub_, &clock_, Dispatcher::Options{absl::Seconds(1)}};
};

TEST_F(DispatcherOrderTest, EnginePeerGetsBothAtOnce) {
  EXPECT_EQ(d_.Deliver(Pair()), 2);
  EXPECT_EQ(a_->sent.size(), 1u);
  EXPECT_EQ(d_.waiting(), 0u);
}

TEST_F(DispatcherOrderTest, XfrmPeerInstallsFirst) {
  b_->drops_early = true;
  EXPECT_EQ(d_.Deliver(Pair()), 1);
  EXPECT_EQ(b_->sent.size(), 1u);
  EXPECT_TRUE(a_->sent.empty());
  d_.OnInstalled({"198.18.1.1"}, 7);  // not the peer it waits for
  d_.OnInstalled({"198.18.2.1"}, 8);  // another association
  EXPECT_TRUE(a_->sent.empty());
  d_.OnInstalled({"198.18.2.1"}, 7);
  ASSERT_EQ(a_->sent.size(), 1u);
  EXPECT_EQ(a_->sent[0].distribution().outbound().encryption_key(), "key-for-a");
  EXPECT_EQ(d_.waiting(), 0u);
}

TEST_F(DispatcherOrderTest, ResendWhileWaitingIsNotSentEarly) {
  b_->drops_early = true;
  d_.Deliver(Pair());
  ProcessorOutput resend;  // S4 -> S5: the opener retransmitted its request
  resend.messages.push_back(Pair().messages[0]);
  resend.messages.back().after_installed_at.clear();
  EXPECT_EQ(d_.Deliver(resend), 0);
  EXPECT_TRUE(a_->sent.empty());
  d_.OnInstalled({"198.18.2.1"}, 7);
  EXPECT_EQ(a_->sent.size(), 1u) << "once, when the peer has installed";
}

TEST_F(DispatcherOrderTest, SilentPeerDoesNotBlockForever) {
  b_->drops_early = true;
  d_.Deliver(Pair());
  clock_.Advance(absl::Milliseconds(999));
  d_.ReleaseOverdue();
  EXPECT_TRUE(a_->sent.empty());
  clock_.Advance(absl::Milliseconds(1));
  d_.ReleaseOverdue();
  EXPECT_EQ(a_->sent.size(), 1u);
}

// Issue #12 point 4: install_wait is an interval of this process. An NTP
// step, either way, neither sends the held Distribution before the peer
// installed (keys on the wire before the kernel peer can take them) nor
// holds it past its second.
TEST_F(DispatcherOrderTest, NtpStepFiresNoInstallWaitFallback) {
  b_->drops_early = true;
  d_.Deliver(Pair());
  clock_.StepWall(absl::Hours(2));
  d_.ReleaseOverdue();
  EXPECT_TRUE(a_->sent.empty()) << "sent early after a step forward";
  clock_.StepWall(-absl::Hours(4));
  clock_.Advance(absl::Milliseconds(999));
  d_.ReleaseOverdue();
  EXPECT_TRUE(a_->sent.empty());
  clock_.Advance(absl::Milliseconds(1));
  d_.ReleaseOverdue();
  EXPECT_EQ(a_->sent.size(), 1u) << "held past install_wait after a step back";
  // Held while the wall clock is two hours behind, released on time.
  d_.Deliver(Pair());
  clock_.StepWall(absl::Hours(2));
  d_.ReleaseOverdue();
  EXPECT_EQ(a_->sent.size(), 1u);
  clock_.Advance(absl::Seconds(1));
  d_.ReleaseOverdue();
  EXPECT_EQ(a_->sent.size(), 2u);
}

TEST(EventHub, SlowSubscriberLosesOldestAndCountsThem) {
  EventHub hub(/*capacity_per_subscriber=*/2);
  auto sub = hub.Subscribe();
  for (int i = 0; i < 5; ++i) {
    v1::Event e;
    e.set_subject(std::to_string(i));
    hub.Publish(e);
  }
  auto events = sub->Next(absl::ZeroDuration());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].subject(), "3");
  EXPECT_EQ(events[1].subject(), "4");
  EXPECT_EQ(sub->dropped(), 3u);
  hub.Unsubscribe(sub);
  hub.Publish(v1::Event());
  EXPECT_TRUE(sub->Next(absl::ZeroDuration()).empty());
}

}  // namespace
}  // namespace ikeless::controller
