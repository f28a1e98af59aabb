#include "common/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ikeless {

absl::StatusOr<IpAddress> IpAddress::Parse(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty address");
  if (text.size() > INET6_ADDRSTRLEN) {
    return absl::InvalidArgumentError("address too long");
  }
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
    a.v4_ = true;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
    a.v4_ = false;
    return a;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", s.substr(0, 64), "' is not an IPv4 or IPv6 address"));
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::SharesPrefix(const IpAddress& other, int len) const {
  if (v4_ != other.v4_) return false;
  int full = len / 8;
  if (std::memcmp(bytes_.data(), other.bytes_.data(), full) != 0) return false;
  int rest = len % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes_[full] & mask) == (other.bytes_[full] & mask);
}

absl::StatusOr<AddressMatch> AddressMatch::Parse(absl::string_view text) {
  AddressMatch m;
  if (text == "*" || text == "any") {
    m.wildcard_ = true;
    return m;
  }
  size_t slash = text.find('/');
  auto addr = IpAddress::Parse(text.substr(0, slash));
  if (!addr.ok()) return addr.status();
  m.net_ = *addr;
  m.len_ = m.net_.bits();
  if (slash != absl::string_view::npos) {
    int len;
    absl::string_view len_text = text.substr(slash + 1);
    if (!absl::SimpleAtoi(len_text, &len) || len < 0 || len > m.net_.bits() ||
        len_text.empty() || len_text[0] == '+' || len_text[0] == '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "prefix length '", len_text.substr(0, 8), "' must be 0..", m.net_.bits()));
    }
    m.len_ = len;
    // Host bits must be zero: "198.18.0.1/24" is almost always a typo.
    for (int bit = len; bit < m.net_.bits(); ++bit) {
      if (m.net_.bytes()[bit / 8] & (0x80 >> (bit % 8))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'", text, "' has host bits set; did you mean the network address?"));
      }
    }
  }
  return m;
}

bool AddressMatch::Contains(const IpAddress& a) const {
  if (wildcard_) return true;
  return net_.SharesPrefix(a, len_);
}

std::string AddressMatch::ToCidr() const {
  if (wildcard_) return "*";
  return absl::StrCat(net_.ToString(), "/", len_);
}

bool AddressMatch::Overlaps(const AddressMatch& other) const {
  if (wildcard_ || other.wildcard_) return true;
  if (net_.is_v4() != other.net_.is_v4()) return false;
  return len_ <= other.len_ ? Contains(other.net_) : other.Contains(net_);
}

std::string AddressMatch::ToString() const {
  if (wildcard_) return "*";
  if (len_ == net_.bits()) return net_.ToString();
  return absl::StrCat(net_.ToString(), "/", len_);
}

absl::StatusOr<std::string> CanonicalAddress(absl::string_view text,
                                             absl::string_view field) {
  auto a = IpAddress::Parse(text);
  if (!a.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", a.status().message()));
  }
  return a->ToString();
}

}  // namespace ikeless
