#include "tools/ipsecctl/policy_flags.h"

#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace ikeless::ipsecctl {
namespace {

using google::protobuf::util::MessageDifferencer;

// Parses "--name value..." as the command line would give it.
absl::Status Parse(const std::string& name, std::vector<std::string> values, PolicyEdits* edits) {
  return ParsePolicyOption(Option{name, std::move(values)}, edits);
}

PolicyEdits ParseOk(const std::string& name, std::vector<std::string> values) {
  PolicyEdits edits;
  absl::Status s = Parse(name, std::move(values), &edits);
  EXPECT_TRUE(s.ok()) << name << ": " << s;
  return edits;
}

// A policy as the controller would return it, every field set.
v1::Policy StoredPolicy() {
  v1::Policy p;
  p.set_name("web");
  p.mutable_a()->set_address("198.18.0.0/24");
  p.mutable_b()->set_address("*");
  p.mutable_selector()->set_protocol(6);
  p.mutable_selector()->set_port(443);
  p.set_priority(10);
  p.set_protocol(v1::IPSEC_PROTOCOL_ESP);
  p.set_mode(v1::MODE_TUNNEL);
  p.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  p.set_encryption_key_bits(256);
  p.set_integrity(v1::INTEGRITY_NONE);
  p.mutable_lifetime()->set_hard_seconds(3600);
  p.mutable_lifetime()->set_soft_seconds(3240);
  p.mutable_lifetime()->set_hard_bytes(1 << 30);
  p.mutable_lifetime()->set_hard_packets(1 << 20);
  p.set_replay_window(256);
  p.set_description("front ends");
  p.set_revision(7);
  return p;
}

TEST(PolicyFlags, EverySpecIsParsed) {
  // Each option the tokeniser accepts must be understood by the parser.
  for (const OptionSpec& spec : PolicyOptionSpecs()) {
    std::vector<std::string> values;
    if (std::string(spec.name) == "--between") values = {"198.18.0.1", "*"};
    if (spec.values == 1) values = {"1"};
    if (std::string(spec.name) == "--action") values = {"bypass"};
    if (std::string(spec.name) == "--protocol") values = {"esp"};
    if (std::string(spec.name) == "--mode") values = {"tunnel"};
    if (std::string(spec.name) == "--encryption") values = {"aes-cbc"};
    if (std::string(spec.name) == "--integrity") values = {"hmac-sha1-96"};
    if (std::string(spec.name) == "--selector") values = {"tcp/22"};
    if (std::string(spec.name) == "--lifetime") values = {"1h"};
    PolicyEdits edits;
    absl::Status s = Parse(spec.name, values, &edits);
    EXPECT_TRUE(s.ok()) << spec.name << ": " << s;
    EXPECT_FALSE(edits.empty()) << spec.name;
  }
}

TEST(PolicyFlags, EveryErrorNamesTheOption) {
  struct Bad {
    const char* name;
    std::vector<std::string> values;
  };
  const Bad cases[] = {
      {"--between", {"198.18.0.1", "nowhere"}},
      {"--between", {"198.18.0.1/24", "*"}},  // host bits set
      {"--between", {"", "*"}},
      {"--action", {"drop"}},
      {"--action", {""}},
      {"--protocol", {"esp3"}},
      {"--mode", {"tunel"}},
      {"--encryption", {"aes-gcm"}},
      {"--key-bits", {"128bits"}},
      {"--key-bits", {"-1"}},
      {"--key-bits", {"4294967296"}},
      {"--integrity", {"sha256"}},
      {"--lifetime", {"0"}},
      {"--lifetime", {"0s"}},
      {"--lifetime", {"7s"}},  // below the controller's floor (common/lifetime_rules.h)
      {"--lifetime", {"1 hour"}},
      {"--lifetime", {""}},
      {"--soft-lifetime", {"ten"}},
      {"--lifetime-bytes", {"1G"}},
      {"--soft-lifetime-bytes", {"-5"}},
      {"--selector", {"tcp/99999"}},
      {"--priority", {"high"}},
      {"--priority", {"2147483648"}},
      {"--replay-window", {"1.5"}},
      {"--allow-legacy", {"yes"}},
  };
  for (const Bad& c : cases) {
    PolicyEdits edits;
    absl::Status s = Parse(c.name, c.values, &edits);
    ASSERT_FALSE(s.ok()) << c.name << " " << (c.values.empty() ? "" : c.values[0]);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    std::string prefix = std::string(c.name) + ": ";
    EXPECT_EQ(s.message().substr(0, prefix.size()), prefix) << s;
    EXPECT_TRUE(edits.empty()) << "a failed option must not be recorded: " << c.name;
  }
}

TEST(PolicyFlags, UnknownAlgorithmListsTheValidNames) {
  PolicyEdits edits;
  absl::Status s = Parse("--encryption", {"blowfish"}, &edits);
  EXPECT_NE(s.message().find("aes-gcm-16"), std::string::npos) << s;
  EXPECT_NE(s.message().find("chacha20-poly1305"), std::string::npos) << s;
  s = Parse("--integrity", {"sha1"}, &edits);
  EXPECT_NE(s.message().find("hmac-sha2-256-128"), std::string::npos) << s;
}

TEST(PolicyFlags, BetweenStoresCanonicalAddresses) {
  PolicyEdits e = ParseOk("--between", {"fd00:0:0::0001", "198.18.0.0/15"});
  EXPECT_EQ(*e.a, "fd00::1");
  EXPECT_EQ(*e.b, "198.18.0.0/15");
  PolicyEdits w = ParseOk("--between", {"*", "any"});
  EXPECT_EQ(*w.a, "*");
  EXPECT_EQ(*w.b, "*");
}

TEST(PolicyFlags, Action) {
  EXPECT_EQ(*ParseOk("--action", {"protect"}).action, v1::POLICY_ACTION_PROTECT);
  EXPECT_EQ(*ParseOk("--action", {"bypass"}).action, v1::POLICY_ACTION_BYPASS);
  EXPECT_EQ(*ParseOk("--action", {"discard"}).action, v1::POLICY_ACTION_DISCARD);
  PolicyEdits edits;
  absl::Status s = Parse("--action", {"drop"}, &edits);
  EXPECT_EQ(s.message(), "--action: 'drop' is not one of: protect, bypass, discard");
  // Not given: the policy keeps its action (or, on add, the controller's PROTECT).
  v1::Policy p = StoredPolicy();
  p.set_action(v1::POLICY_ACTION_DISCARD);
  ApplyPolicyEdits(ParseOk("--priority", {"1"}), &p);
  EXPECT_EQ(p.action(), v1::POLICY_ACTION_DISCARD);
  ApplyPolicyEdits(ParseOk("--action", {"bypass"}), &p);
  EXPECT_EQ(p.action(), v1::POLICY_ACTION_BYPASS);
}

TEST(PolicyFlags, AnotherCipherTakesItsOwnDefaultKeySizeUnlessGiven) {
  v1::Policy p = StoredPolicy();
  p.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  p.set_encryption_key_bits(128);
  ApplyPolicyEdits(ParseOk("--encryption", {"chacha20-poly1305"}), &p);
  EXPECT_EQ(p.encryption(), v1::ENCRYPTION_CHACHA20_POLY1305);
  EXPECT_EQ(p.encryption_key_bits(), 0u);  // the controller fills in 256
  PolicyEdits e;
  ASSERT_TRUE(Parse("--encryption", {"aes-gcm-16"}, &e).ok());
  ASSERT_TRUE(Parse("--key-bits", {"256"}, &e).ok());
  ApplyPolicyEdits(e, &p);
  EXPECT_EQ(p.encryption_key_bits(), 256u);
  p.set_encryption_key_bits(192);
  ApplyPolicyEdits(ParseOk("--encryption", {"aes-gcm-16"}), &p);  // same cipher: kept
  EXPECT_EQ(p.encryption_key_bits(), 192u);
}

TEST(PolicyFlags, Durations) {
  EXPECT_EQ(*ParseOk("--lifetime", {"3600"}).hard_seconds, 3600u);
  EXPECT_EQ(*ParseOk("--lifetime", {"3600s"}).hard_seconds, 3600u);
  EXPECT_EQ(*ParseOk("--lifetime", {"90m"}).hard_seconds, 5400u);
  EXPECT_EQ(*ParseOk("--lifetime", {"1h"}).hard_seconds, 3600u);
  EXPECT_EQ(*ParseOk("--soft-lifetime", {"54m"}).soft_seconds, 3240u);
  // Zero soft lifetime asks for the controller's default (90 % of hard).
  EXPECT_EQ(*ParseOk("--soft-lifetime", {"0"}).soft_seconds, 0u);
}

TEST(PolicyFlags, SelectorsAndNumbers) {
  PolicyEdits e = ParseOk("--selector", {"udp/53"});
  EXPECT_EQ(e.selector->protocol(), 17u);
  EXPECT_EQ(e.selector->port(), 53u);
  EXPECT_EQ(ParseOk("--selector", {"proto/47"}).selector->protocol(), 47u);
  EXPECT_EQ(*ParseOk("--priority", {"-3"}).priority, -3);
  EXPECT_EQ(*ParseOk("--key-bits", {"0"}).key_bits, 0u);
  EXPECT_EQ(*ParseOk("--lifetime-bytes", {"18446744073709551615"}).hard_bytes,
            18446744073709551615ull);
  EXPECT_EQ(*ParseOk("--allow-legacy", {}).allow_legacy, true);
  EXPECT_EQ(*ParseOk("--allow-legacy", {"false"}).allow_legacy, false);
  EXPECT_EQ(*ParseOk("--description", {""}).description, "");
}

TEST(PolicyFlags, ApplySetsOnlyTheGivenFields) {
  PolicyEdits edits;
  ASSERT_TRUE(Parse("--lifetime", {"2h"}, &edits).ok());
  ASSERT_TRUE(Parse("--encryption", {"chacha20-poly1305"}, &edits).ok());
  ASSERT_TRUE(Parse("--selector", {"any"}, &edits).ok());
  ASSERT_TRUE(Parse("--description", {""}, &edits).ok());

  v1::Policy updated = StoredPolicy();
  ApplyPolicyEdits(edits, &updated);

  v1::Policy expected = StoredPolicy();
  expected.mutable_lifetime()->set_hard_seconds(7200);
  expected.mutable_lifetime()->set_soft_seconds(0);  // was derived (90 %): derived anew
  expected.set_encryption(v1::ENCRYPTION_CHACHA20_POLY1305);
  expected.set_encryption_key_bits(0);  // another cipher: its own default size
  expected.clear_selector();
  expected.mutable_selector();  // "any" is an explicit, empty selector
  expected.set_description("");
  std::string diff;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(expected, updated)) << diff;
  // Untouched neighbours of the changed fields keep their values.
  EXPECT_EQ(updated.lifetime().hard_bytes(), 1u << 30);
}

TEST(PolicyFlags, NoEditsChangeNothing) {
  v1::Policy p = StoredPolicy();
  ApplyPolicyEdits(PolicyEdits(), &p);
  EXPECT_TRUE(MessageDifferencer::Equals(p, StoredPolicy()));
  // Not even presence of an empty lifetime on a policy that had none.
  v1::Policy bare;
  ApplyPolicyEdits(ParseOk("--priority", {"1"}), &bare);
  EXPECT_FALSE(bare.has_lifetime());
  EXPECT_FALSE(bare.has_selector());
}

TEST(PolicyFlags, ApplyEveryOption) {
  PolicyEdits e;
  ASSERT_TRUE(Parse("--between", {"198.18.1.1", "198.18.2.1"}, &e).ok());
  ASSERT_TRUE(Parse("--protocol", {"ah"}, &e).ok());
  ASSERT_TRUE(Parse("--mode", {"transport"}, &e).ok());
  ASSERT_TRUE(Parse("--encryption", {"null"}, &e).ok());
  ASSERT_TRUE(Parse("--key-bits", {"0"}, &e).ok());
  ASSERT_TRUE(Parse("--integrity", {"hmac-sha2-384-192"}, &e).ok());
  ASSERT_TRUE(Parse("--soft-lifetime", {"50m"}, &e).ok());
  ASSERT_TRUE(Parse("--soft-lifetime-bytes", {"1000"}, &e).ok());
  ASSERT_TRUE(Parse("--lifetime-bytes", {"2000"}, &e).ok());
  ASSERT_TRUE(Parse("--priority", {"5"}, &e).ok());
  ASSERT_TRUE(Parse("--replay-window", {"64"}, &e).ok());
  ASSERT_TRUE(Parse("--allow-legacy", {}, &e).ok());
  v1::Policy p = StoredPolicy();
  ApplyPolicyEdits(e, &p);
  EXPECT_EQ(p.a().address(), "198.18.1.1");
  EXPECT_EQ(p.b().address(), "198.18.2.1");
  EXPECT_EQ(p.protocol(), v1::IPSEC_PROTOCOL_AH);
  EXPECT_EQ(p.mode(), v1::MODE_TRANSPORT);
  EXPECT_EQ(p.encryption(), v1::ENCRYPTION_NULL);
  EXPECT_EQ(p.encryption_key_bits(), 0u);
  EXPECT_EQ(p.integrity(), v1::INTEGRITY_HMAC_SHA2_384_192);
  EXPECT_EQ(p.lifetime().hard_seconds(), 3600u);  // not given
  EXPECT_EQ(p.lifetime().soft_seconds(), 3000u);
  EXPECT_EQ(p.lifetime().soft_bytes(), 1000u);
  EXPECT_EQ(p.lifetime().hard_bytes(), 2000u);
  EXPECT_EQ(p.lifetime().hard_packets(), 1u << 20);  // no option for it
  EXPECT_EQ(p.priority(), 5);
  EXPECT_EQ(p.replay_window(), 64u);
  EXPECT_TRUE(p.allow_legacy_algorithms());
  EXPECT_EQ(p.description(), "front ends");
}

// Issue #11 point 6: `policy update --lifetime 1h` of a 24h policy kept
// the derived soft lifetime (21.6h) and was refused.
TEST(PolicyFlags, NewHardLifetimeRederivesAStaleSoftOne) {
  v1::Policy p;
  p.mutable_lifetime()->set_hard_seconds(86400);
  p.mutable_lifetime()->set_soft_seconds(77760);  // derived: 90 %
  ApplyPolicyEdits(ParseOk("--lifetime", {"1h"}), &p);
  EXPECT_EQ(p.lifetime().hard_seconds(), 3600u);
  EXPECT_EQ(p.lifetime().soft_seconds(), 0u);  // the controller derives it

  p.mutable_lifetime()->set_soft_seconds(1800);  // chosen, still below: kept
  ApplyPolicyEdits(ParseOk("--lifetime", {"2h"}), &p);
  EXPECT_EQ(p.lifetime().soft_seconds(), 1800u);
  ApplyPolicyEdits(ParseOk("--lifetime", {"20m"}), &p);  // not below any more
  EXPECT_EQ(p.lifetime().soft_seconds(), 0u);

  p.mutable_lifetime()->set_hard_bytes(1000);
  p.mutable_lifetime()->set_soft_bytes(900);
  ApplyPolicyEdits(ParseOk("--lifetime-bytes", {"500"}), &p);
  EXPECT_EQ(p.lifetime().soft_bytes(), 0u);
  PolicyEdits both = ParseOk("--lifetime", {"1h"});
  both.soft_seconds = 600;
  ApplyPolicyEdits(both, &p);
  EXPECT_EQ(p.lifetime().soft_seconds(), 600u);
}

}  // namespace
}  // namespace ikeless::ipsecctl
