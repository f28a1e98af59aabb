#ifndef IKELESS_CONTROLLER_REQUEST_PROCESSOR_TEST_FIXTURE_H_
#define IKELESS_CONTROLLER_REQUEST_PROCESSOR_TEST_FIXTURE_H_

// The request processor over a memory store with one policy between the
// source's nodes 2a and 2b (FIG. 2), a fake clock and a fake random source;
// shared by the processor's test files.

#include <vector>

#include "controller/request_processor.h"
#include "controller/test_policy.h"
#include "gtest/gtest.h"
#include "storage/memory_store.h"

namespace ikeless::controller {
namespace {

constexpr char k2a[] = "198.18.1.1";
constexpr char k2b[] = "198.18.2.1";

v1::SaRequest Req(const char* source, const char* peer, uint64_t id, uint32_t spi) {
  v1::SaRequest r;
  r.set_id(id);
  r.set_source(source);
  r.set_peer(peer);
  r.set_spi(spi);
  return r;
}

class RequestProcessorTest : public ::testing::Test {
 protected:
  RequestProcessorTest() : processor_({}, &store_, &store_, &clock_, &random_) {
    EXPECT_TRUE(store_.CreatePolicy(TunnelPolicy("a-b", k2a, k2b)).ok());
  }

  ProcessorOutput Handle(const v1::SaRequest& r) {
    auto out = processor_.HandleRequest(r);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::move(*out) : ProcessorOutput();
  }

  ProcessorOutput Tick() {
    auto out = processor_.Tick();
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? std::move(*out) : ProcessorOutput();
  }

  std::vector<storage::AssociationRow> Rows() { return *store_.ListAssociations(""); }

  // The worked example up to S11.
  void Establish1001And2001() {
    Handle(Req(k2a, k2b, 1001, 5100));
    ProcessorOutput out = Handle(Req(k2b, k2a, 2001, 6100));
    ASSERT_EQ(out.messages.size(), 2u);
  }

  storage::MemoryStore store_;
  FakeClock clock_;
  FakeRandom random_;
  RequestProcessor processor_;
};

}  // namespace
}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_REQUEST_PROCESSOR_TEST_FIXTURE_H_
