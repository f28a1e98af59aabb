#include "controller/pki/serial.h"

#include <array>
#include <cstdint>

#include "absl/strings/ascii.h"

namespace ikeless::pki {

absl::StatusOr<Asn1StringPtr> RandomSerial(RandomSource& random) {
  std::array<uint8_t, 16> bytes;
  // All zero has probability 2^-128; retry rather than special-case.
  do {
    random.Fill(bytes.data(), bytes.size());
  } while (bytes == std::array<uint8_t, 16>{});
  // A BIGNUM is unsigned, so the value is positive whatever the top bit;
  // DER then adds a 0x00 octet when needed (17 octets at most).
  BignumPtr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
  if (bn == nullptr) return OpenSslError(absl::StatusCode::kInternal, "serial");
  Asn1StringPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (serial == nullptr) return OpenSslError(absl::StatusCode::kInternal, "serial");
  return serial;
}

absl::StatusOr<std::string> SerialHex(const ASN1_INTEGER* serial) {
  if (serial == nullptr) return absl::InvalidArgumentError("serial: missing");
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (bn == nullptr) return OpenSslError(absl::StatusCode::kInvalidArgument, "serial: malformed");
  if (BN_is_negative(bn.get())) return absl::InvalidArgumentError("serial: negative");
  OpenSslStringPtr hex(BN_bn2hex(bn.get()));
  if (hex == nullptr) return OpenSslError(absl::StatusCode::kInternal, "serial");
  return absl::AsciiStrToLower(hex.get());
}

}  // namespace ikeless::pki
