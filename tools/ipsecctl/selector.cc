#include "tools/ipsecctl/selector.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/ipsecctl/numbers.h"

namespace ikeless::ipsecctl {
namespace {

// IANA protocol numbers that have a name in selector specs.
struct NamedProtocol {
  const char* name;
  uint32_t number;
  bool has_ports;
};
constexpr NamedProtocol kProtocols[] = {
    {"icmp", 1, false},
    {"tcp", 6, true},
    {"udp", 17, true},
    {"icmpv6", 58, false},
};

const NamedProtocol* FindProtocol(absl::string_view name) {
  for (const auto& p : kProtocols) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

const NamedProtocol* FindProtocol(uint32_t number) {
  for (const auto& p : kProtocols) {
    if (number == p.number) return &p;
  }
  return nullptr;
}

absl::Status Malformed(absl::string_view spec, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("'", spec.substr(0, 32), "' ", why,
                   " (any, tcp, udp, icmp, icmpv6, tcp/PORT, udp/PORT, proto/N or N)"));
}

}  // namespace

absl::StatusOr<v1::Selector> ParseSelector(absl::string_view spec) {
  v1::Selector selector;
  if (spec == "any") return selector;
  size_t slash = spec.find('/');
  absl::string_view head = spec.substr(0, slash);
  absl::string_view tail =
      slash == absl::string_view::npos ? absl::string_view() : spec.substr(slash + 1);
  bool has_tail = slash != absl::string_view::npos;

  if (head == "proto" || (!has_tail && !head.empty() && head[0] >= '0' && head[0] <= '9')) {
    absl::string_view number_text = head == "proto" ? tail : head;
    if (head == "proto" && !has_tail) return Malformed(spec, "needs a protocol number");
    auto number = ParseUnsigned(number_text, 255);
    if (!number.ok()) return Malformed(spec, "needs a protocol number 0..255");
    selector.set_protocol(static_cast<uint32_t>(*number));
    return selector;
  }

  const NamedProtocol* protocol = FindProtocol(head);
  if (protocol == nullptr) return Malformed(spec, "is not a selector");
  selector.set_protocol(protocol->number);
  if (!has_tail) return selector;
  if (!protocol->has_ports) return Malformed(spec, "has a port but the protocol has none");
  auto port = ParseUnsigned(tail, 65535);
  if (!port.ok() || *port == 0) return Malformed(spec, "needs a port 1..65535");
  selector.set_port(static_cast<uint32_t>(*port));
  return selector;
}

std::string FormatSelector(const v1::Selector& selector) {
  if (selector.protocol() == 0 && selector.port() == 0) return "any";
  const NamedProtocol* named = FindProtocol(selector.protocol());
  std::string protocol =
      named != nullptr ? std::string(named->name) : absl::StrCat("proto/", selector.protocol());
  if (selector.port() == 0) return protocol;
  if (named != nullptr && named->has_ports) return absl::StrCat(protocol, "/", selector.port());
  return absl::StrCat(protocol, " port ", selector.port());
}

}  // namespace ikeless::ipsecctl
