#include "datapath/esp/transform.h"

#include <string>
#include <vector>

#include "common/random.h"
#include "datapath/esp/hmac.h"
#include "datapath/esp/test_util.h"
#include "datapath/esp/wire.h"
#include "gtest/gtest.h"

namespace ikeless::datapath::esp {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::ToHex;

v1::SaParameters Params(v1::EncryptionAlgorithm enc, const std::vector<uint8_t>& key,
                        const std::vector<uint8_t>& salt,
                        v1::IntegrityAlgorithm integ = v1::INTEGRITY_NONE,
                        const std::vector<uint8_t>& integ_key = {}) {
  v1::SaParameters sa;
  sa.set_protocol(v1::IPSEC_PROTOCOL_ESP);
  sa.set_encryption(enc);
  sa.set_integrity(integ);
  sa.set_encryption_key(std::string(key.begin(), key.end()));
  sa.set_salt(std::string(salt.begin(), salt.end()));
  sa.set_integrity_key(std::string(integ_key.begin(), integ_key.end()));
  return sa;
}

// One AEAD known answer: the complete ESP packet as the source prints it.
struct AeadVector {
  const char* name;
  v1::EncryptionAlgorithm enc;
  const char* key;
  const char* salt;
  uint32_t spi;
  uint64_t seq;
  bool esn;
  const char* iv;
  const char* plaintext;  // payload || padding || pad length || next header
  const char* packet;     // SPI || seq_lo || IV || ciphertext || ICV
};

// draft-mcgrew-gcm-test-01 §4 (AES-GCM ESP packets, 32- and 64-bit
// sequence numbers) and RFC 7634 Appendix A (ChaCha20-Poly1305 ESP).
const AeadVector kAeadVectors[] = {
    {"gcm-test-01 case 1 (ESN)", v1::ENCRYPTION_AES_GCM_16, "4c80cdefbb5d10da906ac73c3613a634",
     "2e443b68", 0x00004321, 0x8765432100000000, true, "4956ed7e3b244cfe",
     "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
     "00000000045f736970045f7564700373697009637962657263697479"
     "02646b000021000101020201",
     "00004321000000004956ed7e3b244cfe"
     "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
     "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
     "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4"},
    {"gcm-test-01 case 2", v1::ENCRYPTION_AES_GCM_16, "feffe9928665731c6d6a8f9467308308",
     "cafebabe", 0x0000a5f8, 0x0a, false, "facedbaddecaf888",
     "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
     "0001000000000000037369700963796265726369747902646b00000100010001",
     "0000a5f80000000afacedbaddecaf888"
     "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
     "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
     "83b70d3aa8bc6ee4c309e9d85a41ad4a"},
    {"gcm-test-01 case 3 (256-bit)", v1::ENCRYPTION_AES_GCM_16,
     "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "11223344", 0x4a2cbfe3,
     2, false, "0102030405060708",
     "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
     "7002400020bf0000020405b40101040201020201",
     "4a2cbfe3000000020102030405060708"
     "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
     "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
     "15956c96"},
    {"gcm-test-01 case 4 (zero key)", v1::ENCRYPTION_AES_GCM_16,
     "00000000000000000000000000000000", "00000000", 0, 1, false, "0000000000000000",
     "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
     "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
     "00000000000000010000000000000000"
     "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
     "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
     "f821d496eeb096e98ad2b69e4799c71d"},
    {"gcm-test-01 case 5 (ESN)", v1::ENCRYPTION_AES_GCM_16, "3de09874b388e6491988d0c3607eae1f",
     "57690e43", 0x42f67e3f, 0x1010101010101010, true, "4e280000a2fca1a3",
     "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
     "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
     "42f67e3f101010104e280000a2fca1a3"
     "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
     "65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a"
     "e0d731cc978ecafaeae88f00e80d6e48"},
    {"gcm-test-01 case 6 (192-bit)", v1::ENCRYPTION_AES_GCM_16,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabe", 0x0000a5f8, 0x0a, false,
     "facedbaddecaf888",
     "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
     "501016d075680001",
     "0000a5f80000000afacedbaddecaf888"
     "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
     "315b27452144cc7795457b9652037f5318027b5b4cd7a636"},
    {"gcm-test-01 case 7 (ESN)", v1::ENCRYPTION_AES_GCM_16, "abbccddef00112233445566778899aab",
     "decaf888", 0x00000100, 1, true, "cafedebaceface74",
     "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
     "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
     "9b6266c04722b14923010101",
     "0000010000000001cafedebaceface74"
     "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
     "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
     "6f2127b27db35724e7845d68651f57e65f354f75ff17015769623436"},
    {"gcm-test-01 case 8 (256-bit, ESN)", v1::ENCRYPTION_AES_GCM_16,
     "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "73616c74", 0x17405e67,
     0x156f3126dd0db99b, true, "616e640169766563",
     "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
     "50101f646d540001",
     "17405e67dd0db99b616e640169766563"
     "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
     "f4d3a31ce673119e451626c2415771e3b7eebca614c89b35"},
    {"gcm-test-01 trailer only", v1::ENCRYPTION_AES_GCM_16, "7d773d00c144c525ac619d18c84a3f47",
     "d9664267", 0x335467ae, 0xffffffff, false, "43457e9182443bc6", "01020201",
     "335467aeffffffff43457e9182443bc6437f866bcb3f699fe9b0822bac961c4504bef270"},
    {"gcm-test-01 seq all ones (256-bit, ESN)", v1::ENCRYPTION_AES_GCM_16,
     "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961", "7475726e",
     0x796b6963, 0xffffffffffffffff, true, "333021696765746d",
     "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
     "65666768696a6b6c6d6e6f707172737401020201",
     "796b6963ffffffff333021696765746d"
     "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
     "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32"
     "9fb4c053"},
    {"RFC 7634 Appendix A", v1::ENCRYPTION_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "a0a1a2a3", 0x01020304,
     5, false, "1011121314151617",
     "450000 54a6f20000 4001e778c6336405c0000205 08005b7a3a080000553bec10"
     "000736270809 0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
     "2425262728292a2b2c2d2e2f3031323334353637 01020204",
     "0102030400000005 1011121314151617"
     "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
     "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
     "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
     "76aaa8266b7fb0f7b11b369907e1ad43"},
    // RFC 7539 §2.8.2: its 12-octet AAD 50515253 c0c1c2c3 c4c5c6c7 is exactly
    // an ESN AAD (SPI, seq_hi, seq_lo) and its nonce 07000000 || 4041..47 a
    // salt and an IV, so the transform reproduces it byte for byte.
    {"RFC 7539 2.8.2", v1::ENCRYPTION_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "07000000", 0x50515253,
     0xc0c1c2c3c4c5c6c7, true, "4041424344454647",
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "50515253c4c5c6c7 4041424344454647"
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116"
     "1ae10b594f09e26a7e902ecbd0600691"},
};

TEST(TransformTest, AeadKnownAnswers) {
  for (const AeadVector& v : kAeadVectors) {
    SCOPED_TRACE(v.name);
    auto t = MakeTransform(Params(v.enc, Hex(v.key), Hex(v.salt)), nullptr);
    ASSERT_TRUE(t.ok()) << t.status();
    const std::vector<uint8_t> plain = Hex(v.plaintext);
    const std::vector<uint8_t> want = Hex(v.packet);
    ASSERT_EQ(want.size(), 8 + 8 + plain.size() + 16);

    // Seal: header || IV || text || ICV must be the source's packet.
    std::vector<uint8_t> packet(want.size());
    StoreBe32(packet.data(), v.spi);
    StoreBe32(packet.data() + 4, static_cast<uint32_t>(v.seq));
    std::vector<uint8_t> iv = Hex(v.iv);
    std::copy(iv.begin(), iv.end(), packet.begin() + 8);
    std::copy(plain.begin(), plain.end(), packet.begin() + 16);
    std::span<uint8_t> all(packet);
    EspAad aad{v.spi, v.seq, v.esn};
    ASSERT_TRUE((*t)->Seal(aad, all.subspan(8, 8), all.subspan(16, plain.size()),
                           all.subspan(16 + plain.size()))
                    .ok());
    EXPECT_EQ(ToHex(packet), ToHex(want));

    // Open the source's packet.
    std::vector<uint8_t> received = want;
    std::span<uint8_t> r(received);
    ASSERT_TRUE((*t)->Open(aad, r.subspan(8, 8), r.subspan(16, plain.size()),
                           r.subspan(16 + plain.size()))
                    .ok());
    EXPECT_EQ(ToHex(r.subspan(16, plain.size())), ToHex(plain));

    // Any flipped bit, or the wrong high sequence half, fails the ICV.
    for (size_t i : {size_t{0}, size_t{5}, size_t{12}, size_t{20}, want.size() - 1}) {
      std::vector<uint8_t> bad = want;
      bad[i] ^= 0x01;
      std::span<uint8_t> b(bad);
      EspAad bad_aad{LoadBe32(bad.data()), (v.seq & ~uint64_t{0xffffffff}) | LoadBe32(&bad[4]),
                     v.esn};
      EXPECT_EQ((*t)->Open(bad_aad, b.subspan(8, 8), b.subspan(16, plain.size()),
                           b.subspan(16 + plain.size()))
                    .code(),
                absl::StatusCode::kDataLoss)
          << "byte " << i;
    }
    if (v.esn) {
      std::vector<uint8_t> bad = want;
      std::span<uint8_t> b(bad);
      EspAad wrong_hi{v.spi, v.seq ^ (uint64_t{1} << 32), true};
      EXPECT_EQ((*t)->Open(wrong_hi, b.subspan(8, 8), b.subspan(16, plain.size()),
                           b.subspan(16 + plain.size()))
                    .code(),
                absl::StatusCode::kDataLoss);
    }
  }
}

// RFC 3602 §4 cases 1 and 2 (raw AES-CBC-128), sealed through the ESP
// transform; the ICV is then HMAC-SHA-256-128 over SPI || seq || IV ||
// ciphertext (RFC 4303 §2.8, RFC 4868 §2.3), checked with the HMAC that
// hmac_test pins to RFC 4231/4868.
TEST(TransformTest, AesCbcKnownAnswersAndIcvInput) {
  struct Case {
    const char* key;
    const char* iv;
    std::vector<uint8_t> plaintext;
    const char* ciphertext;
  };
  std::vector<uint8_t> zero_to_1f;
  for (int i = 0; i < 32; ++i) zero_to_1f.push_back(static_cast<uint8_t>(i));
  const Case cases[] = {
      {"06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
       Bytes("Single block msg"), "e353779c1079aeb82708942dbe77181a"},
      {"c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58", zero_to_1f,
       "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"},
  };
  const std::vector<uint8_t> integ_key(32, 0x0b);
  for (bool esn : {false, true}) {
    for (const Case& c : cases) {
      auto t = MakeTransform(
          Params(v1::ENCRYPTION_AES_CBC, Hex(c.key), {}, v1::INTEGRITY_HMAC_SHA2_256_128,
                 integ_key),
          CryptoRandom::Get());
      ASSERT_TRUE(t.ok()) << t.status();
      EXPECT_EQ((*t)->iv_size(), 16u);
      EXPECT_EQ((*t)->icv_size(), 16u);
      EXPECT_EQ((*t)->block_size(), 16u);
      std::vector<uint8_t> iv = Hex(c.iv);
      std::vector<uint8_t> text = c.plaintext;
      std::vector<uint8_t> icv(16);
      EspAad aad{0x4321, 0x0000000700000009, esn};
      ASSERT_TRUE((*t)->Seal(aad, iv, text, icv).ok());
      EXPECT_EQ(ToHex(text), c.ciphertext);

      auto h = Hmac::Create(Hmac::Hash::kSha256, integ_key);
      ASSERT_TRUE(h.ok());
      std::vector<uint8_t> want(16);
      ASSERT_TRUE((*h)->Start());
      ASSERT_TRUE((*h)->Update(Hex("00004321 00000009")));
      ASSERT_TRUE((*h)->Update(iv));
      ASSERT_TRUE((*h)->Update(text));
      if (esn) {
        ASSERT_TRUE((*h)->Update(Hex("00000007")));  // seq_hi, RFC 4303 §3.3.2.1
      }
      ASSERT_TRUE((*h)->Finish(want));
      EXPECT_EQ(ToHex(icv), ToHex(want));

      ASSERT_TRUE((*t)->Open(aad, iv, text, icv).ok());
      EXPECT_EQ(text, c.plaintext);
    }
  }
}

struct Suite {
  v1::EncryptionAlgorithm enc;
  size_t key_bytes;
  size_t salt_bytes;
  v1::IntegrityAlgorithm integ;
  size_t integ_key_bytes;
  size_t iv, icv, block;
};

const Suite kSuites[] = {
    {v1::ENCRYPTION_AES_GCM_16, 16, 4, v1::INTEGRITY_NONE, 0, 8, 16, 4},
    {v1::ENCRYPTION_AES_GCM_16, 24, 4, v1::INTEGRITY_NONE, 0, 8, 16, 4},
    {v1::ENCRYPTION_AES_GCM_16, 32, 4, v1::INTEGRITY_NONE, 0, 8, 16, 4},
    {v1::ENCRYPTION_CHACHA20_POLY1305, 32, 4, v1::INTEGRITY_NONE, 0, 8, 16, 4},
    {v1::ENCRYPTION_AES_CBC, 16, 0, v1::INTEGRITY_HMAC_SHA2_256_128, 32, 16, 16, 16},
    {v1::ENCRYPTION_AES_CBC, 32, 0, v1::INTEGRITY_HMAC_SHA2_384_192, 48, 16, 24, 16},
    {v1::ENCRYPTION_AES_CBC, 32, 0, v1::INTEGRITY_HMAC_SHA2_512_256, 64, 16, 32, 16},
    {v1::ENCRYPTION_AES_CBC, 16, 0, v1::INTEGRITY_HMAC_SHA1_96, 20, 16, 12, 16},
    {v1::ENCRYPTION_NULL, 0, 0, v1::INTEGRITY_HMAC_SHA2_256_128, 32, 0, 16, 4},
};

TEST(TransformTest, EverySuiteRoundTrips) {
  FakeRandom random(7);
  for (const Suite& s : kSuites) {
    for (bool esn : {false, true}) {
      auto t = MakeTransform(Params(s.enc, std::vector<uint8_t>(s.key_bytes, 0x42),
                                    std::vector<uint8_t>(s.salt_bytes, 0x24), s.integ,
                                    std::vector<uint8_t>(s.integ_key_bytes, 0x17)),
                             &random);
      ASSERT_TRUE(t.ok()) << t.status();
      SCOPED_TRACE((*t)->name());
      EXPECT_EQ((*t)->iv_size(), s.iv);
      EXPECT_EQ((*t)->icv_size(), s.icv);
      EXPECT_EQ((*t)->block_size(), s.block);
      std::vector<uint8_t> plain(s.block * 5, 0);
      for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i * 7);
      std::vector<uint8_t> iv(s.iv), text = plain, icv(s.icv);
      const uint64_t seq = (uint64_t{3} << 32) | 17;
      (*t)->MakeIv(seq, iv);
      EspAad aad{0x1000, seq, esn};
      ASSERT_TRUE((*t)->Seal(aad, iv, text, icv).ok());
      if (s.enc != v1::ENCRYPTION_NULL) {
        EXPECT_NE(text, plain);
      } else {
        EXPECT_EQ(text, plain);  // RFC 2410: NULL encryption is the identity
      }
      std::vector<uint8_t> copy = text;
      ASSERT_TRUE((*t)->Open(aad, iv, copy, icv).ok());
      EXPECT_EQ(copy, plain);
      // Without ESN the high half is not covered; with ESN it is.
      copy = text;
      EspAad other_hi{0x1000, seq + (uint64_t{1} << 32), esn};
      EXPECT_EQ((*t)->Open(other_hi, iv, copy, icv).ok(), !esn);
      copy = text;
      icv[0] ^= 0x80;
      EXPECT_EQ((*t)->Open(aad, iv, copy, icv).code(), absl::StatusCode::kDataLoss);
    }
  }
}

TEST(TransformTest, AeadIvIsTheSequenceNumber) {
  auto t = MakeTransform(
      Params(v1::ENCRYPTION_AES_GCM_16, std::vector<uint8_t>(16, 1), std::vector<uint8_t>(4, 2)),
      nullptr);
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> iv(8);
  (*t)->MakeIv(0x0102030405060708, iv);
  EXPECT_EQ(ToHex(iv), "0102030405060708");
}

TEST(TransformTest, CbcIvIsRandomPerPacket) {
  FakeRandom random(3);
  auto t = MakeTransform(Params(v1::ENCRYPTION_AES_CBC, std::vector<uint8_t>(16, 1), {},
                                v1::INTEGRITY_HMAC_SHA2_256_128, std::vector<uint8_t>(32, 3)),
                         &random);
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> a(16), b(16);
  (*t)->MakeIv(1, a);
  (*t)->MakeIv(1, b);
  EXPECT_NE(a, b);
}

TEST(TransformTest, DefaultsFollowPolicyProto) {
  // ENCRYPTION_UNSPECIFIED = AES-GCM-16; INTEGRITY_UNSPECIFIED = none for
  // AEAD, HMAC-SHA2-256-128 otherwise.
  auto gcm = MakeTransform(Params(v1::ENCRYPTION_UNSPECIFIED, std::vector<uint8_t>(16, 1),
                                  std::vector<uint8_t>(4, 2), v1::INTEGRITY_UNSPECIFIED),
                           nullptr);
  ASSERT_TRUE(gcm.ok()) << gcm.status();
  EXPECT_STREQ((*gcm)->name(), "aes-gcm-16/128");
  auto cbc = MakeTransform(Params(v1::ENCRYPTION_AES_CBC, std::vector<uint8_t>(16, 1), {},
                                  v1::INTEGRITY_UNSPECIFIED, std::vector<uint8_t>(32, 3)),
                           CryptoRandom::Get());
  ASSERT_TRUE(cbc.ok()) << cbc.status();
  EXPECT_STREQ((*cbc)->name(), "aes-cbc/128+hmac-sha2-256-128");
}

TEST(TransformTest, RejectsWithTheFieldNamed) {
  struct Bad {
    v1::SaParameters sa;
    const char* field;
  };
  std::vector<uint8_t> k16(16, 1), k20(20, 1), k32(32, 1), s4(4, 2), s3(3, 2);
  v1::SaParameters ah = Params(v1::ENCRYPTION_AES_GCM_16, k16, s4);
  ah.set_protocol(v1::IPSEC_PROTOCOL_AH);
  const Bad cases[] = {
      {Params(v1::ENCRYPTION_AES_GCM_16, k20, s4), "encryption_key: 20 octets"},
      {Params(v1::ENCRYPTION_CHACHA20_POLY1305, k16, s4), "encryption_key: 16 octets"},
      {Params(v1::ENCRYPTION_AES_GCM_16, k16, s3), "salt: 3 octets"},
      {Params(v1::ENCRYPTION_AES_GCM_16, k16, {}), "salt: 0 octets"},
      {Params(v1::ENCRYPTION_AES_CBC, k16, s4, v1::INTEGRITY_HMAC_SHA2_256_128, k32), "salt: 4"},
      {Params(v1::ENCRYPTION_AES_GCM_16, k16, s4, v1::INTEGRITY_HMAC_SHA2_256_128, k32),
       "integrity: aes-gcm-16 is an AEAD"},
      {Params(v1::ENCRYPTION_AES_CBC, k16, {}, v1::INTEGRITY_NONE), "integrity: aes-cbc needs"},
      {Params(v1::ENCRYPTION_AES_CBC, k16, {}, v1::INTEGRITY_HMAC_SHA2_256_128, k16),
       "integrity_key: 16 octets"},
      {Params(v1::ENCRYPTION_3DES_CBC, std::vector<uint8_t>(24, 1), {},
              v1::INTEGRITY_HMAC_SHA2_256_128, k32),
       "encryption: 3des-cbc is not supported"},
      {Params(v1::ENCRYPTION_AES_CBC, k16, {}, v1::INTEGRITY_HMAC_MD5_96, k16),
       "integrity: hmac-md5-96 is not supported"},
      {ah, "protocol:"},
  };
  for (const Bad& b : cases) {
    auto t = MakeTransform(b.sa, CryptoRandom::Get());
    ASSERT_FALSE(t.ok()) << b.field;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(b.field), absl::string_view::npos)
        << t.status().message() << " lacks " << b.field;
  }
}

}  // namespace
}  // namespace ikeless::datapath::esp
