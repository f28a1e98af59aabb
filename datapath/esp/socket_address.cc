#include "datapath/esp/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ikeless::datapath::esp {

bool ToSockaddr(const IpAddress& a, uint16_t port, int family, sockaddr_storage* ss,
                socklen_t* len) {
  std::memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    if (!a.is_v4()) return false;
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes().data(), 4);
    *len = sizeof *sin;
    return true;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  if (a.is_v4()) {
    sin6->sin6_addr.s6_addr[10] = sin6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&sin6->sin6_addr.s6_addr[12], a.bytes().data(), 4);
  } else {
    std::memcpy(&sin6->sin6_addr, a.bytes().data(), 16);
  }
  *len = sizeof *sin6;
  return true;
}

std::string EndpointText(const std::string& address, uint16_t port, int family) {
  const std::string a = address.empty() ? (family == AF_INET ? "0.0.0.0" : "::") : address;
  return family == AF_INET ? absl::StrCat(a, ":", port) : absl::StrCat("[", a, "]:", port);
}

}  // namespace ikeless::datapath::esp
