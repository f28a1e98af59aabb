// A connection flood against the real controller binary (issue #11,
// point 1). Before: ~1,000 idle TCP connections at the default 1,024
// descriptors made one accept4() fail with EMFILE, after which Debian's
// gRPC 1.51 never accepted again (grpc#20418): every agent and ipsecctl was
// locked out until a restart. Silent connections were never timed out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_binaries.h"

namespace ikeless::testing {
namespace {

class ConnectionFloodTest : public ::testing::Test {
 protected:
  // The controller under `prlimit --nofile=N:N` (soft and hard), so the
  // flood needs only a few hundred connections.
  void Start(int descriptors, std::vector<std::string> flags) {
    std::vector<std::string> argv = {"/usr/bin/prlimit",
                                     absl::StrCat("--nofile=", descriptors, ":", descriptors),
                                     "--",
                                     Binaries().controller,
                                     "--listen=127.0.0.1:0",
                                     "--insecure",
                                     "--database=:memory:"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto p = Subprocess::Start(argv);
    ASSERT_TRUE(p.ok()) << p.status();
    controller_.emplace(std::move(*p));
    auto addr = controller_->WaitForLine("listening on ", absl::Seconds(10));
    ASSERT_TRUE(addr.has_value()) << "controller did not start";
    address_ = *addr;
    ASSERT_TRUE(absl::SimpleAtoi(address_.substr(address_.rfind(':') + 1), &port_));
  }

  // A TCP connection that says nothing; -1 if the connect failed.
  int Silent() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  // True once the controller has closed `fd` (EOF or reset) within `wait`.
  // What it sends first (its HTTP/2 SETTINGS in plain text) is skipped.
  static bool ClosedByPeer(int fd, absl::Duration wait) {
    const absl::Time end = absl::Now() + wait;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      const int64_t left = std::max<int64_t>(0, absl::ToInt64Milliseconds(end - absl::Now()));
      if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
      char buf[256];
      const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    }
  }

  // `ipsecctl policy list`: 0 when the controller answered.
  int Ctl() {
    return RunCommand({Binaries().ipsecctl, "--controller", address_, "--timeout", "3", "policy",
                       "list"})
        .exit_code;
  }

  std::optional<Subprocess> controller_;
  std::string address_;
  int port_ = 0;
};

TEST_F(ConnectionFloodTest, DescriptorExhaustionDoesNotStopAccepting) {
  // No cap below the descriptor limit: the flood runs the process out of
  // descriptors, which is what locked gRPC's listener before.
  Start(96, {"--max_connections=100000", "--handshake_timeout=60s"});
  ASSERT_EQ(Ctl(), 0);
  std::vector<int> flood;
  for (int i = 0; i < 200; ++i) {
    int fd = Silent();
    if (fd >= 0) flood.push_back(fd);
  }
  absl::SleepFor(absl::Seconds(1));
  int refused = 0;
  for (int fd : flood) refused += ClosedByPeer(fd, absl::ZeroDuration()) ? 1 : 0;
  EXPECT_GT(refused, 0) << "the flood never reached the descriptor limit";
  for (int fd : flood) close(fd);
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Ctl(), 0) << "the controller stopped accepting after running out of descriptors";
}

TEST_F(ConnectionFloodTest, OverTheCapClosedAtOnceSilentOnesTimedOut) {
  Start(1024, {"--max_connections=20", "--handshake_timeout=1s"});
  std::vector<int> flood;
  for (int i = 0; i < 40; ++i) {
    int fd = Silent();
    ASSERT_GE(fd, 0);
    flood.push_back(fd);
  }
  int closed_at_once = 0;
  for (int fd : flood) closed_at_once += ClosedByPeer(fd, absl::Milliseconds(20)) ? 1 : 0;
  EXPECT_GE(closed_at_once, 20 - 2);  // over the cap (a handful of timing slack)
  EXPECT_LE(closed_at_once, 22);
  // The rest say nothing and are closed by the handshake timeout, while the
  // flooder still holds its sockets: the controller serves again.
  absl::SleepFor(absl::Milliseconds(1500));
  int closed = 0;
  for (int fd : flood) closed += ClosedByPeer(fd, absl::Milliseconds(500)) ? 1 : 0;
  EXPECT_EQ(closed, 40);
  EXPECT_EQ(Ctl(), 0);
  for (int fd : flood) close(fd);
}

}  // namespace
}  // namespace ikeless::testing
