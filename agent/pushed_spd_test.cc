// PushedSpd: snapshots and deltas by revision, what changed, and refusal
// of anything malformed without changing what was applied.
#include "agent/pushed_spd.h"

#include <random>

#include "gtest/gtest.h"

namespace ikeless::agent {
namespace {

using Keys = std::vector<std::string>;

v1::PushedRule Rule(std::string key, std::string remote = "198.18.20.0/24") {
  v1::PushedRule r;
  r.set_key(key);
  r.set_name("web/" + key);
  r.set_local("198.18.10.0/24");
  r.set_remote(std::move(remote));
  r.set_action(v1::POLICY_ACTION_PROTECT);
  r.set_setup_peer("198.18.0.2");
  r.set_local_address("198.18.0.1");
  return r;
}

v1::SpdUpdate Snapshot(uint64_t revision, std::vector<v1::PushedRule> rules) {
  v1::SpdUpdate u;
  u.set_revision(revision);
  u.set_snapshot(true);
  for (auto& r : rules) *u.add_upsert() = std::move(r);
  return u;
}

v1::SpdUpdate Delta(uint64_t base, uint64_t revision, std::vector<v1::PushedRule> upsert,
                    Keys remove = {}) {
  v1::SpdUpdate u;
  u.set_revision(revision);
  u.set_base_revision(base);
  for (auto& r : upsert) *u.add_upsert() = std::move(r);
  for (auto& k : remove) u.add_remove(k);
  return u;
}

Keys KeysOf(const PushedSpd& spd) {
  Keys k;
  for (const auto& [key, rule] : spd.rules()) k.push_back(key);
  return k;
}

TEST(PushedSpdTest, SnapshotThenDeltasByRevision) {
  PushedSpd spd;
  EXPECT_FALSE(spd.has_snapshot());
  auto c = spd.Apply(Snapshot(5, {Rule("a"), Rule("b", "198.18.21.0/24")}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->snapshot);
  EXPECT_EQ(c->added, (Keys{"a", "b"}));
  EXPECT_EQ(spd.revision(), 5u);
  EXPECT_TRUE(spd.has_snapshot());

  v1::PushedRule b2 = Rule("b", "198.18.22.0/24");
  c = spd.Apply(Delta(5, 6, {Rule("c", "198.18.23.0/24"), b2, Rule("a")}, {}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->added, Keys{"c"});
  EXPECT_EQ(c->changed, Keys{"b"}) << "a's upsert changed nothing";
  EXPECT_TRUE(c->removed.empty());
  EXPECT_EQ(spd.rules().at("b").remote(), "198.18.22.0/24");

  c = spd.Apply(Delta(6, 9, {}, {"a"}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->removed, Keys{"a"});
  EXPECT_EQ(KeysOf(spd), (Keys{"b", "c"}));
  EXPECT_EQ(spd.revision(), 9u);

  // A new snapshot replaces everything: c goes, b stays unchanged.
  c = spd.Apply(Snapshot(3, {b2, Rule("d", "198.18.24.0/24")}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->added, Keys{"d"});
  EXPECT_TRUE(c->changed.empty());
  EXPECT_EQ(c->removed, Keys{"c"});
  EXPECT_EQ(KeysOf(spd), (Keys{"b", "d"}));
  EXPECT_EQ(spd.revision(), 3u) << "a snapshot sets the revision, whatever it was";
}

TEST(PushedSpdTest, DeltaOnAnotherBaseIsFailedPreconditionAndChangesNothing) {
  PushedSpd spd;
  auto early = spd.Apply(Delta(0, 1, {Rule("a")}));
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(early.status().message().find("before any snapshot"), std::string::npos);
  ASSERT_TRUE(spd.Apply(Snapshot(7, {Rule("a")})).ok());
  auto stale = spd.Apply(Delta(6, 8, {Rule("b", "198.18.21.0/24")}));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.status().message().find("spd_update.base_revision: 6 is not the applied revision 7"),
            std::string::npos)
      << stale.status();
  EXPECT_EQ(spd.revision(), 7u);
  EXPECT_EQ(KeysOf(spd), Keys{"a"});
  auto unknown = spd.Apply(Delta(7, 8, {}, {"zz"}));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(unknown.status().message().find("\"zz\" is not in the applied SPD"), std::string::npos);
}

TEST(PushedSpdTest, AddressesAreKeptCanonicalAndNamesDefaultToKeys) {
  PushedSpd spd;
  v1::PushedRule r = Rule("v6");
  r.clear_name();
  r.set_local("fd00:10::/64");
  r.set_remote("fd00:20::/64");
  r.set_setup_peer("FD00:0::0002");
  r.set_local_address("fd00::1");
  r.set_action(v1::POLICY_ACTION_UNSPECIFIED);  // PROTECT
  ASSERT_TRUE(spd.Apply(Snapshot(1, {r})).ok());
  EXPECT_EQ(spd.rules().at("v6").setup_peer(), "fd00::2");
  EXPECT_EQ(spd.rules().at("v6").name(), "v6");
  // BYPASS and DISCARD need no peer.
  v1::PushedRule d = Rule("d", "198.18.30.0/24");
  d.set_action(v1::POLICY_ACTION_DISCARD);
  d.clear_setup_peer();
  d.clear_local_address();
  EXPECT_TRUE(spd.Apply(Delta(1, 2, {d})).ok());
}

// Each malformed update is refused with the field and the reason, and
// what was applied stays.
TEST(PushedSpdTest, MalformedUpdatesAreRefusedWhole) {
  struct Case {
    std::string what;
    std::function<void(v1::SpdUpdate&)> mutate;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"empty key", [](auto& u) { u.mutable_upsert(1)->clear_key(); }, "upsert[1].key: is required"},
      {"duplicate key", [](auto& u) { u.mutable_upsert(1)->set_key("x"); }, "\"x\" appears twice"},
      {"host bits", [](auto& u) { u.mutable_upsert(1)->set_remote("198.18.20.1/24"); }, "host bits"},
      {"no length", [](auto& u) { u.mutable_upsert(1)->set_remote("198.18.20.1"); },
       "has no prefix length"},
      {"not canonical", [](auto& u) { u.mutable_upsert(1)->set_local("FD00:0::/64"); },
       "is not canonical (fd00::/64)"},
      {"wildcard", [](auto& u) { u.mutable_upsert(1)->set_local("*/0"); }, ".local"},
      {"garbage prefix", [](auto& u) { u.mutable_upsert(1)->set_remote("\xff\x01/x"); }, ".remote"},
      {"empty prefix", [](auto& u) { u.mutable_upsert(1)->clear_local(); }, ".local: is required"},
      {"families", [](auto& u) { u.mutable_upsert(1)->set_remote("fd00::/64"); },
       "same address family as local"},
      {"protocol", [](auto& u) { u.mutable_upsert(1)->set_protocol(300); }, ".protocol: must be 0..255"},
      {"port", [](auto& u) { u.mutable_upsert(1)->set_port(70000); }, ".port: must be 0..65535"},
      {"port without tcp/udp", [](auto& u) { u.mutable_upsert(1)->set_port(80); },
       "needs protocol 6 (tcp) or 17 (udp)"},
      {"action", [](auto& u) { u.mutable_upsert(1)->set_action(static_cast<v1::PolicyAction>(9)); },
       ".action: unknown action 9"},
      {"no peer", [](auto& u) { u.mutable_upsert(1)->clear_setup_peer(); }, ".setup_peer"},
      {"bad local address", [](auto& u) { u.mutable_upsert(1)->set_local_address("gw-a"); },
       ".local_address"},
      {"peer is us", [](auto& u) { u.mutable_upsert(1)->set_setup_peer("198.18.0.1"); },
       "must differ from local_address"},
      {"peer family", [](auto& u) { u.mutable_upsert(1)->set_setup_peer("fd00::2"); },
       "same address family as local_address"},
      {"remove empty", [](auto& u) { u.add_remove(""); }, "remove[0]: is empty"},
      {"remove twice", [](auto& u) { u.add_remove("a"); u.add_remove("a"); }, "appears twice"},
      {"remove and upsert", [](auto& u) { u.add_remove("y"); }, "is also upserted"},
      {"revision", [](auto& u) { u.set_revision(1); }, "must be above base_revision"},
      {"snapshot with remove",
       [](auto& u) {
         u.set_snapshot(true);
         u.add_remove("a");
       },
       "remove: must be empty in a snapshot"},
  };
  for (const Case& c : cases) {
    PushedSpd spd;
    ASSERT_TRUE(spd.Apply(Snapshot(1, {Rule("a")})).ok());
    v1::SpdUpdate u = Delta(1, 2, {Rule("x", "198.18.21.0/24"), Rule("y", "198.18.22.0/24")});
    c.mutate(u);
    auto r = spd.Apply(u);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.what << ": " << r.status();
    EXPECT_EQ(spd.revision(), 1u) << c.what;
    EXPECT_EQ(KeysOf(spd), Keys{"a"}) << c.what;
    EXPECT_EQ(spd.rules().at("a").remote(), "198.18.20.0/24") << c.what;
  }
}

// Random bytes as an update, and random text in every field: never a
// crash, and a refusal never changes what was applied.
TEST(PushedSpdTest, GarbageNeverCrashesNorChangesStateWhenRefused) {
  std::mt19937 rng(7);
  auto text = [&](size_t max) {
    static const std::string alphabet = "0123456789abcdef:./*-xX \xff";
    std::string s(rng() % (max + 1), ' ');
    for (char& ch : s) ch = alphabet[rng() % alphabet.size()];
    return s;
  };
  PushedSpd spd;
  ASSERT_TRUE(spd.Apply(Snapshot(1, {Rule("a")})).ok());
  int accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    v1::SpdUpdate u;
    if (i % 2 == 0) {
      std::string bytes(rng() % 64, '\0');
      for (char& b : bytes) b = static_cast<char>(rng());
      (void)u.ParseFromString(bytes);  // whatever survives parsing
    } else {
      u = Delta(1, 2, {Rule("k" + std::to_string(i))});
      v1::PushedRule* r = u.mutable_upsert(0);
      switch (rng() % 5) {
        case 0: r->set_local(text(20)); break;
        case 1: r->set_remote(text(20)); break;
        case 2: r->set_setup_peer(text(16)); break;
        case 3: r->set_local_address(text(16)); break;
        default: r->set_key(text(3)); break;
      }
    }
    const uint64_t revision = spd.revision();
    const auto before = KeysOf(spd);
    auto r = spd.Apply(u);
    if (r.ok()) {
      ++accepted;
      // Start over so the next delta applies on a known base.
      spd = PushedSpd();
      ASSERT_TRUE(spd.Apply(Snapshot(1, {Rule("a")})).ok());
      continue;
    }
    EXPECT_FALSE(r.status().message().empty());
    EXPECT_EQ(spd.revision(), revision);
    EXPECT_EQ(KeysOf(spd), before);
  }
  EXPECT_LT(accepted, 2000);
}

TEST(PushedSpdTest, CanonicalCidrCheck) {
  EXPECT_TRUE(CheckCanonicalCidr("198.18.0.1/32", "f").ok());
  EXPECT_TRUE(CheckCanonicalCidr("0.0.0.0/0", "f").ok());
  EXPECT_TRUE(CheckCanonicalCidr("::/0", "f").ok());
  EXPECT_TRUE(CheckCanonicalCidr("fd00::1/128", "f").ok());
  EXPECT_FALSE(CheckCanonicalCidr("198.18.0.01/32", "f").ok());
  EXPECT_FALSE(CheckCanonicalCidr("198.18.0.0/33", "f").ok());
  EXPECT_FALSE(CheckCanonicalCidr("198.18.0.0/+8", "f").ok());
  absl::Status s = CheckCanonicalCidr("fd00:0:0::/48", "rule.local");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rule.local: 'fd00:0:0::/48' is not canonical (fd00::/48)"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace ikeless::agent
