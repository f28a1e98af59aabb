#include "agent/hello_builder.h"

#include <set>
#include <utility>

#include "common/log.h"

namespace ikeless::agent {

v1::Hello BuildHello(const v1::Hello& identity, const std::vector<uint64_t>& association_ids,
                     const std::vector<SetupInfo>& in_flight) {
  v1::Hello hello = identity;
  hello.clear_reconcile();
  hello.clear_installed_associations();
  hello.clear_in_flight();
  std::set<uint64_t> ids;
  for (uint64_t id : association_ids) {
    if (id != 0) ids.insert(id);
  }
  std::set<std::pair<uint64_t, uint32_t>> setups;
  for (const SetupInfo& s : in_flight) {
    if (s.request_id != 0) setups.emplace(s.request_id, s.spi);
  }
  if (ids.size() > kMaxHelloReport || setups.size() > kMaxHelloReport) {
    // Better no reconciliation than a refused Hello.
    LogWarning("hello_report_omitted")
        .Kv("associations", static_cast<uint64_t>(ids.size()))
        .Kv("in_flight", static_cast<uint64_t>(setups.size()))
        .Kv("limit", static_cast<uint64_t>(kMaxHelloReport));
    return hello;
  }
  hello.set_reconcile(true);
  for (uint64_t id : ids) hello.add_installed_associations(id);
  for (const auto& [request_id, spi] : setups) {
    v1::InFlightSetup* s = hello.add_in_flight();
    s->set_request_id(request_id);
    s->set_spi(spi);
  }
  return hello;
}

}  // namespace ikeless::agent
