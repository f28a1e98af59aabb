#include "datapath/testing/private_netns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ikeless::datapath::testing {

const std::string& EnterPrivateNetns(const std::string& setup) {
  static const std::string* why = [&setup] {
    if (geteuid() != 0) return new std::string("needs root for a network namespace of its own");
    if (unshare(CLONE_NEWNET) != 0) {
      return new std::string(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
    }
    std::string all = "ip link set lo up";
    if (!setup.empty()) all += " && " + setup;
    if (std::system(all.c_str()) != 0) return new std::string("namespace setup failed: " + all);
    return new std::string();
  }();
  return *why;
}

std::string Shell(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[1024];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  return out;
}

void SendUdp(const std::string& source, const std::string& destination, uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  inet_pton(AF_INET, destination.c_str(), &dst.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0) {
    (void)sendto(fd, "first", 5, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
  }
  close(fd);
}

}  // namespace ikeless::datapath::testing
