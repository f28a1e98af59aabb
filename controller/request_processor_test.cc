// The controller's state machine, FIG. 12/13, step by step, including the
// source's worked example: 2a asks (1001, 5100), 2b is woken and asks
// (2001, 6100), both get mirrored SA parameters (FIG. 25/4), the rekey
// (1002, 5110)/(2002, 6110) makes a second row (FIG. 27).
#include "controller/request_processor.h"

#include "absl/strings/str_cat.h"
#include "controller/request_processor_test_fixture.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::controller {
namespace {

TEST_F(RequestProcessorTest, S21_S22_S23_FirstRequestOpensRowAndWakesPeer) {
  ProcessorOutput out = Handle(Req(k2a, k2b, 1001, 5100));
  // S23: exactly one message, a RequestStartup to 2b naming 2a.
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].address, k2b);
  ASSERT_TRUE(out.messages[0].message.has_startup());
  EXPECT_EQ(out.messages[0].message.startup().peer(), k2a);
  EXPECT_EQ(out.messages[0].message.startup().local(), k2b);
  // S22 (FIG. 25): our side filled, the peer's blank, the policy copied.
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].a.address, k2a);
  EXPECT_EQ(rows[0].a.request_id, 1001u);
  EXPECT_EQ(rows[0].a.spi, 5100u);
  EXPECT_EQ(rows[0].b.address, k2b);
  EXPECT_FALSE(rows[0].b.filled());
  EXPECT_EQ(rows[0].policy.name(), "a-b");
  EXPECT_FALSE(rows[0].a_to_b.has_value());
  EXPECT_EQ(rows[0].startups_sent, 1u);
}

TEST_F(RequestProcessorTest, S9_S10_S11_PeerRequestDistributesMirroredParameters) {
  Handle(Req(k2a, k2b, 1001, 5100));
  ProcessorOutput out = Handle(Req(k2b, k2a, 2001, 6100));
  ASSERT_EQ(out.messages.size(), 2u);
  const v1::Distribution* to_a = nullptr;
  const v1::Distribution* to_b = nullptr;
  for (const Outgoing& o : out.messages) {
    ASSERT_TRUE(o.message.has_distribution());
    (o.address == k2a ? to_a : to_b) = &o.message.distribution();
    // 2a opened the row and holds the first packets (S35): its Distribution
    // may wait for 2b's install; 2b's waits for nothing.
    EXPECT_EQ(o.after_installed_at, o.address == k2a ? k2b : "");
  }
  ASSERT_NE(to_a, nullptr);
  ASSERT_NE(to_b, nullptr);
  // Each side gets its own request id (S11).
  EXPECT_EQ(to_a->request_id(), 1001u);
  EXPECT_EQ(to_b->request_id(), 2001u);
  EXPECT_EQ(to_a->peer(), k2b);
  // Each direction is received on its receiver's SPI.
  EXPECT_EQ(to_a->outbound().spi(), 6100u);
  EXPECT_EQ(to_a->inbound().spi(), 5100u);
  // Mirrored: 2a's outbound is 2b's inbound and the other way round.
  EXPECT_EQ(to_a->outbound().SerializeAsString(), to_b->inbound().SerializeAsString());
  EXPECT_EQ(to_a->inbound().SerializeAsString(), to_b->outbound().SerializeAsString());
  EXPECT_EQ(to_a->outbound().source(), k2a);
  EXPECT_EQ(to_a->outbound().destination(), k2b);
  // FIG. 5: fresh keys per direction, sized for AES-GCM-16/128 + salt.
  EXPECT_EQ(to_a->outbound().encryption_key().size(), 16u);
  EXPECT_EQ(to_a->outbound().salt().size(), 4u);
  EXPECT_NE(to_a->outbound().encryption_key(), to_a->inbound().encryption_key());
  EXPECT_EQ(to_a->outbound().lifetime().hard_seconds(), 3600u);
  EXPECT_EQ(to_a->policy().name(), "a-b");
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].established());
  EXPECT_EQ(rows[0].b.request_id, 2001u);
  EXPECT_EQ(rows[0].b.spi, 6100u);
  EXPECT_EQ(rows[0].expire_time, clock_.Now() + absl::Seconds(3600));
}

TEST_F(RequestProcessorTest, S4_S5_ResendGetsTheSameDistribution) {
  Handle(Req(k2a, k2b, 1001, 5100));
  ProcessorOutput first = Handle(Req(k2b, k2a, 2001, 6100));
  std::string original;
  for (const Outgoing& o : first.messages) {
    if (o.address == k2a) original = o.message.SerializeAsString();
  }
  ProcessorOutput again = Handle(Req(k2a, k2b, 1001, 5100));
  ASSERT_EQ(again.messages.size(), 1u);
  EXPECT_EQ(again.messages[0].address, k2a);
  EXPECT_EQ(again.messages[0].message.SerializeAsString(), original);
  // The peer's retransmission is answered from its side of the same row.
  ProcessorOutput from_b = Handle(Req(k2b, k2a, 2001, 6100));
  ASSERT_EQ(from_b.messages.size(), 1u);
  EXPECT_EQ(from_b.messages[0].message.distribution().request_id(), 2001u);
  EXPECT_EQ(Rows().size(), 1u);
}

TEST_F(RequestProcessorTest, S6_ResendBeforePeerAnswersDoesNothing) {
  Handle(Req(k2a, k2b, 1001, 5100));
  int commits = store_.commits();
  ProcessorOutput out = Handle(Req(k2a, k2b, 1001, 5100));
  EXPECT_TRUE(out.messages.empty());
  EXPECT_EQ(Rows().size(), 1u);
  EXPECT_EQ(Rows()[0].startups_sent, 1u);
  EXPECT_EQ(store_.commits(), commits + 1);  // a read-only transaction
}

TEST_F(RequestProcessorTest, S3_S8_SameIdOtherSpiIsConflictListingEntries) {
  Establish1001And2001();
  ProcessorOutput out = Handle(Req(k2a, k2b, 1001, 5111));
  ASSERT_EQ(out.messages.size(), 1u);
  const v1::SetupError& e = out.messages[0].message.error();
  EXPECT_EQ(e.code(), v1::SetupError::CONFLICT);
  EXPECT_EQ(e.request_id(), 1001u);
  ASSERT_EQ(e.entries_size(), 1);
  EXPECT_EQ(e.entries(0).id(), 1001u);
  EXPECT_EQ(e.entries(0).spi(), 5100u);
  EXPECT_EQ(Rows().size(), 1u);
}

TEST_F(RequestProcessorTest, S7_S8_NewIdReusingSpiIsConflict) {
  Establish1001And2001();
  ProcessorOutput out = Handle(Req(k2a, k2b, 1003, 5100));
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].address, k2a);
  EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::CONFLICT);
  EXPECT_EQ(out.messages[0].message.error().entries_size(), 1);
  EXPECT_EQ(Rows().size(), 1u);
}

TEST_F(RequestProcessorTest, S26_UnknownPairIsNoPolicy) {
  ProcessorOutput out = Handle(Req(k2a, "198.18.9.9", 1001, 5100));
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].address, k2a);
  EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::NO_POLICY);
  EXPECT_EQ(out.messages[0].message.error().request_id(), 1001u);
  EXPECT_TRUE(Rows().empty());
}

TEST_F(RequestProcessorTest, S23_S24_S27_S28_SilentPeerGetsSixStartupsThenUnreachable) {
  Handle(Req(k2a, k2b, 1001, 5100));  // startup 1
  int startups = 1;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Milliseconds(4999));
    EXPECT_TRUE(Tick().messages.empty()) << "not yet due at attempt " << i + 2;
    clock_.Advance(absl::Milliseconds(1));
    ProcessorOutput out = Tick();
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].address, k2b);
    EXPECT_TRUE(out.messages[0].message.has_startup());
    ++startups;
  }
  EXPECT_EQ(startups, 6);
  EXPECT_EQ(Rows().size(), 1u);
  clock_.Advance(absl::Seconds(5));
  ProcessorOutput out = Tick();
  // S27: row gone; S28: the requester hears PEER_UNREACHABLE with its id.
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].address, k2a);
  EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::PEER_UNREACHABLE);
  EXPECT_EQ(out.messages[0].message.error().request_id(), 1001u);
  EXPECT_EQ(out.messages[0].message.error().peer(), k2b);
  EXPECT_TRUE(Rows().empty());
  EXPECT_TRUE(Tick().messages.empty());
}

TEST_F(RequestProcessorTest, S24_S25_PeerAnswerStopsRepetition) {
  Handle(Req(k2a, k2b, 1001, 5100));
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(Tick().messages.size(), 1u);  // startup 2
  Handle(Req(k2b, k2a, 2001, 6100));      // S25
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(absl::Seconds(5));
    EXPECT_TRUE(Tick().messages.empty());
  }
  EXPECT_EQ(Rows().size(), 1u);
  EXPECT_TRUE(Rows()[0].established());
}

TEST_F(RequestProcessorTest, Fig27_RekeyMakesSecondRowWhileFirstStays) {
  Establish1001And2001();
  ProcessorOutput open = Handle(Req(k2a, k2b, 1002, 5110));
  ASSERT_EQ(open.messages.size(), 1u);
  EXPECT_TRUE(open.messages[0].message.has_startup());
  ProcessorOutput done = Handle(Req(k2b, k2a, 2002, 6110));
  ASSERT_EQ(done.messages.size(), 2u);
  for (const Outgoing& o : done.messages) {
    const v1::Distribution& d = o.message.distribution();
    EXPECT_EQ(d.request_id(), o.address == k2a ? 1002u : 2002u);
    EXPECT_EQ(d.inbound().spi(), o.address == k2a ? 5110u : 6110u);
  }
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].established());
  EXPECT_TRUE(rows[1].established());
  EXPECT_EQ(rows[1].a.request_id, 1002u);
  EXPECT_EQ(rows[1].b.spi, 6110u);
  // FIG. 10: a conflict now lists both of 2a's entries.
  ProcessorOutput conflict = Handle(Req(k2a, k2b, 1001, 5199));
  const v1::SetupError& e = conflict.messages[0].message.error();
  ASSERT_EQ(e.entries_size(), 2);
  EXPECT_EQ(e.entries(0).id(), 1001u);
  EXPECT_EQ(e.entries(0).spi(), 5100u);
  EXPECT_EQ(e.entries(1).id(), 1002u);
  EXPECT_EQ(e.entries(1).spi(), 5110u);
}

TEST_F(RequestProcessorTest, HardLifetimeDeletesRow) {
  Establish1001And2001();
  clock_.Advance(absl::Seconds(3599));
  Tick();
  EXPECT_EQ(Rows().size(), 1u);
  EXPECT_EQ(*processor_.NextDeadline(), clock_.Now() + absl::Seconds(1));
  clock_.Advance(absl::Seconds(1));
  ProcessorOutput out = Tick();
  EXPECT_TRUE(out.messages.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind(), v1::Event::ASSOCIATION_DELETED);
  EXPECT_TRUE(Rows().empty());
  EXPECT_EQ(*processor_.NextDeadline(), absl::InfiniteFuture());
}

TEST_F(RequestProcessorTest, RowsPerPairAreCapped) {
  // A node looping requests with fresh ids opens at most 16 rows.
  for (uint64_t id = 1; id <= 16; ++id) {
    ProcessorOutput out = Handle(Req(k2a, k2b, id, 5000 + static_cast<uint32_t>(id)));
    ASSERT_TRUE(out.messages[0].message.has_startup()) << id;
  }
  ProcessorOutput out = Handle(Req(k2a, k2b, 17, 6000));
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].address, k2a);
  EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Rows().size(), 16u);
  // The peer may still complete one of them.
  EXPECT_EQ(Handle(Req(k2b, k2a, 1, 7000)).messages.size(), 2u);
}

TEST_F(RequestProcessorTest, HalfOpenRowsPerAddressAreCapped) {
  // Issue #11 point 2: one node naming a fresh peer in every request.
  v1::Policy wide = *store_.GetPolicy("a-b");  // normalised, as stored policies are
  wide.set_name("wide");
  wide.mutable_b()->set_address("198.18.128.0/17");
  ASSERT_TRUE(store_.CreatePolicy(wide).ok());
  RequestProcessor::Options o;
  o.max_half_open_per_address = 3;
  RequestProcessor capped(o, &store_, &store_, &clock_, &random_);
  auto handle = [&](const v1::SaRequest& r) {
    auto out = capped.HandleRequest(r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::move(*out) : ProcessorOutput();
  };
  for (uint32_t i = 1; i <= 3; ++i) {
    const std::string peer = absl::StrCat("198.18.200.", i);
    ProcessorOutput out = handle(Req(k2a, peer.c_str(), i, 5000 + i));
    ASSERT_TRUE(out.messages[0].message.has_startup()) << i;
  }
  ProcessorOutput out = handle(Req(k2a, "198.18.200.4", 4, 5004));
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::RESOURCE_EXHAUSTED);
  EXPECT_NE(out.messages[0].message.error().message().find("waits on 3 peers"), std::string::npos);
  EXPECT_EQ(Rows().size(), 3u);
  // A peer that answers frees a place; answering a row is never refused.
  EXPECT_EQ(handle(Req("198.18.200.1", k2a, 9, 7000)).messages.size(), 2u);
  EXPECT_TRUE(handle(Req(k2a, "198.18.200.4", 5, 5005)).messages[0].message.has_startup());
}

TEST_F(RequestProcessorTest, ReservedSpiIsInvalidAndChangesNothing) {
  for (uint32_t spi : {0u, 1u, 255u}) {
    ProcessorOutput out = Handle(Req(k2a, k2b, 1001, spi));
    ASSERT_EQ(out.messages.size(), 1u);
    const v1::SetupError& e = out.messages[0].message.error();
    EXPECT_EQ(e.code(), v1::SetupError::INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("request.spi"), std::string::npos) << e.message();
  }
  EXPECT_TRUE(Rows().empty());
  EXPECT_EQ(store_.commits(), 0);
  // 256 is the first SPI a node may use.
  EXPECT_TRUE(Handle(Req(k2a, k2b, 1001, 256)).messages[0].message.has_startup());
}

TEST_F(RequestProcessorTest, MalformedRequestsNameTheField) {
  struct Case {
    v1::SaRequest request;
    const char* field;
  } cases[] = {
      {Req(k2a, k2b, 0, 5100), "request.id"},
      {Req("198.18.1", k2b, 1, 5100), "request.source"},
      {Req(k2a, "not-an-ip", 1, 5100), "request.peer"},
      {Req(k2a, k2a, 1, 5100), "request.peer"},
      {Req(k2a, "fd00::2", 1, 5100), "request.peer"},
  };
  for (const Case& c : cases) {
    ProcessorOutput out = Handle(c.request);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::INVALID_ARGUMENT);
    EXPECT_NE(out.messages[0].message.error().message().find(c.field), std::string::npos)
        << out.messages[0].message.error().message();
  }
  v1::SaRequest bad_selector = Req(k2a, k2b, 1, 5100);
  bad_selector.mutable_selector()->set_protocol(1);
  bad_selector.mutable_selector()->set_port(80);
  EXPECT_NE(Handle(bad_selector).messages[0].message.error().message().find("request.selector.port"),
            std::string::npos);
  EXPECT_EQ(store_.commits(), 0);
}

TEST_F(RequestProcessorTest, CanonicalAddressesMatchTheSameRow) {
  v1::Policy p;
  p.set_name("v6");
  p.mutable_a()->set_address("fd00::1");
  p.mutable_b()->set_address("fd00::2");
  p.set_encryption(v1::ENCRYPTION_CHACHA20_POLY1305);
  p.set_encryption_key_bits(256);
  p.set_integrity(v1::INTEGRITY_NONE);
  p.mutable_lifetime()->set_hard_seconds(60);
  ASSERT_TRUE(store_.CreatePolicy(p).ok());
  Handle(Req("fd00:0::1", "fd00::0002", 7, 4096));
  ProcessorOutput out = Handle(Req("fd00::2", "fd00::1", 8, 4097));
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0].message.distribution().outbound().encryption_key().size(), 32u);
}

TEST_F(RequestProcessorTest, SelectorsKeepKindsOfTrafficApart) {
  v1::Policy ssh;
  ssh.set_name("a-b-ssh");
  ssh.mutable_a()->set_address(k2a);
  ssh.mutable_b()->set_address(k2b);
  ssh.mutable_selector()->set_protocol(6);
  ssh.mutable_selector()->set_port(22);
  ssh.set_encryption(v1::ENCRYPTION_AES_CBC);
  ssh.set_encryption_key_bits(256);
  ssh.set_integrity(v1::INTEGRITY_HMAC_SHA2_256_128);
  ssh.mutable_lifetime()->set_hard_seconds(600);
  ASSERT_TRUE(store_.CreatePolicy(ssh).ok());
  v1::SaRequest r = Req(k2a, k2b, 1, 5100);
  r.mutable_selector()->set_protocol(6);
  r.mutable_selector()->set_port(22);
  Handle(r);
  // 2b's request for all traffic does not complete the ssh row.
  ProcessorOutput other = Handle(Req(k2b, k2a, 2, 6100));
  ASSERT_EQ(other.messages.size(), 1u);
  EXPECT_TRUE(other.messages[0].message.has_startup());
  v1::SaRequest rb = Req(k2b, k2a, 3, 6101);
  *rb.mutable_selector() = r.selector();
  ProcessorOutput done = Handle(rb);
  ASSERT_EQ(done.messages.size(), 2u);
  const v1::Distribution& d = done.messages[0].message.distribution();
  EXPECT_EQ(d.policy().name(), "a-b-ssh");
  EXPECT_EQ(d.outbound().encryption_key().size(), 32u);
  EXPECT_EQ(d.outbound().integrity_key().size(), 32u);
  EXPECT_TRUE(d.outbound().salt().empty());
  EXPECT_EQ(d.outbound().selector().port(), 22u);
}

}  // namespace
}  // namespace ikeless::controller
