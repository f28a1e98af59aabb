// Successor keys (DECISIONS 33): at S10 the controller makes, besides the
// SA pair, as many further generations as both receivers reserved SPIs
// for, so the agents can keep switching to fresh keys while it is away.
#include "absl/strings/str_cat.h"
#include "common/lifetime_rules.h"
#include "controller/request_processor.h"
#include "controller/request_processor_test_fixture.h"
#include "gtest/gtest.h"

namespace ikeless::controller {
namespace {

v1::SaRequest WithSuccessors(v1::SaRequest r, std::vector<uint32_t> spis) {
  for (uint32_t spi : spis) r.add_successor_spis(spi);
  return r;
}

const v1::Distribution& DistributionTo(const ProcessorOutput& out, const char* address) {
  for (const Outgoing& o : out.messages) {
    if (o.address == address && o.message.has_distribution()) return o.message.distribution();
  }
  ADD_FAILURE() << "no distribution to " << address;
  static const v1::Distribution* none = new v1::Distribution;
  return *none;
}

TEST_F(RequestProcessorTest, S10_SuccessorsOnEachReceiversReservedSpis) {
  Handle(WithSuccessors(Req(k2a, k2b, 1001, 5100), {5101, 5102, 5103}));
  ProcessorOutput out = Handle(WithSuccessors(Req(k2b, k2a, 2001, 6100), {6101, 6102}));
  const v1::Distribution& to_a = DistributionTo(out, k2a);
  // Two generations: as many as the side that reserved fewer.
  ASSERT_EQ(to_a.outbound().successors_size(), 2);
  ASSERT_EQ(to_a.inbound().successors_size(), 2);
  // 2a sends on 2b's SPIs and receives on its own, in order.
  EXPECT_EQ(to_a.outbound().successors(0).spi(), 6101u);
  EXPECT_EQ(to_a.outbound().successors(1).spi(), 6102u);
  EXPECT_EQ(to_a.inbound().successors(0).spi(), 5101u);
  EXPECT_EQ(to_a.inbound().successors(1).spi(), 5102u);
  for (const v1::SaParameters& s : to_a.outbound().successors()) {
    EXPECT_EQ(s.source(), k2a);
    EXPECT_EQ(s.destination(), k2b);
    EXPECT_EQ(s.lifetime().hard_seconds(), 3600u);  // the policy's, from the switch
    EXPECT_FALSE(s.encryption_key().empty());
    EXPECT_NE(s.encryption_key(), to_a.outbound().encryption_key());
    EXPECT_EQ(s.successors_size(), 0);  // one level only
  }
  // 2b gets the mirror image: its outbound successors are 2a's inbound ones.
  const v1::Distribution& to_b = DistributionTo(out, k2b);
  ASSERT_EQ(to_b.outbound().successors_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(to_b.outbound().successors(i).SerializeAsString(),
              to_a.inbound().successors(i).SerializeAsString());
    EXPECT_EQ(to_b.inbound().successors(i).SerializeAsString(),
              to_a.outbound().successors(i).SerializeAsString());
  }
}

TEST_F(RequestProcessorTest, S10_RowOutlivesItsLastSuccessor) {
  Handle(WithSuccessors(Req(k2a, k2b, 1001, 5100), {5101, 5102}));
  Handle(WithSuccessors(Req(k2b, k2a, 2001, 6100), {6101, 6102}));
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  // hard 3600 s + 2 successors starting at most one soft lifetime (3240 s)
  // apart, and the slack of two switches (common/lifetime_rules.h): the
  // last may be in use until then.
  const absl::Duration life = absl::Seconds(3600 + 2 * 3240 + SuccessorSlackSeconds(2));
  EXPECT_EQ(rows[0].expire_time - rows[0].establish_time, life);
  clock_.Advance(life - absl::Seconds(1));
  Tick();
  EXPECT_EQ(Rows().size(), 1u);
  clock_.Advance(absl::Seconds(1));
  Tick();
  EXPECT_TRUE(Rows().empty());
}

TEST_F(RequestProcessorTest, S5_ResendGetsTheSameSuccessors) {
  Handle(WithSuccessors(Req(k2a, k2b, 1001, 5100), {5101}));
  ProcessorOutput first = Handle(WithSuccessors(Req(k2b, k2a, 2001, 6100), {6101}));
  ProcessorOutput again = Handle(WithSuccessors(Req(k2b, k2a, 2001, 6100), {6101}));
  EXPECT_EQ(DistributionTo(again, k2b).SerializeAsString(),
            DistributionTo(first, k2b).SerializeAsString());
}

TEST_F(RequestProcessorTest, S10_NoSuccessorsUnlessBothSidesReserved) {
  Handle(WithSuccessors(Req(k2a, k2b, 1001, 5100), {5101, 5102}));
  ProcessorOutput out = Handle(Req(k2b, k2a, 2001, 6100));
  EXPECT_EQ(DistributionTo(out, k2a).outbound().successors_size(), 0);
  EXPECT_EQ(DistributionTo(out, k2a).inbound().successors_size(), 0);
  auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].expire_time - rows[0].establish_time, absl::Seconds(3600));
}

TEST_F(RequestProcessorTest, BadSuccessorSpisAreInvalidAndChangeNothing) {
  struct Case {
    std::vector<uint32_t> spis;
    std::string field;
  } cases[] = {
      {{255}, "request.successor_spis[0]: 255 is reserved"},
      {{5101, 5100}, "request.successor_spis[1]: equals request.spi"},
      {{5101, 5102, 5101}, "request.successor_spis[2]: repeats successor_spis[0]"},
      {{301, 302, 303, 304, 305, 306, 307, 308, 309}, "request.successor_spis: at most 8"},
  };
  for (const Case& c : cases) {
    ProcessorOutput out = Handle(WithSuccessors(Req(k2a, k2b, 1001, 5100), c.spis));
    ASSERT_EQ(out.messages.size(), 1u);
    ASSERT_TRUE(out.messages[0].message.has_error());
    EXPECT_EQ(out.messages[0].message.error().code(), v1::SetupError::INVALID_ARGUMENT);
    EXPECT_NE(out.messages[0].message.error().message().find(c.field), std::string::npos)
        << out.messages[0].message.error().message();
    EXPECT_TRUE(Rows().empty());
  }
}

}  // namespace
}  // namespace ikeless::controller
