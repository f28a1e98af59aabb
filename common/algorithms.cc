#include "common/algorithms.h"

#include "absl/strings/str_join.h"

namespace ikeless {
namespace {

const std::vector<EncryptionInfo>& EncryptionTable() {
  static const auto* t = new std::vector<EncryptionInfo>{
      {v1::ENCRYPTION_AES_GCM_16, "aes-gcm-16", true, {128, 256, 192}, 4, 8, 4, 16, false,
       "RFC 4106"},
      {v1::ENCRYPTION_CHACHA20_POLY1305, "chacha20-poly1305", true, {256}, 4, 8, 4, 16, false,
       "RFC 7634"},
      {v1::ENCRYPTION_AES_CBC, "aes-cbc", false, {128, 256, 192}, 0, 16, 16, 0, false,
       "RFC 3602"},
      {v1::ENCRYPTION_NULL, "null", false, {0}, 0, 0, 4, 0, false, "RFC 2410"},
      {v1::ENCRYPTION_DES_CBC, "des-cbc", false, {64}, 0, 8, 8, 0, true, "RFC 2405"},
      {v1::ENCRYPTION_3DES_CBC, "3des-cbc", false, {192}, 0, 8, 8, 0, true, "RFC 2451"},
  };
  return *t;
}

const std::vector<IntegrityInfo>& IntegrityTable() {
  static const auto* t = new std::vector<IntegrityInfo>{
      {v1::INTEGRITY_NONE, "none", 0, 0, false, "RFC 4303"},
      {v1::INTEGRITY_HMAC_SHA2_256_128, "hmac-sha2-256-128", 32, 16, false, "RFC 4868"},
      {v1::INTEGRITY_HMAC_SHA2_384_192, "hmac-sha2-384-192", 48, 24, false, "RFC 4868"},
      {v1::INTEGRITY_HMAC_SHA2_512_256, "hmac-sha2-512-256", 64, 32, false, "RFC 4868"},
      {v1::INTEGRITY_HMAC_SHA1_96, "hmac-sha1-96", 20, 12, false, "RFC 2404"},
      {v1::INTEGRITY_HMAC_MD5_96, "hmac-md5-96", 16, 12, true, "RFC 2403"},
  };
  return *t;
}

}  // namespace

const EncryptionInfo* FindEncryption(v1::EncryptionAlgorithm id) {
  for (const auto& e : EncryptionTable()) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

const EncryptionInfo* FindEncryption(absl::string_view name) {
  for (const auto& e : EncryptionTable()) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

const IntegrityInfo* FindIntegrity(v1::IntegrityAlgorithm id) {
  for (const auto& e : IntegrityTable()) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

const IntegrityInfo* FindIntegrity(absl::string_view name) {
  for (const auto& e : IntegrityTable()) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

std::string EncryptionNames() {
  return absl::StrJoin(EncryptionTable(), ", ",
                       [](std::string* out, const EncryptionInfo& e) { out->append(e.name); });
}

std::string IntegrityNames() {
  return absl::StrJoin(IntegrityTable(), ", ",
                       [](std::string* out, const IntegrityInfo& e) { out->append(e.name); });
}

}  // namespace ikeless
