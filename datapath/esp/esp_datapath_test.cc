// EspDatapath with a real TUN device, in a private network namespace of this
// test process (so nothing on the host changes and everything vanishes when
// the test exits). The peer node is simulated: a socket on 127.0.0.2 and a
// pure EspEngine. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for unshare) and
// /dev/net/tun; skipped otherwise.

#include "datapath/esp/esp_datapath.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "datapath/esp/engine_test_fixture.h"
#include "datapath/esp/ip_packet.h"
#include "datapath/testing/private_netns.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

using testing::Entry;
using testing::Sa;

sockaddr_in V4(const char* addr, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, addr, &sin.sin_addr);
  return sin;
}

// The test's own network namespace (datapath/testing), with a TUN device.
const std::string& PrivateNetns() {
  static const std::string* why = [] {
    if (access("/dev/net/tun", R_OK | W_OK) != 0) return new std::string("no /dev/net/tun");
    return new std::string(datapath::testing::EnterPrivateNetns(""));
  }();
  return *why;
}

// ip addr add <addr>/32 dev <name>; ip route add <net>/24 dev <name>.
void AddAddressAndRoute(const std::string& name, const char* addr, const char* net) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  sockaddr_in a = V4(addr, 0);
  std::memcpy(&ifr.ifr_addr, &a, sizeof a);
  ASSERT_EQ(ioctl(s, SIOCSIFADDR, &ifr), 0) << std::strerror(errno);
  sockaddr_in mask = V4("255.255.255.255", 0);
  std::memcpy(&ifr.ifr_netmask, &mask, sizeof mask);
  ASSERT_EQ(ioctl(s, SIOCSIFNETMASK, &ifr), 0) << std::strerror(errno);
  rtentry rt{};
  sockaddr_in dst = V4(net, 0), genmask = V4("255.255.255.0", 0);
  std::memcpy(&rt.rt_dst, &dst, sizeof dst);
  std::memcpy(&rt.rt_genmask, &genmask, sizeof genmask);
  rt.rt_flags = RTF_UP;
  rt.rt_dev = const_cast<char*>(name.c_str());
  ASSERT_EQ(ioctl(s, SIOCADDRT, &rt), 0) << std::strerror(errno);
  close(s);
}

// recv with a deadline; -1 on timeout.
ssize_t RecvWithin(int fd, std::vector<uint8_t>& buf, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) return -1;
  return recv(fd, buf.data(), buf.size(), 0);
}

template <typename F>
bool WaitFor(F done, absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

class EspDatapathTest : public ::testing::TestWithParam<EspDatapath::Encapsulation> {
 protected:
  void SetUp() override {
    if (!PrivateNetns().empty()) GTEST_SKIP() << PrivateNetns();
  }
};

TEST_P(EspDatapathTest, HoldAcquireReleaseAndBothDirections) {
  const bool udp = GetParam() == EspDatapath::Encapsulation::kUdp;
  const std::string tun = udp ? "ikltest0" : "ikltest1";
  const char* kLocal = "127.0.0.1";
  const char* kPeer = "127.0.0.2";

  // The peer node: its ESP socket and engine.
  int peer_fd = udp ? socket(AF_INET, SOCK_DGRAM, 0) : socket(AF_INET, SOCK_RAW, IPPROTO_ESP);
  ASSERT_GE(peer_fd, 0) << std::strerror(errno);
  sockaddr_in peer_addr = V4(kPeer, 0);
  ASSERT_EQ(bind(peer_fd, reinterpret_cast<sockaddr*>(&peer_addr), sizeof peer_addr), 0);
  socklen_t alen = sizeof peer_addr;
  getsockname(peer_fd, reinterpret_cast<sockaddr*>(&peer_addr), &alen);
  EspEngine peer(SystemClock::Get(), CryptoRandom::Get());
  ASSERT_TRUE(peer.SetPolicies({Entry(1, "198.18.2.0/24", "198.18.1.0/24")}).ok());

  EspDatapath::Options o;
  o.tun_name = tun;
  o.encapsulation = GetParam();
  // UDP: the default dual-stack socket on every address (IPv4 peers
  // v4-mapped); raw IP: bound to the node address.
  o.bind_address = udp ? "" : kLocal;
  o.udp_port = 0;
  o.peer_udp_port = ntohs(peer_addr.sin_port);
  o.tick_interval = absl::Milliseconds(20);
  auto dp = EspDatapath::Create(o);
  ASSERT_TRUE(dp.ok()) << dp.status();
  EXPECT_EQ((*dp)->tun_name(), tun);
  EXPECT_NE(if_nametoindex(tun.c_str()), 0u);
  const v1::Capabilities caps = (*dp)->capabilities();
  EXPECT_EQ(caps.datapath(), "esp-engine");
  EXPECT_EQ(caps.encryption_size(), 4);
  EXPECT_EQ(caps.integrity_size(), 5);
  EXPECT_TRUE(caps.tunnel_mode() && caps.transport_mode());
  EXPECT_EQ(caps.udp_encapsulation(), udp);

  absl::Mutex mu;
  std::vector<DatapathEvent> events;
  (*dp)->SetEventSink([&](const DatapathEvent& e) {
    absl::MutexLock l(&mu);
    events.push_back(e);
  });
  AddAddressAndRoute(tun, "198.18.1.1", "198.18.2.0");
  SpdEntry entry = Entry(1, "198.18.1.0/24", "198.18.2.0/24");
  entry.setup_peer = kPeer;
  entry.local_address = kLocal;
  ASSERT_TRUE((*dp)->SetPolicies({entry}).ok());

  // An application on this node sends into the protected network: no SA
  // yet, so the packet is held and the agent is asked (S35).
  int app = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in app_addr = V4("198.18.1.1", 9999);
  ASSERT_EQ(bind(app, reinterpret_cast<sockaddr*>(&app_addr), sizeof app_addr), 0)
      << std::strerror(errno);
  sockaddr_in far = V4("198.18.2.1", 7777);
  ASSERT_EQ(sendto(app, "hello", 5, 0, reinterpret_cast<sockaddr*>(&far), sizeof far), 5);
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock l(&mu);
    return !events.empty();
  })) << "no kAcquire";
  {
    absl::MutexLock l(&mu);
    EXPECT_EQ(events[0].kind, DatapathEvent::Kind::kAcquire);
    EXPECT_EQ(events[0].spd_entry, 1u);
  }

  // The SAs arrive (S45/S57) and the held packet goes (S36).
  ASSERT_TRUE((*dp)->InstallSa(1, Direction::kInbound, Sa(0x2001, kPeer, kLocal)).ok());
  ASSERT_TRUE((*dp)->InstallSa(1, Direction::kOutbound, Sa(0x1001, kLocal, kPeer)).ok());
  EngineOutput ignored;
  ASSERT_TRUE(peer.InstallSa(1, Direction::kInbound, Sa(0x1001, kLocal, kPeer), &ignored).ok());
  ASSERT_TRUE(peer.InstallSa(1, Direction::kOutbound, Sa(0x2001, kPeer, kLocal), &ignored).ok());
  (*dp)->ReleaseHeld(1);

  std::vector<uint8_t> buf(65536);
  ssize_t n = RecvWithin(peer_fd, buf, absl::Seconds(5));
  ASSERT_GT(n, 0) << "no ESP packet reached the peer";
  std::span<uint8_t> esp(buf.data(), static_cast<size_t>(n));
  if (!udp) esp = esp.subspan(size_t{esp[0] & 0x0fu} * 4);  // raw IPv4 delivers the header
  EngineOutput in;
  peer.ProcessInbound(esp, &in);
  ASSERT_EQ(in.to_tun.size(), 1u);
  auto info = ParseIpPacket(in.to_tun[0]);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->src.ToString(), "198.18.1.1");
  EXPECT_EQ(info->dst.ToString(), "198.18.2.1");
  EXPECT_EQ(info->src_port, 9999);
  EXPECT_EQ(info->dst_port, 7777);
  EXPECT_EQ(testing::AsString(std::span(in.to_tun[0]).subspan(28)), "hello");

  // The answer comes back as ESP, is decrypted into the TUN and reaches the
  // application's socket.
  EngineOutput reply;
  peer.ProcessOutbound(testing::Udp("198.18.2.1", "198.18.1.1", 7777, 9999, "world"), &reply);
  ASSERT_EQ(reply.to_network.size(), 1u);
  sockaddr_in to = V4(kLocal, udp ? (*dp)->local_port() : 0);
  ASSERT_GT(sendto(peer_fd, reply.to_network[0].esp.data(), reply.to_network[0].esp.size(), 0,
                   reinterpret_cast<sockaddr*>(&to), sizeof to),
            0);
  n = RecvWithin(app, buf, absl::Seconds(5));
  ASSERT_EQ(n, 5) << "the reply did not come out of the TUN";
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + 5), "world");

  auto out_c = (*dp)->Counters(Direction::kOutbound, {kPeer, 0x1001});
  ASSERT_TRUE(out_c.ok());
  EXPECT_EQ(out_c->packets, 1u);
  auto in_c = (*dp)->Counters(Direction::kInbound, {kLocal, 0x2001});
  ASSERT_TRUE(in_c.ok());
  EXPECT_EQ(in_c->packets, 1u);
  // The I/O thread counts right after the write the application may already
  // have seen.
  EXPECT_TRUE(WaitFor([&] {
    const EspDatapath::IoStats io = (*dp)->io_stats();
    return io.net_tx == 1 && io.net_rx == 1 && io.tun_tx == 1 && io.tun_rx >= 1;
  }));
  EXPECT_EQ((*dp)->engine_stats().acquires, 1u);

  if (udp) {
    // RFC 3948: a NAT-keepalive and a non-ESP-marked (IKE) datagram are
    // not ESP.
    const uint8_t keepalive = 0xff;
    const uint8_t ike[8] = {0, 0, 0, 0, 1, 2, 3, 4};
    sendto(peer_fd, &keepalive, 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    sendto(peer_fd, ike, sizeof ike, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    EXPECT_TRUE(WaitFor([&] { return (*dp)->io_stats().non_esp == 2; }));
  }

  dp->reset();
  EXPECT_EQ(if_nametoindex(tun.c_str()), 0u) << "the TUN outlived its datapath";
  close(app);
  close(peer_fd);
}

INSTANTIATE_TEST_SUITE_P(Encapsulations, EspDatapathTest,
                         ::testing::Values(EspDatapath::Encapsulation::kUdp,
                                           EspDatapath::Encapsulation::kRawIp),
                         [](const auto& info) {
                           return info.param == EspDatapath::Encapsulation::kUdp ? "Udp" : "RawIp";
                         });

TEST(EspDatapathErrorsTest, OptionsAreCheckedFirst) {
  EspDatapath::Options o;
  o.tun_name = "a-name-much-too-long-for-linux";
  auto dp = EspDatapath::Create(o);
  ASSERT_FALSE(dp.ok());
  EXPECT_EQ(dp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(dp.status().message().find("tun_name"), absl::string_view::npos) << dp.status();
  o.tun_name = "ikl0";
  o.bind_address = "not-an-address";
  dp = EspDatapath::Create(o);
  ASSERT_FALSE(dp.ok());
  EXPECT_NE(dp.status().message().find("bind_address"), absl::string_view::npos) << dp.status();
}

TEST(EspDatapathErrorsTest, BusyTunAndTakenPort) {
  if (!PrivateNetns().empty()) GTEST_SKIP() << PrivateNetns();
  EspDatapath::Options o;
  o.tun_name = "iklbusy0";
  o.bind_address = "127.0.0.1";
  o.udp_port = 0;
  auto first = EspDatapath::Create(o);
  ASSERT_TRUE(first.ok()) << first.status();

  auto second = EspDatapath::Create(o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("busy"), absl::string_view::npos) << second.status();

  o.tun_name = "iklport0";
  o.udp_port = (*first)->local_port();
  auto third = EspDatapath::Create(o);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.status().message().find("cannot bind ESP-in-UDP socket to 127.0.0.1:"),
            absl::string_view::npos)
      << third.status();
  EXPECT_EQ(if_nametoindex("iklport0"), 0u) << "a failed Create left its TUN behind";
}

}  // namespace
}  // namespace ikeless::datapath::esp
