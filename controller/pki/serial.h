#ifndef IKELESS_CONTROLLER_PKI_SERIAL_H_
#define IKELESS_CONTROLLER_PKI_SERIAL_H_

// Certificate serial numbers: 128 random bits read as a positive integer
// (RFC 5280 4.1.2.2: positive, at most 20 octets; random so that they are
// unique without a counter and unpredictable to a requester), and their
// one text form, shared by the CA's answer and by identity parsing so that
// the two always compare equal.

#include <string>

#include "absl/status/statusor.h"
#include "common/random.h"
#include "controller/pki/openssl_util.h"

namespace ikeless::pki {

// A fresh serial from `random`: 16 bytes, never zero.
absl::StatusOr<Asn1StringPtr> RandomSerial(RandomSource& random);

// Lowercase hex of the serial's value, two digits per byte, without
// leading zero bytes ("0f3a..."), or INVALID_ARGUMENT for a negative or
// malformed serial.
absl::StatusOr<std::string> SerialHex(const ASN1_INTEGER* serial);

}  // namespace ikeless::pki

#endif  // IKELESS_CONTROLLER_PKI_SERIAL_H_
