#ifndef IKELESS_CONTROLLER_SA_GENERATOR_H_
#define IKELESS_CONTROLLER_SA_GENERATOR_H_

// S10: SA parameters for one direction from a normalised policy, the
// receiver's SPI and fresh random keys (FIG. 5). Key, salt and ICV sizes come
// from common/algorithms.h.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/random.h"
#include "proto/policy.pb.h"

namespace ikeless::controller {

// `sender` -> `receiver`, received on `receiver_spi`. The result holds key
// material: the caller wipes it (common/secret.h) when done.
absl::StatusOr<v1::SaParameters> MakeSaParameters(const v1::Policy& policy,
                                                  const v1::Selector& selector,
                                                  absl::string_view sender,
                                                  absl::string_view receiver,
                                                  uint32_t receiver_spi,
                                                  RandomSource& random);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_SA_GENERATOR_H_
