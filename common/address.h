#ifndef IKELESS_COMMON_ADDRESS_H_
#define IKELESS_COMMON_ADDRESS_H_

// IPv4/IPv6 addresses and prefixes as policies and requests name them. Every
// address that enters the system goes through Parse*, which rejects
// malformed text with a message naming the problem and yields one canonical
// spelling (so "fd00::0001" and "fd00::1" are the same node).

#include <array>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace ikeless {

class IpAddress {
 public:
  IpAddress() = default;
  // "198.18.0.1" or "fd00::1". No zone ids, no brackets.
  static absl::StatusOr<IpAddress> Parse(absl::string_view text);

  bool is_v4() const { return v4_; }
  int bits() const { return v4_ ? 32 : 128; }
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }  // v4: first 4
  std::string ToString() const;

  // True if the first `len` bits equal those of `other` (same family).
  bool SharesPrefix(const IpAddress& other, int len) const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.v4_ == b.v4_ && a.bytes_ == b.bytes_;
  }

 private:
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};
};

// An address, a CIDR prefix, or the wildcard "*" (every address of both
// families, FIG. 30 "all other combinations").
class AddressMatch {
 public:
  static absl::StatusOr<AddressMatch> Parse(absl::string_view text);

  bool is_wildcard() const { return wildcard_; }
  // Prefix length; a single address is a /32 or /128; the wildcard is -1 so
  // that any prefix is more specific than it.
  int specificity() const { return wildcard_ ? -1 : len_; }
  bool Contains(const IpAddress& a) const;
  std::string ToString() const;  // canonical: "*", "198.18.0.0/24", "fd00::1"
  // Always with a length ("198.18.0.1/32"): the SPD's spelling. "*" stays.
  std::string ToCidr() const;
  // Same family and one contains the other (the wildcard overlaps all).
  bool Overlaps(const AddressMatch& other) const;
  bool is_v4() const { return net_.is_v4(); }

 private:
  bool wildcard_ = false;
  IpAddress net_;
  int len_ = 0;
};

// Parses an address and returns its canonical text, or INVALID_ARGUMENT
// naming `field`.
absl::StatusOr<std::string> CanonicalAddress(absl::string_view text,
                                             absl::string_view field);

}  // namespace ikeless

#endif  // IKELESS_COMMON_ADDRESS_H_
