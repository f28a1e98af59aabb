// Kernel XFRM on this machine, in a network namespace of the test's own:
// a policy is installed and removed, a real first packet raises an ACQUIRE
// (FIG. 18 "suspend and ask"), and a kernel without an ESP transform is
// reported plainly. Root only; skipped otherwise.
#include "datapath/xfrm/xfrm_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace ikeless::datapath::xfrm {
namespace {

std::string Shell(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[1024];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  return out;
}

class XfrmSocketTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The whole test process moves into a namespace of its own: nothing
    // touches the host's XFRM tables, and it all vanishes with the process.
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) return;
    // A veth, not lo: the kernel does no XFRM lookup for loopback traffic.
    ready_ = std::system("ip link set lo up && ip link add v0 type veth peer name v1 && "
                         "ip link set v0 up && ip link set v1 up && "
                         "ip addr add 198.18.49.1/24 dev v0 && "
                         "ip route add 198.18.50.0/24 dev v0") == 0;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << "needs root to make a network namespace";
  }
  static OutPolicy Policy() {
    OutPolicy p;
    p.local_prefix = "198.18.49.0/24";
    p.remote_prefix = "198.18.50.0/24";
    p.tunnel_local = "198.18.49.1";
    p.tunnel_remote = "198.18.50.1";
    p.reqid = 0x1e5001;
    return p;
  }
  static bool ready_;
};
bool XfrmSocketTest::ready_ = false;

TEST_F(XfrmSocketTest, PolicyInstalledAndRemoved) {
  auto s = XfrmSocket::Open(false);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->InstallOutPolicy(Policy()).ok());
  ASSERT_TRUE(s->InstallOutPolicy(Policy()).ok()) << "an upsert, not an error";
  std::string shown = Shell("ip xfrm policy show");
  EXPECT_NE(shown.find("src 198.18.49.0/24 dst 198.18.50.0/24"), std::string::npos) << shown;
  EXPECT_NE(shown.find("dir out"), std::string::npos) << shown;
  EXPECT_NE(shown.find("proto esp"), std::string::npos) << shown;
  EXPECT_NE(shown.find("mode tunnel"), std::string::npos) << shown;
  ASSERT_TRUE(s->RemoveOutPolicy(Policy()).ok());
  EXPECT_EQ(Shell("ip xfrm policy show"), "");
  EXPECT_FALSE(s->RemoveOutPolicy(Policy()).ok());
}

TEST_F(XfrmSocketTest, FirstPacketRaisesAcquire) {
  auto listener = XfrmSocket::Open(true);
  ASSERT_TRUE(listener.ok()) << listener.status();
  auto control = XfrmSocket::Open(false);
  ASSERT_TRUE(control.ok());
  ASSERT_TRUE(control->InstallOutPolicy(Policy()).ok());
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, "198.18.49.1", &src.sin_addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(9);
  inet_pton(AF_INET, "198.18.50.1", &dst.sin_addr);
  (void)sendto(fd, "first", 5, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
  close(fd);
  auto acquire = listener->ReadAcquire(absl::Seconds(3));
  ASSERT_TRUE(acquire.ok()) << acquire.status();
  ASSERT_TRUE(acquire->has_value()) << "no ACQUIRE for the first packet";
  EXPECT_EQ((*acquire)->destination, "198.18.50.1");
  EXPECT_EQ((*acquire)->source, "198.18.49.1");
  EXPECT_EQ((*acquire)->selector_destination, "198.18.50.1");
  ASSERT_TRUE(control->RemoveOutPolicy(Policy()).ok());
}

TEST_F(XfrmSocketTest, MissingEspTransformIsAClearError) {
  auto s = XfrmSocket::Open(false);
  ASSERT_TRUE(s.ok());
  absl::Status probe = s->ProbeEspState("198.18.49.1", "198.18.50.1");
  if (probe.ok()) {
    GTEST_SKIP() << "this kernel has ESP and AES-GCM";
  }
  EXPECT_EQ(probe.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(probe.message().find("cannot hold ESP states"), std::string::npos) << probe;
  EXPECT_NE(probe.message().find("in-process ESP engine"), std::string::npos) << probe;
}

TEST_F(XfrmSocketTest, BadPrefixNamesTheField) {
  auto s = XfrmSocket::Open(false);
  ASSERT_TRUE(s.ok());
  OutPolicy p = Policy();
  p.remote_prefix = "198.18.50.0/33";
  absl::Status st = s->InstallOutPolicy(p);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("remote_prefix"), std::string::npos);
}

}  // namespace
}  // namespace ikeless::datapath::xfrm
