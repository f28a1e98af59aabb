// XfrmDatapath on this machine's kernel, in a network namespace of the
// test's own (datapath/testing/private_netns.h): policies installed,
// replaced and removed; a real first packet raising ACQUIRE for its SPD
// entry (FIG. 18 S35); ownership by reqid (stale ones of ours removed at
// start, foreign ones untouched, ours removed at exit); and the plain error
// of a kernel without ESP. Where the kernel has ESP (the VM test,
// tests/vm/) the SA cases run for real. Root only; skipped otherwise.
#include "datapath/xfrm/xfrm_datapath.h"

#include <string>

#include "datapath/testing/event_recorder.h"
#include "datapath/testing/private_netns.h"
#include "datapath/xfrm/xfrm_socket.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::xfrm {
namespace {

using testing::EventRecorder;
using testing::Shell;

const std::string kSetup = std::string(testing::kVethSetup) +
                           " && ip route add 198.18.50.0/24 dev v0 && "
                           "ip -6 addr add fd00:49::1/64 dev v0 nodad && "
                           "ip -6 route add fd00:50::/64 dev v0";

SpdEntry Protect(uint32_t id = 1) {
  SpdEntry e;
  e.id = id;
  e.name = "to-site-b";
  e.local_prefix = "198.18.49.0/24";
  e.remote_prefix = "198.18.50.0/24";
  e.setup_peer = "198.18.50.1";
  e.local_address = "198.18.49.1";
  return e;
}

v1::SaParameters Sa(uint32_t spi, const char* src, const char* dst) {
  v1::SaParameters sa;
  sa.set_spi(spi);
  sa.set_source(src);
  sa.set_destination(dst);
  sa.set_mode(v1::MODE_TUNNEL);
  sa.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  sa.set_encryption_key(std::string(16, 'k'));
  sa.set_salt("salt");
  sa.set_extended_sequence_numbers(true);
  sa.mutable_lifetime()->set_hard_seconds(3600);
  return sa;
}

class XfrmDatapathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& why = testing::EnterPrivateNetns(kSetup);
    if (!why.empty()) GTEST_SKIP() << why;
    Shell("ip xfrm policy flush; ip xfrm state flush");
  }
  static std::unique_ptr<XfrmDatapath> Make() {
    XfrmDatapath::Options o;
    o.switch_delay = absl::Milliseconds(300);
    auto dp = XfrmDatapath::Create(o);
    EXPECT_TRUE(dp.ok()) << dp.status();
    return dp.ok() ? std::move(*dp) : nullptr;
  }
  static bool KernelHasEsp(XfrmDatapath& dp, std::string* why) {
    absl::Status s = dp.ProbeEsp("198.18.49.1", "198.18.50.1");
    *why = std::string(s.message());
    return s.ok();
  }
};

TEST_F(XfrmDatapathTest, PoliciesAreInstalledReplacedAndRemoved) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  SpdEntry bypass = Protect(2);
  bypass.action = SpdEntry::Action::kBypass;
  bypass.remote_prefix = "198.18.51.0/24";
  bypass.setup_peer.clear();
  ASSERT_TRUE(dp->SetPolicies({Protect(), bypass}).ok());
  ASSERT_TRUE(dp->SetPolicies({Protect(), bypass}).ok()) << "an upsert, not an error";
  std::string shown = Shell("ip xfrm policy show");
  EXPECT_NE(shown.find("src 198.18.49.0/24 dst 198.18.50.0/24 \n\tdir out"), std::string::npos) << shown;
  EXPECT_NE(shown.find("src 198.18.50.0/24 dst 198.18.49.0/24 \n\tdir in"), std::string::npos) << shown;
  EXPECT_NE(shown.find("src 198.18.50.0/24 dst 198.18.49.0/24 \n\tdir fwd"), std::string::npos) << shown;
  EXPECT_NE(shown.find("tmpl src 198.18.49.1 dst 198.18.50.1\n\t\tproto esp reqid 31784961 mode tunnel"),
            std::string::npos)
      << shown;
  EXPECT_EQ(shown.find("level use"), std::string::npos) << shown;
  EXPECT_EQ(Shell("ip xfrm policy show | grep -c tmpl"), "3\n") << "BYPASS has no template\n" << shown;
  EXPECT_EQ(Shell("ip xfrm policy show | grep -cE '^[[:space:]]+dir '"), "6\n");

  ASSERT_TRUE(dp->SetPolicies({Protect()}).ok());
  EXPECT_EQ(Shell("ip xfrm policy show | grep -cE '^[[:space:]]+dir '"), "3\n");
  EXPECT_EQ(Shell("ip xfrm policy show | grep -c 198.18.51"), "0\n");
  dp.reset();
  EXPECT_EQ(Shell("ip xfrm policy show"), "") << "ours are removed on exit";
}

TEST_F(XfrmDatapathTest, Ipv6EntriesAndTheirAcquire) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  EventRecorder events;
  dp->SetEventSink(events.Sink());
  SpdEntry e = Protect(5);
  e.local_prefix = "fd00:49::/64";
  e.remote_prefix = "fd00:50::/64";
  e.local_address = "fd00:49::1";
  e.setup_peer = "fd00:50::1";
  ASSERT_TRUE(dp->SetPolicies({e}).ok());
  std::string shown = Shell("ip -6 xfrm policy show");
  EXPECT_NE(shown.find("src fd00:49::/64 dst fd00:50::/64"), std::string::npos) << shown;
  EXPECT_NE(shown.find("tmpl src fd00:49::1 dst fd00:50::1"), std::string::npos) << shown;
  Shell("ping -6 -c 1 -W 1 fd00:50::7 >/dev/null");
  auto acquire = events.Take(DatapathEvent::Kind::kAcquire, 5, absl::Seconds(3));
  EXPECT_TRUE(acquire.has_value()) << "no ACQUIRE for an IPv6 first packet";
}

TEST_F(XfrmDatapathTest, OneInstancePerNamespace) {
  auto first = Make();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->SetPolicies({Protect()}).ok());
  auto second = XfrmDatapath::Create(XfrmDatapath::Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("another ikeless agent"), std::string::npos);
  EXPECT_EQ(Shell("ip xfrm policy show | grep -cE '^[[:space:]]+dir '"), "3\n")
      << "the refused instance removed nothing of the running one";
}

TEST_F(XfrmDatapathTest, BypassTrafficRaisesNoKernelAcquire) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  SpdEntry bypass = Protect(1);
  bypass.action = SpdEntry::Action::kBypass;
  bypass.setup_peer.clear();
  ASSERT_TRUE(dp->SetPolicies({bypass}).ok());
  auto listener = XfrmSocket::Open(XfrmSocket::kAcquireGroup);
  ASSERT_TRUE(listener.ok());
  testing::SendUdp("198.18.49.1", "198.18.50.1", 53);
  int acquires = 0;
  ASSERT_TRUE(listener->Receive(absl::Milliseconds(500), [&](const nlmsghdr* m) {
    acquires += ParseAcquire(m).has_value();
  }).ok());
  EXPECT_EQ(acquires, 0);
  EXPECT_EQ(Shell("ip xfrm state show"), "") << "no larval state either";
}

// Pushed entries get allocated ids, so precedence is the list's order; and
// a new SPD is a difference: what did not change is not sent again.
TEST_F(XfrmDatapathTest, PriorityIsThePositionAndUnchangedPoliciesAreNotSentAgain) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  SpdEntry a = Protect(9);
  SpdEntry b = Protect(2);
  b.remote_prefix = "198.18.51.0/24";
  b.action = SpdEntry::Action::kDiscard;
  b.setup_peer.clear();
  ASSERT_TRUE(dp->SetPolicies({a, b}).ok());
  EXPECT_NE(Shell("ip xfrm policy show dir out dst 198.18.50.0/24").find("priority 1001"),
            std::string::npos);
  EXPECT_NE(Shell("ip xfrm policy show dir out dst 198.18.51.0/24").find("priority 1002"),
            std::string::npos);

  auto listener = XfrmSocket::Open(1u << (XFRMNLGRP_POLICY - 1));
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto count = [&](uint16_t type) {
    int n = 0;
    EXPECT_TRUE(listener->Receive(absl::Milliseconds(200), [&](const nlmsghdr* m) {
      n += m->nlmsg_type == type || (type == XFRM_MSG_UPDPOLICY && m->nlmsg_type == XFRM_MSG_NEWPOLICY);
    }).ok());
    return n;
  };
  ASSERT_TRUE(dp->SetPolicies({a, b}).ok());
  EXPECT_EQ(count(XFRM_MSG_UPDPOLICY), 0) << "nothing changed, nothing sent";

  SpdEntry c = Protect(5);
  c.remote_prefix = "198.18.52.0/24";
  ASSERT_TRUE(dp->SetPolicies({a, c}).ok());
  int updates = 0, deletes = 0;
  ASSERT_TRUE(listener->Receive(absl::Milliseconds(200), [&](const nlmsghdr* m) {
    updates += m->nlmsg_type == XFRM_MSG_UPDPOLICY || m->nlmsg_type == XFRM_MSG_NEWPOLICY;
    deletes += m->nlmsg_type == XFRM_MSG_DELPOLICY;
  }).ok());
  EXPECT_EQ(updates, 3) << "c's out, in, fwd; a untouched";
  EXPECT_EQ(deletes, 3) << "b's out, in, fwd";
  EXPECT_EQ(Shell("ip xfrm policy show | grep -c 198.18.51"), "0\n");
  EXPECT_NE(Shell("ip xfrm policy show dir out dst 198.18.52.0/24").find("priority 1002"),
            std::string::npos);

  // c moves in front of a: both change priority, in place.
  ASSERT_TRUE(dp->SetPolicies({c, a}).ok());
  EXPECT_NE(Shell("ip xfrm policy show dir out dst 198.18.52.0/24").find("priority 1001"),
            std::string::npos);
  EXPECT_NE(Shell("ip xfrm policy show dir out dst 198.18.50.0/24").find("priority 1002"),
            std::string::npos);
  EXPECT_EQ(Shell("ip xfrm policy show | grep -cE '^[[:space:]]+dir '"), "6\n");
}

TEST_F(XfrmDatapathTest, SameTrafficTwiceIsRefused) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  SpdEntry twin = Protect(2);
  absl::Status s = dp->SetPolicies({Protect(1), twin});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("same traffic as entry 1"), std::string::npos) << s;
}

TEST_F(XfrmDatapathTest, BadEntryNamesTheFieldAndChangesNothing) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  ASSERT_TRUE(dp->SetPolicies({Protect()}).ok());
  SpdEntry bad = Protect(2);
  bad.remote_prefix = "198.18.50.0/33";
  absl::Status s = dp->SetPolicies({Protect(), bad});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("spd entry 2"), std::string::npos) << s;
  EXPECT_NE(s.message().find("prefix"), std::string::npos) << s;
  EXPECT_EQ(Shell("ip xfrm policy show | grep -cE '^[[:space:]]+dir '"), "3\n");
}

TEST_F(XfrmDatapathTest, S35_FirstPacketRaisesAcquireForItsEntry) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  EventRecorder events;
  dp->SetEventSink(events.Sink());
  ASSERT_TRUE(dp->SetPolicies({Protect(7)}).ok());
  testing::SendUdp("198.18.49.1", "198.18.50.1", 9);
  auto acquire = events.Take(DatapathEvent::Kind::kAcquire, 0, absl::Seconds(3));
  ASSERT_TRUE(acquire.has_value()) << "no ACQUIRE for the first packet";
  EXPECT_EQ(acquire->spd_entry, 7u);
  EXPECT_EQ(Shell("cat /proc/sys/net/core/xfrm_larval_drop"), "0\n")
      << "hold_first_packets: the kernel queues instead of dropping";
}

TEST_F(XfrmDatapathTest, OwnershipIsByReqid) {
  // A foreign policy (another daemon's reqid) and a stale one of ours.
  Shell("ip xfrm policy add src 198.18.60.0/24 dst 198.18.61.0/24 dir out "
        "tmpl src 198.18.49.1 dst 198.18.50.9 proto esp reqid 5 mode tunnel");
  Shell("ip xfrm policy add src 198.18.62.0/24 dst 198.18.63.0/24 dir out "
        "tmpl src 198.18.49.1 dst 198.18.50.9 proto esp reqid 31784969 mode tunnel");
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  std::string shown = Shell("ip xfrm policy show");
  EXPECT_NE(shown.find("198.18.60.0/24"), std::string::npos) << "foreign: untouched\n" << shown;
  EXPECT_EQ(shown.find("198.18.62.0/24"), std::string::npos) << "stale of ours: removed\n" << shown;
  ASSERT_TRUE(dp->SetPolicies({Protect()}).ok());
  dp.reset();
  shown = Shell("ip xfrm policy show");
  EXPECT_NE(shown.find("198.18.60.0/24"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("198.18.49.0/24"), std::string::npos) << shown;
}

TEST_F(XfrmDatapathTest, KernelWithoutEspIsAClearError) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  std::string why;
  if (KernelHasEsp(*dp, &why)) GTEST_SKIP() << "this kernel has ESP: see the SA cases";
  ASSERT_TRUE(dp->SetPolicies({Protect()}).ok());
  absl::Status s = dp->InstallSa(1, Direction::kInbound, Sa(0x1001, "198.18.50.1", "198.18.49.1"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("cannot hold this ESP state"), std::string::npos) << s;
  EXPECT_NE(s.message().find("CONFIG_INET_ESP"), std::string::npos) << s;
  EXPECT_NE(s.message().find("in-process ESP engine"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("kkkk"), std::string::npos) << "no key material in errors";
  EXPECT_EQ(Shell("ip xfrm state show"), "");
}

TEST_F(XfrmDatapathTest, WithEspStatesAreInstalledCountedAndRemoved) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  std::string why;
  if (!KernelHasEsp(*dp, &why)) GTEST_SKIP() << why;
  ASSERT_TRUE(dp->SetPolicies({Protect()}).ok());
  ASSERT_TRUE(dp->InstallSa(1, Direction::kInbound, Sa(0x1001, "198.18.50.1", "198.18.49.1")).ok());
  ASSERT_TRUE(dp->InstallSa(1, Direction::kOutbound, Sa(0x2001, "198.18.49.1", "198.18.50.1")).ok());
  ASSERT_TRUE(dp->InstallSa(1, Direction::kOutbound, Sa(0x2001, "198.18.49.1", "198.18.50.1")).ok())
      << "idempotent for the same SPI";
  std::string shown = Shell("ip xfrm state show");
  EXPECT_NE(shown.find("spi 0x00001001 reqid 31784961 mode tunnel"), std::string::npos) << shown;
  EXPECT_NE(shown.find("aead rfc4106(gcm(aes))"), std::string::npos) << shown;
  EXPECT_NE(shown.find("encap type espinudp sport 4500 dport 4500"), std::string::npos) << shown;
  auto c = dp->Counters(Direction::kOutbound, {"198.18.50.1", 0x2001});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->packets, 0u);
  EXPECT_EQ(dp->RemoveSa(Direction::kOutbound, {"198.18.49.1", 0x1001}).code(),
            absl::StatusCode::kNotFound)
      << "the wrong direction is not ours to remove";
  EXPECT_EQ(dp->InstallSa(1, Direction::kOutbound, Sa(0x1001, "198.18.50.1", "198.18.49.1")).code(),
            absl::StatusCode::kAlreadyExists)
      << "an installed SPI is never re-keyed or moved";
  // Another daemon's SA: neither counted nor removed.
  Shell("ip xfrm state add src 198.18.50.9 dst 198.18.49.1 proto esp spi 0x7777 reqid 5 "
        "mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128");
  EXPECT_EQ(dp->Counters(Direction::kInbound, {"198.18.49.1", 0x7777}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(dp->RemoveSa(Direction::kInbound, {"198.18.49.1", 0x7777}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_NE(Shell("ip xfrm state show").find("spi 0x00007777"), std::string::npos);
  ASSERT_TRUE(dp->RemoveSa(Direction::kInbound, {"198.18.49.1", 0x1001}).ok());
  EXPECT_EQ(dp->RemoveSa(Direction::kInbound, {"198.18.49.1", 0x1001}).code(),
            absl::StatusCode::kNotFound);
  dp.reset();
  std::string left = Shell("ip xfrm state show");
  EXPECT_EQ(left.find("reqid 31784961"), std::string::npos) << "ours are removed on exit\n" << left;
  EXPECT_NE(left.find("spi 0x00007777"), std::string::npos) << "the other daemon's stays";
}

TEST_F(XfrmDatapathTest, WithEspATransportSaTurnsTheTemplatesToTransport) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  std::string why;
  if (!KernelHasEsp(*dp, &why)) GTEST_SKIP() << why;
  SpdEntry host = Protect();
  host.local_prefix = "198.18.49.1/32";
  host.remote_prefix = "198.18.50.1/32";
  host.local_address = "198.18.49.1";
  ASSERT_TRUE(dp->SetPolicies({Protect(), [&] { SpdEntry h = host; h.id = 2; return h; }()}).ok());
  // Entry 1 guessed tunnel mode (prefixes); the controller says transport.
  v1::SaParameters sa = Sa(0x1003, "198.18.50.1", "198.18.49.1");
  sa.set_mode(v1::MODE_TRANSPORT);
  ASSERT_TRUE(dp->InstallSa(1, Direction::kInbound, sa).ok());
  std::string shown = Shell("ip xfrm policy show");
  EXPECT_EQ(shown.find("198.18.49.0/24 \n\tdir fwd"), std::string::npos) << "no fwd in transport mode\n"
                                                                        << shown;
  EXPECT_NE(shown.find("reqid 31784961 mode transport"), std::string::npos) << shown;
  EXPECT_NE(shown.find("reqid 31784962 mode transport"), std::string::npos)
      << "a host-to-host rule starts in transport mode\n" << shown;
  EXPECT_NE(Shell("ip xfrm state show").find("mode transport"), std::string::npos);
  v1::SaParameters v6 = Sa(0x1004, "fd00:50::1", "fd00:49::1");
  EXPECT_TRUE(dp->InstallSa(1, Direction::kInbound, v6).ok()) << "IPv6 outer addresses";
}

TEST_F(XfrmDatapathTest, WithEspLifetimesRaiseSoftThenHardExpire) {
  auto dp = Make();
  ASSERT_NE(dp, nullptr);
  std::string why;
  if (!KernelHasEsp(*dp, &why)) GTEST_SKIP() << why;
  EventRecorder events;
  dp->SetEventSink(events.Sink());
  ASSERT_TRUE(dp->SetPolicies({Protect()}).ok());
  v1::SaParameters sa = Sa(0x2002, "198.18.49.1", "198.18.50.1");
  sa.mutable_lifetime()->set_soft_seconds(1);
  sa.mutable_lifetime()->set_hard_seconds(2);
  ASSERT_TRUE(dp->InstallSa(1, Direction::kOutbound, sa).ok());
  auto soft = events.Take(DatapathEvent::Kind::kSoftExpire, 1, absl::Seconds(5));
  ASSERT_TRUE(soft.has_value());
  EXPECT_EQ(soft->sa.spi, 0x2002u);
  EXPECT_EQ(soft->direction, Direction::kOutbound);
  auto hard = events.Take(DatapathEvent::Kind::kHardExpire, 1, absl::Seconds(5));
  ASSERT_TRUE(hard.has_value());
  EXPECT_EQ(dp->Counters(Direction::kOutbound, {"198.18.50.1", 0x2002}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ikeless::datapath::xfrm
