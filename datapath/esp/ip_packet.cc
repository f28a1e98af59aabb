#include "datapath/esp/ip_packet.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "datapath/esp/wire.h"

namespace ikeless::datapath::esp {
namespace {

constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr int kMaxExtensionHeaders = 8;

bool CarriesPorts(uint8_t protocol) {
  return protocol == kProtoTcp || protocol == kProtoUdp || protocol == kProtoSctp ||
         protocol == kProtoUdpLite;
}

void ReadPorts(std::span<const uint8_t> packet, size_t offset, PacketInfo* info) {
  if (info->later_fragment || !CarriesPorts(info->protocol)) return;
  if (offset + 4 > info->length) return;  // truncated first fragment: no ports
  info->has_ports = true;
  info->src_port = LoadBe16(&packet[offset]);
  info->dst_port = LoadBe16(&packet[offset + 2]);
}

absl::StatusOr<PacketInfo> ParseIpv4(std::span<const uint8_t> p) {
  if (p.size() < kIpv4MinHeader) return absl::InvalidArgumentError("IPv4 header truncated");
  PacketInfo info;
  info.version = 4;
  info.header_size = size_t{p[0] & 0x0fu} * 4;
  if (info.header_size < kIpv4MinHeader) return absl::InvalidArgumentError("IPv4 IHL < 5");
  info.length = LoadBe16(&p[2]);
  if (info.length < info.header_size || info.length > p.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("IPv4 total length ", info.length, " does not fit ", p.size(), " octets"));
  }
  const uint16_t frag = LoadBe16(&p[6]);
  info.later_fragment = (frag & 0x1fff) != 0;
  info.fragment = info.later_fragment || (frag & 0x2000) != 0;
  info.protocol = info.header_protocol = p[9];
  info.src.v4 = info.dst.v4 = true;
  std::memcpy(info.src.bytes.data(), &p[12], 4);
  std::memcpy(info.dst.bytes.data(), &p[16], 4);
  ReadPorts(p, info.header_size, &info);
  return info;
}

absl::StatusOr<PacketInfo> ParseIpv6(std::span<const uint8_t> p) {
  if (p.size() < kIpv6Header) return absl::InvalidArgumentError("IPv6 header truncated");
  PacketInfo info;
  info.version = 6;
  info.header_size = kIpv6Header;
  const size_t payload = LoadBe16(&p[4]);
  if (payload == 0 && p.size() > kIpv6Header) {
    return absl::InvalidArgumentError("IPv6 jumbograms are not supported");
  }
  info.length = kIpv6Header + payload;
  if (info.length > p.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("IPv6 payload length ", payload, " does not fit ", p.size(), " octets"));
  }
  info.src.v4 = info.dst.v4 = false;
  std::memcpy(info.src.bytes.data(), &p[8], 16);
  std::memcpy(info.dst.bytes.data(), &p[24], 16);
  info.header_protocol = p[6];

  // RFC 8200 §4: walk the extension headers to the upper-layer protocol.
  uint8_t next = p[6];
  size_t offset = kIpv6Header;
  for (int i = 0; i < kMaxExtensionHeaders; ++i) {
    size_t len;
    if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, dest. options
      if (offset + 2 > info.length) return absl::InvalidArgumentError("IPv6 option truncated");
      len = (size_t{p[offset + 1]} + 1) * 8;
    } else if (next == 51) {  // AH, RFC 4302 §2.2
      if (offset + 2 > info.length) return absl::InvalidArgumentError("AH truncated");
      len = (size_t{p[offset + 1]} + 2) * 4;
    } else if (next == 44) {  // fragment, RFC 8200 §4.5
      if (offset + 8 > info.length) return absl::InvalidArgumentError("fragment header truncated");
      const uint16_t off_flags = LoadBe16(&p[offset + 2]);
      info.fragment = true;
      info.later_fragment = (off_flags & 0xfff8) != 0;
      len = 8;
    } else {
      break;
    }
    if (offset + len > info.length) return absl::InvalidArgumentError("IPv6 header truncated");
    next = p[offset];
    offset += len;
    if (info.later_fragment) break;
  }
  info.protocol = next;
  ReadPorts(p, offset, &info);
  return info;
}

}  // namespace

RawAddress RawAddress::From(const IpAddress& a) {
  RawAddress r;
  r.v4 = a.is_v4();
  r.bytes = a.bytes();
  if (r.v4) std::fill(r.bytes.begin() + 4, r.bytes.end(), 0);
  return r;
}

std::string RawAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

absl::StatusOr<PacketInfo> ParseIpPacket(std::span<const uint8_t> packet) {
  if (packet.empty()) return absl::InvalidArgumentError("empty packet");
  switch (packet[0] >> 4) {
    case 4:
      return ParseIpv4(packet);
    case 6:
      return ParseIpv6(packet);
  }
  return absl::InvalidArgumentError(absl::StrCat("IP version ", packet[0] >> 4));
}

uint32_t ChecksumAdd(uint32_t sum, std::span<const uint8_t> data) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += LoadBe16(&data[i]);
  if (i < data.size()) sum += uint32_t{data[i]} << 8;
  return sum;
}

uint16_t ChecksumFinish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void AppendIpHeader(const RawAddress& src, const RawAddress& dst, uint8_t protocol,
                    size_t payload_size, std::vector<uint8_t>* out) {
  const size_t at = out->size();
  if (src.v4) {
    out->resize(at + kIpv4MinHeader, 0);
    uint8_t* h = out->data() + at;
    h[0] = 0x45;
    StoreBe16(h + 2, static_cast<uint16_t>(kIpv4MinHeader + payload_size));
    h[8] = 64;  // TTL
    h[9] = protocol;
    std::memcpy(h + 12, src.bytes.data(), 4);
    std::memcpy(h + 16, dst.bytes.data(), 4);
    StoreBe16(h + 10, ChecksumFinish(ChecksumAdd(0, {h, kIpv4MinHeader})));
  } else {
    out->resize(at + kIpv6Header, 0);
    uint8_t* h = out->data() + at;
    h[0] = 0x60;
    StoreBe16(h + 4, static_cast<uint16_t>(payload_size));
    h[6] = protocol;
    h[7] = 64;  // hop limit
    std::memcpy(h + 8, src.bytes.data(), 16);
    std::memcpy(h + 24, dst.bytes.data(), 16);
  }
}

std::vector<uint8_t> BuildUdpPacket(const IpAddress& src, const IpAddress& dst, uint16_t src_port,
                                    uint16_t dst_port, std::span<const uint8_t> payload) {
  const RawAddress s = RawAddress::From(src), d = RawAddress::From(dst);
  const size_t udp_len = 8 + payload.size();
  std::vector<uint8_t> out;
  AppendIpHeader(s, d, kProtoUdp, udp_len, &out);
  const size_t at = out.size();
  out.resize(at + 8);
  StoreBe16(&out[at], src_port);
  StoreBe16(&out[at + 2], dst_port);
  StoreBe16(&out[at + 4], static_cast<uint16_t>(udp_len));
  out.insert(out.end(), payload.begin(), payload.end());
  // Pseudo-header (RFC 768; RFC 8200 §8.1).
  const size_t alen = s.v4 ? 4 : 16;
  uint32_t sum = ChecksumAdd(0, {s.bytes.data(), alen});
  sum = ChecksumAdd(sum, {d.bytes.data(), alen});
  sum += kProtoUdp + static_cast<uint32_t>(udp_len);
  sum = ChecksumAdd(sum, {out.data() + at, udp_len});
  uint16_t c = ChecksumFinish(sum);
  if (c == 0) c = 0xffff;
  StoreBe16(&out[at + 6], c);
  return out;
}

}  // namespace ikeless::datapath::esp
