#include "storage/sa_blob_codec.h"

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/secret.h"

namespace ikeless::storage {

std::string SealContext(SaColumn where) {
  return absl::StrCat("ikeless/association/", where.id, "/", where.name);
}

absl::Status EncodeSaParameters(const v1::SaParameters& sa, const KeySealer* sealer, SaColumn where,
                                std::string* out) {
  if (sealer == nullptr) {
    sa.SerializeToString(out);
    return absl::OkStatus();
  }
  // SerializeToString sizes the string once, so no reallocation leaves a
  // stray copy of the keys before this one is wiped.
  std::string plain;
  sa.SerializeToString(&plain);
  absl::StatusOr<std::string> sealed = sealer->Seal(plain, SealContext(where));
  WipeString(&plain);
  if (!sealed.ok()) return sealed.status();
  *out = *std::move(sealed);
  return absl::OkStatus();
}

absl::Status DecodeSaParameters(absl::string_view stored, const KeySealer* sealer, SaColumn where,
                                v1::SaParameters* out) {
  out->Clear();
  auto error = [&](absl::StatusCode code, absl::string_view why) {
    return absl::Status(code, absl::StrCat("association ", where.id, ": ", where.name, why));
  };
  std::string opened;
  absl::string_view plain = stored;
  if (sealer == nullptr) {
    if (KeySealer::LooksSealed(stored)) {
      return error(absl::StatusCode::kDataLoss,
                   absl::StrCat(" is sealed with key-encryption key ",
                                KeySealer::SealedKeyId(stored).value_or("(unknown)"),
                                ", but the store was opened without one"));
    }
  } else {
    // A plaintext blob would parse fine; refuse it so that a database with
    // keys in the clear is noticed, not quietly used.
    if (!KeySealer::LooksSealed(stored)) {
      return error(absl::StatusCode::kDataLoss,
                   " is not sealed (it was written without a key-encryption key)");
    }
    absl::StatusOr<std::string> o = sealer->Open(stored, SealContext(where));
    if (!o.ok()) return error(o.status().code(), absl::StrCat(": ", o.status().message()));
    opened = *std::move(o);
    plain = opened;
  }
  bool parsed = plain.empty() || out->ParseFromArray(plain.data(), static_cast<int>(plain.size()));
  WipeString(&opened);
  if (!parsed) {
    WipeKeys(out);  // a partial parse may hold key bytes
    return error(absl::StatusCode::kDataLoss, ": stored SA parameters do not parse");
  }
  return absl::OkStatus();
}

}  // namespace ikeless::storage
