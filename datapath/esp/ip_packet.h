#ifndef IKELESS_DATAPATH_ESP_IP_PACKET_H_
#define IKELESS_DATAPATH_ESP_IP_PACKET_H_

// Reading and writing the IP headers the engine touches: the selectors an
// SPD lookup needs (RFC 4301 §4.4.1.1: addresses, next layer protocol,
// ports), the split of a transport-mode packet into header and payload, and
// the header a transport-mode receiver rebuilds (RFC 4303 §3.1.1). IPv4
// (RFC 791) and IPv6 (RFC 8200).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/address.h"

namespace ikeless::datapath::esp {

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoIpv4 = 4;  // IP-in-IP: ESP tunnel mode next header
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIpv6 = 41;
inline constexpr uint8_t kProtoEsp = 50;
inline constexpr uint8_t kProtoIcmpv6 = 58;
inline constexpr uint8_t kProtoNoNext = 59;  // RFC 4303 §2.6 dummy packets
inline constexpr uint8_t kProtoSctp = 132;
inline constexpr uint8_t kProtoUdpLite = 136;

// An address as it sits in a header: cheap to make per packet (IpAddress
// goes through text).
struct RawAddress {
  bool v4 = true;
  std::array<uint8_t, 16> bytes{};  // v4: first 4

  static RawAddress From(const IpAddress& a);
  std::string ToString() const;
  friend bool operator==(const RawAddress& a, const RawAddress& b) {
    return a.v4 == b.v4 && a.bytes == b.bytes;
  }
};

// What the SPD and transport mode need to know about one IP packet.
struct PacketInfo {
  int version = 0;  // 4 or 6
  RawAddress src;
  RawAddress dst;
  // Upper-layer protocol: IPv4's protocol field, or for IPv6 the next header
  // after hop-by-hop, routing, fragment, destination options and AH headers.
  uint8_t protocol = 0;
  bool has_ports = false;  // TCP, UDP, SCTP, UDP-Lite whose ports are present
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  bool fragment = false;        // part of a fragmented datagram
  bool later_fragment = false;  // not the first fragment: no upper-layer header
  // The fixed header: IPv4 IHL*4 (with options), IPv6 40; and the protocol
  // field in it (IPv6: the base header's next header).
  size_t header_size = 0;
  uint8_t header_protocol = 0;
  size_t length = 0;  // the datagram's length per its header (<= buffer)
};

// Parses and validates the headers; INVALID_ARGUMENT says what is wrong.
absl::StatusOr<PacketInfo> ParseIpPacket(std::span<const uint8_t> packet);

// Appends an IP header for `payload_size` octets of `protocol` from `src`
// to `dst` (same family): IPv4 20 octets with checksum, TTL 64; IPv6 40
// octets, hop limit 64.
void AppendIpHeader(const RawAddress& src, const RawAddress& dst, uint8_t protocol,
                    size_t payload_size, std::vector<uint8_t>* out);

// A whole UDP datagram with a correct checksum (tests and tools).
std::vector<uint8_t> BuildUdpPacket(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                                    uint16_t dst_port, std::span<const uint8_t> payload);

// Internet checksum (RFC 1071) of `data`, continuing from `sum`.
uint32_t ChecksumAdd(uint32_t sum, std::span<const uint8_t> data);
uint16_t ChecksumFinish(uint32_t sum);

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_IP_PACKET_H_
