#ifndef IKELESS_DATAPATH_ESP_SOCKET_ADDRESS_H_
#define IKELESS_DATAPATH_ESP_SOCKET_ADDRESS_H_

// IpAddress to sockaddr for the ESP sockets, including IPv4 peers reached
// through a dual-stack IPv6 socket (v4-mapped, RFC 4291 §2.5.5.2).

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/address.h"

namespace ikeless::datapath::esp {

// False if `a` cannot be reached through a socket of `family`.
bool ToSockaddr(const IpAddress& a, uint16_t port, int family, sockaddr_storage* ss,
                socklen_t* len);

// "198.18.0.1:4500" or "[::]:4500" for messages; "" = the wildcard.
std::string EndpointText(const std::string& address, uint16_t port, int family);

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_SOCKET_ADDRESS_H_
