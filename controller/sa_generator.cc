#include "controller/sa_generator.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/algorithms.h"

namespace ikeless::controller {
namespace {

std::string RandomBytes(RandomSource& random, size_t n) {
  std::string s(n, '\0');
  random.Fill(reinterpret_cast<uint8_t*>(s.data()), n);
  return s;
}

}  // namespace

absl::StatusOr<v1::SaParameters> MakeSaParameters(const v1::Policy& policy,
                                                  const v1::Selector& selector,
                                                  absl::string_view sender,
                                                  absl::string_view receiver,
                                                  uint32_t receiver_spi,
                                                  RandomSource& random) {
  const EncryptionInfo* enc = FindEncryption(policy.encryption());
  const IntegrityInfo* integ = FindIntegrity(policy.integrity());
  if (enc == nullptr || integ == nullptr) {
    // Policies are normalised before they are stored; this is a bug or a
    // database edited by hand.
    return absl::FailedPreconditionError(
        absl::StrCat("policy '", policy.name(), "' has an unknown algorithm"));
  }
  v1::SaParameters sa;
  sa.set_spi(receiver_spi);
  sa.set_source(std::string(sender));
  sa.set_destination(std::string(receiver));
  sa.set_protocol(policy.protocol());
  sa.set_mode(policy.mode());
  sa.set_encryption(policy.encryption());
  sa.set_integrity(policy.integrity());
  // FIG. 5: encryption key, authentication key and "IV" (here the AEAD
  // salt) all come from the random number generator, fresh per direction.
  sa.set_encryption_key(RandomBytes(random, policy.encryption_key_bits() / 8));
  sa.set_integrity_key(RandomBytes(random, integ->key_bytes));
  sa.set_salt(RandomBytes(random, enc->salt_bytes));
  *sa.mutable_lifetime() = policy.lifetime();
  sa.set_replay_window(policy.replay_window());
  sa.set_extended_sequence_numbers(true);
  *sa.mutable_selector() = selector;
  return sa;
}

}  // namespace ikeless::controller
