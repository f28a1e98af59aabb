// The controller's handling of what agents send (controller/agent_service.cc
// SessionReactor::Handle, minus gRPC): arbitrary v1::AgentMessage protobufs
// from three connected nodes go through the same decisions - an SaRequest
// whose source is not the sender's address is refused, the rest go to the
// RequestProcessor (FIG. 12/13) on a MemoryStore with two policies, and
// its output to the Dispatcher and fake sessions; an SaEvent INSTALLED
// releases a waiting Distribution - while a fake clock moves and the
// timers (Tick: S23 repetitions, S24-S28, lifetimes) run as the
// controller's timer loop runs them.
//
// Input: a sequence of records, each
//   op (1 byte) | length (1 byte) | `length` bytes: one serialized AgentMessage
// op % 3 picks the sender (node A, B or C); op / 3 % 8 how far the clock
// moves first (0, 1 s, 5 s, 6 s, 30 s, 5 min, 1 h, 2 h). A record whose
// bytes do not parse is skipped, as gRPC would drop the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/address.h"
#include "common/clock.h"
#include "common/random.h"
#include "controller/dispatcher.h"
#include "controller/event_hub.h"
#include "controller/fake_agent_session.h"
#include "controller/policy_validation.h"
#include "controller/request_processor.h"
#include "controller/session_registry.h"
#include "controller/test_policy.h"
#include "proto/agent.pb.h"
#include "proto/policy.pb.h"
#include "storage/memory_store.h"

namespace {

namespace v1 = ikeless::v1;
using namespace ikeless::controller;  // NOLINT

constexpr char kA[] = "198.18.1.1";
constexpr char kB[] = "198.18.2.1";
constexpr char kC[] = "198.18.3.1";
constexpr char kC6[] = "2001:db8::3";

v1::Policy PolicyAB() { return TunnelPolicy("a-b", kA, kB); }

// Everything in 198.18/16 else: transport, CBC + HMAC, short lifetimes.
v1::Policy PolicyFleet() {
  v1::Policy p;
  p.set_name("fleet");
  p.mutable_a()->set_address("198.18.0.0/16");
  p.mutable_b()->set_address("198.18.0.0/16");
  p.set_mode(v1::MODE_TRANSPORT);
  p.set_encryption(v1::ENCRYPTION_AES_CBC);
  p.set_integrity(v1::INTEGRITY_HMAC_SHA2_256_128);
  p.mutable_lifetime()->set_hard_seconds(600);
  return p;
}

struct Node {
  std::shared_ptr<FakeAgentSession> session;
};

void Trap(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ikeless::storage::MemoryStore store;
  for (v1::Policy p : {PolicyAB(), PolicyFleet()}) {
    std::vector<std::string> warnings;
    Trap(NormalizePolicy(&p, &warnings).ok());
    Trap(store.CreatePolicy(p).ok());
  }
  ikeless::FakeClock clock;
  ikeless::FakeRandom random(3);
  RequestProcessor processor({}, &store, &store, &clock, &random);
  SessionRegistry registry;
  EventHub events;
  Dispatcher dispatcher(&registry, &events, &clock, Dispatcher::Options());
  std::shared_ptr<FakeAgentSession> nodes[] = {
      std::make_shared<FakeAgentSession>("gw-a", std::vector<std::string>{kA}),
      std::make_shared<FakeAgentSession>("gw-b", std::vector<std::string>{kB}),
      std::make_shared<FakeAgentSession>("gw-c", std::vector<std::string>{kC, kC6}),
  };
  nodes[2]->drops_early = true;  // a kernel XFRM node: Distributions wait for it
  for (auto& n : nodes) Trap(registry.Register(n).ok());

  static constexpr absl::Duration kSteps[] = {
      absl::ZeroDuration(), absl::Seconds(1), absl::Seconds(5), absl::Seconds(6),
      absl::Seconds(30),    absl::Minutes(5), absl::Hours(1),   absl::Hours(2)};
  size_t sent = 0;  // messages the fake sessions were given
  size_t pos = 0;
  for (int records = 0; records < 64 && pos + 2 <= size; ++records) {
    const uint8_t op = data[pos];
    const size_t len = std::min<size_t>(data[pos + 1], size - pos - 2);
    const uint8_t* body = data + pos + 2;
    pos += 2 + len;

    clock.Advance(kSteps[(op / 3) % 8]);
    auto deadline = processor.NextDeadline();
    Trap(deadline.ok());
    if (*deadline <= clock.Now()) {
      auto out = processor.Tick();
      Trap(out.ok());  // MemoryStore never fails
      dispatcher.Deliver(*out);
    }
    dispatcher.ReleaseOverdue();

    v1::AgentMessage m;
    if (!m.ParseFromArray(body, static_cast<int>(len))) continue;
    FakeAgentSession& sender = *nodes[op % 3];
    switch (m.body_case()) {
      case v1::AgentMessage::kRequest: {
        const v1::SaRequest& r = m.request();
        auto source = ikeless::IpAddress::Parse(r.source());
        if (source.ok() && std::find(sender.addresses().begin(), sender.addresses().end(),
                                     source->ToString()) == sender.addresses().end()) {
          sender.Send(ErrorFor(r, v1::SetupError::PERMISSION_DENIED, "not yours"));
          break;
        }
        auto out = processor.HandleRequest(r);
        Trap(out.ok());
        dispatcher.Deliver(*out);
        break;
      }
      case v1::AgentMessage::kSaEvent:
        if (m.sa_event().kind() == v1::SaEvent::INSTALLED) {
          dispatcher.OnInstalled(sender.addresses(), m.sa_event().association_id());
        }
        break;
      default:
        break;  // Hello and SpdAck touch only gRPC and the intent service
    }
    for (auto& n : nodes) {
      sent += n->sent.size();
      n->sent.clear();
    }
  }

  // IKELESS_FUZZ_DEBUG=1: how far each input got (to check the seeds).
  static const bool debug = std::getenv("IKELESS_FUZZ_DEBUG") != nullptr;
  if (debug) {
    auto rows = store.ListAssociations("");
    size_t established = 0;
    if (rows.ok()) {
      for (const auto& row : *rows) established += row.a_to_b.has_value() ? 1 : 0;
    }
    std::fprintf(stderr, "rows=%zu established=%zu sent=%zu waiting=%zu\n",
                 rows.ok() ? rows->size() : 0, established, sent, dispatcher.waiting());
  }
  return 0;
}
