#include "datapath/esp/esp_packet.h"

#include <string>

#include "common/random.h"
#include "datapath/esp/test_util.h"
#include "datapath/esp/transform.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

using testing::Hex;
using testing::ToHex;

v1::SaParameters Params(v1::EncryptionAlgorithm enc, const std::vector<uint8_t>& key,
                        const std::vector<uint8_t>& salt, v1::IntegrityAlgorithm integ,
                        size_t integ_key_size) {
  v1::SaParameters sa;
  sa.set_encryption(enc);
  sa.set_integrity(integ);
  sa.set_encryption_key(std::string(key.begin(), key.end()));
  sa.set_salt(std::string(salt.begin(), salt.end()));
  sa.set_integrity_key(std::string(integ_key_size, '\x33'));
  return sa;
}

EspGeometry GeometryOf(const EspTransform& t) {
  return {t.iv_size(), t.icv_size(), t.block_size()};
}

// A complete packet from a source document: what FrameEsp + Seal with the
// source's IV must reproduce, and what decoding must take apart.
struct FrameVector {
  const char* name;
  v1::EncryptionAlgorithm enc;
  const char* key;
  const char* salt;
  uint32_t spi;
  uint32_t seq;
  const char* iv;
  const char* payload;
  uint8_t next_header;
  // Without ICV for the RFC 3602 cases (they predate integrity there: we
  // append HMAC-SHA2-256-128 and compare the rest), with it for AEAD.
  const char* packet;
};

const FrameVector kVectors[] = {
    // RFC 3602 §4 case 5: transport-mode ICMP, 64 octets -> 14 octets padding.
    {"RFC 3602 case 5", v1::ENCRYPTION_AES_CBC, "90d382b410eeba7ad938c46cec1a82bf", "", 0x4321, 1,
     "e96e8c08ab465763fd098d45dd3ff893",
     "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f3031323334353637",
     1,
     "0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849"
     "a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c"
     "538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6"},
    // Case 6: 28 octets -> 2 octets padding.
    {"RFC 3602 case 6", v1::ENCRYPTION_AES_CBC, "90d382b410eeba7ad938c46cec1a82bf", "", 0x4321, 8,
     "69d08df7d203329db093fc4924e5bd80", "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777",
     1,
     "000043210000000869d08df7d203329db093fc4924e5bd80f51995881ec4e0c4488987ce742e8109"
     "689bb379d2d750c0d915dca346a89f75"},
    // Case 7: tunnel mode (next header 4), an 84-octet IPv4 packet.
    {"RFC 3602 case 7", v1::ENCRYPTION_AES_CBC, "0123456789abcdef0123456789abcdef", "", 0x8765, 2,
     "f4e765244f6407adf13dc1380f673f37",
     "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b"
     "0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233"
     "34353637",
     4,
     "0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c"
     "237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b"
     "8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d"},
    // Case 8: tunnel mode, 68 octets.
    {"RFC 3602 case 8", v1::ENCRYPTION_AES_CBC, "0123456789abcdef0123456789abcdef", "", 0x8765, 5,
     "85d47224b5f3dd5d2101d4ea8dffab22",
     "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083da3de0300ffffffff"
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     4,
     "000087650000000585d47224b5f3dd5d2101d4ea8dffab2215b92683819596a8047232cc00f7048f"
     "e45318e11f8a0f62ede3c3fc61203bb50f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de"
     "435e7207ed971ef3d2726d9b5ef6affc6d17a0decbb13892"},
    // draft-mcgrew-gcm-test-01 case 2: a 62-octet DNS query, no padding.
    {"gcm-test-01 case 2", v1::ENCRYPTION_AES_GCM_16, "feffe9928665731c6d6a8f9467308308",
     "cafebabe", 0xa5f8, 10, "facedbaddecaf888",
     "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000"
     "037369700963796265726369747902646b0000010001",
     1,
     "0000a5f80000000afacedbaddecaf888deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f"
     "1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
     "83b70d3aa8bc6ee4c309e9d85a41ad4a"},
    // RFC 7634 Appendix A: tunnel mode ICMP over ChaCha20-Poly1305, 2 octets
    // padding.
    {"RFC 7634 Appendix A", v1::ENCRYPTION_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "a0a1a2a3", 0x01020304, 5,
     "1011121314151617",
     "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec100007362708090a0b"
     "0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233"
     "34353637",
     4,
     "01020304000000051011121314151617"
     "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
     "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
     "cbec163fac469b502773f6fb94e664da9165b82829f641e076aaa8266b7fb0f7b11b369907e1ad43"},
};

TEST(EspPacketTest, FramesAndDecodesSourcePackets) {
  for (const FrameVector& v : kVectors) {
    SCOPED_TRACE(v.name);
    const bool cbc = v.enc == v1::ENCRYPTION_AES_CBC;
    auto t = MakeTransform(
        Params(v.enc, Hex(v.key), Hex(v.salt),
               cbc ? v1::INTEGRITY_HMAC_SHA2_256_128 : v1::INTEGRITY_NONE, cbc ? 32 : 0),
        CryptoRandom::Get());
    ASSERT_TRUE(t.ok()) << t.status();
    const EspGeometry g = GeometryOf(**t);
    const std::vector<uint8_t> payload = Hex(v.payload);
    const std::vector<uint8_t> want = Hex(v.packet);

    std::vector<uint8_t> packet;
    EspLayout l = FrameEsp(v.spi, v.seq, g, payload, v.next_header, &packet);
    ASSERT_EQ(l.total_size, packet.size());
    ASSERT_EQ(l.total_size, want.size() + (cbc ? g.icv_size : 0));
    std::span<uint8_t> p(packet);
    std::vector<uint8_t> iv = Hex(v.iv);
    std::copy(iv.begin(), iv.end(), packet.begin() + l.iv_offset);
    ASSERT_TRUE((*t)->Seal({v.spi, v.seq, false}, p.subspan(l.iv_offset, g.iv_size),
                           p.subspan(l.text_offset, l.text_size), p.subspan(l.icv_offset))
                    .ok());
    EXPECT_EQ(ToHex(p.first(want.size())), ToHex(want));

    // Decode what we sent: header, layout, ICV + decryption, trailer.
    auto header = ParseEspHeader(packet);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->spi, v.spi);
    EXPECT_EQ(header->seq_lo, v.seq);
    EspLayout r;
    ASSERT_EQ(LocateEsp(packet.size(), g, &r), EspError::kOk);
    EXPECT_EQ(r.text_offset, l.text_offset);
    EXPECT_EQ(r.text_size, l.text_size);
    ASSERT_TRUE((*t)->Open({v.spi, v.seq, false}, p.subspan(r.iv_offset, g.iv_size),
                           p.subspan(r.text_offset, r.text_size), p.subspan(r.icv_offset))
                    .ok());
    EspTrailer trailer;
    ASSERT_EQ(ParseEspTrailer(p.subspan(r.text_offset, r.text_size), &trailer), EspError::kOk);
    EXPECT_EQ(trailer.next_header, v.next_header);
    EXPECT_EQ(ToHex(p.subspan(r.text_offset, trailer.payload_size)), ToHex(payload));
  }
}

TEST(EspPacketTest, PaddingIsMonotonicAndAligned) {
  for (size_t block : {4u, 16u}) {
    for (size_t n = 0; n < 40; ++n) {
      std::vector<uint8_t> payload(n, 0xee), out;
      EspLayout l = FrameEsp(0x1234, 7, {8, 16, block}, payload, 41, &out);
      ASSERT_EQ(l.text_size % block, 0u);
      ASSERT_LT(l.text_size - n - 2, block);  // minimal padding
      const size_t pad = l.text_size - n - 2;
      for (size_t i = 0; i < pad; ++i) ASSERT_EQ(out[l.text_offset + n + i], i + 1);
      EXPECT_EQ(out[l.text_offset + n + pad], pad);
      EXPECT_EQ(out[l.text_offset + n + pad + 1], 41);
      EXPECT_EQ(out.size(), 8 + 8 + l.text_size + 16);
    }
  }
}

TEST(EspPacketTest, HeaderTooShort) {
  std::vector<uint8_t> seven(7, 1);
  EXPECT_FALSE(ParseEspHeader(seven).has_value());
}

TEST(EspPacketTest, LocateRejectsTruncatedAndMisaligned) {
  const EspGeometry cbc{16, 16, 16};
  EspLayout l;
  EXPECT_EQ(LocateEsp(8 + 16 + 16 + 15, cbc, &l), EspError::kTruncated);
  EXPECT_EQ(LocateEsp(8 + 16 + 16 + 16, cbc, &l), EspError::kOk);
  EXPECT_EQ(LocateEsp(8 + 16 + 20 + 16, cbc, &l), EspError::kMisaligned);
  const EspGeometry gcm{8, 16, 4};
  EXPECT_EQ(LocateEsp(8 + 8 + 3 + 16, gcm, &l), EspError::kTruncated);
  EXPECT_EQ(LocateEsp(8 + 8 + 4 + 16, gcm, &l), EspError::kOk);
  EXPECT_EQ(LocateEsp(8 + 8 + 6 + 16, gcm, &l), EspError::kMisaligned);
}

TEST(EspPacketTest, TrailerChecks) {
  EspTrailer t;
  EXPECT_EQ(ParseEspTrailer(Hex("aabbcc 01 02 02 04"), &t), EspError::kOk);
  EXPECT_EQ(t.payload_size, 3u);
  EXPECT_EQ(t.next_header, 4);
  EXPECT_EQ(ParseEspTrailer(Hex("aabb 0004"), &t), EspError::kOk);
  EXPECT_EQ(t.payload_size, 2u);
  EXPECT_EQ(ParseEspTrailer(Hex("aabbcc 01 03 02 04"), &t), EspError::kBadPadding);
  EXPECT_EQ(ParseEspTrailer(Hex("aabbcc 00 00 02 04"), &t), EspError::kBadPadding);
  EXPECT_EQ(ParseEspTrailer(Hex("01 02 03 04"), &t), EspError::kBadPadLength);
  EXPECT_EQ(ParseEspTrailer(Hex("aabbcc 01 02 02 3b"), &t), EspError::kDummy);
  EXPECT_EQ(ParseEspTrailer(Hex("04"), &t), EspError::kTruncated);
  EXPECT_STREQ(EspErrorName(EspError::kBadPadding), "bad_padding");
}

}  // namespace
}  // namespace ikeless::datapath::esp
