#ifndef IKELESS_DATAPATH_ESP_HMAC_H_
#define IKELESS_DATAPATH_ESP_HMAC_H_

// HMAC (RFC 2104) keyed once and reused for many messages: the ESP integrity
// check of the non-AEAD suites, HMAC-SHA2-256-128/384-192/512-256 (RFC 4868)
// and HMAC-SHA1-96 (RFC 2404). One instance per SA; per packet only
// Start/Update/Finish run, never the key schedule.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"

struct evp_mac_st;
struct evp_mac_ctx_st;

namespace ikeless::datapath::esp {

class Hmac {
 public:
  enum class Hash { kSha1, kSha256, kSha384, kSha512 };

  // The key is copied into libcrypto's context and cleansed when it is freed.
  static absl::StatusOr<std::unique_ptr<Hmac>> Create(Hash hash,
                                                      std::span<const uint8_t> key);
  ~Hmac();
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  size_t digest_size() const { return digest_size_; }

  // One MAC computation. Each returns false only if libcrypto fails.
  bool Start();
  bool Update(std::span<const uint8_t> data);
  // Writes the first out.size() (<= digest_size()) octets of the MAC: the
  // truncation of RFC 2104 §5 that RFC 4868 §2.3 and RFC 2404 §2 use.
  bool Finish(std::span<uint8_t> out);

 private:
  Hmac(evp_mac_st* mac, evp_mac_ctx_st* ctx, size_t digest_size)
      : mac_(mac), ctx_(ctx), digest_size_(digest_size) {}

  evp_mac_st* mac_;
  evp_mac_ctx_st* ctx_;
  size_t digest_size_;
};

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_HMAC_H_
