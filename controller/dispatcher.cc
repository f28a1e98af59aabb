#include "controller/dispatcher.h"

#include "absl/strings/ascii.h"
#include "common/log.h"

namespace ikeless::controller {
namespace {

const char* Kind(const v1::ControllerMessage& m) {
  switch (m.body_case()) {
    case v1::ControllerMessage::kStartup: return "startup";
    case v1::ControllerMessage::kDistribution: return "distribution";
    case v1::ControllerMessage::kError: return "error";
    case v1::ControllerMessage::kWelcome: return "welcome";
    default: return "empty";
  }
}

}  // namespace

int Dispatcher::Deliver(const ProcessorOutput& out) {
  int sent = 0;
  for (const Outgoing& o : out.messages) {
    std::shared_ptr<AgentSession> s = registry_->FindByAddress(o.address);
    if (s != nullptr && s->Send(o.message)) {
      ++sent;
    } else {
      LogDebug("undeliverable").Kv("address", o.address).Kv("kind", Kind(o.message));
    }
  }
  for (const v1::Event& e : out.events) {
    LogInfo(absl::AsciiStrToLower(v1::Event::Kind_Name(e.kind()))).Kv("subject", e.subject()).Kv("detail", e.detail());
  }
  events_->Publish(out.events);
  return sent;
}

}  // namespace ikeless::controller
