#include "tools/ipsecctl/intent_commands.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tools/ipsecctl/fleet_file.h"
#include "tools/ipsecctl/grpc_errors.h"
#include "tools/ipsecctl/output.h"
#include "tools/ipsecctl/plan_output.h"

namespace ikeless::ipsecctl {
namespace {

absl::StatusOr<std::string> ReadFleetText(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": not a file"));
  if (static_cast<uint64_t>(st.st_size) > kMaxFleetFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", st.st_size, " bytes; a fleet file is at most 16 MiB"));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::Status RunPlan(const GlobalOptions& global, const Command& command,
                     v1::PolicyService::StubInterface* stub, std::ostream& out, bool apply) {
  auto text = ReadFleetText(command.file);
  if (!text.ok()) return text.status();
  auto file = ParseFleetFile(*text, command.file);
  if (!file.ok()) return file.status();
  v1::IntentPlan plan;
  grpc::Status status;
  if (apply) {
    v1::ApplyIntentRequest request;
    *request.mutable_intent() = file->intent;
    request.set_expected_state(command.state);
    status = stub->ApplyIntent(CallContext(global).get(), request, &plan);
  } else {
    v1::PlanIntentRequest request;
    *request.mutable_intent() = file->intent;
    status = stub->PlanIntent(CallContext(global).get(), request, &plan);
  }
  if (!status.ok()) {
    absl::Status s = ControllerError(status, global);
    if (s.code() == absl::StatusCode::kResourceExhausted &&
        status.error_message().find("larger than max") != std::string::npos) {
      return absl::ResourceExhaustedError(absl::StrCat(
          command.file, " is larger than the controller accepts in one message (its "
          "--max_message_bytes): ", s.message()));
    }
    return absl::Status(s.code(), file->Locate(s.message()));
  }
  if (global.output == OutputFormat::kTable) {
    out << PlanText(plan, *file, apply ? PlanMode::kApply : PlanMode::kPlan);
  } else {
    auto json = ToJson(plan, JsonStyle::kIndented);
    if (!json.ok()) return json.status();
    out << *json;
  }
  for (const v1::AssertionResult& r : plan.assertions()) {
    if (!r.ok()) {
      return absl::FailedPreconditionError(
          file->Locate(absl::StrCat("assertions[", r.index(), "]: does not hold: ", r.detail())));
    }
  }
  if (!plan.warnings().empty()) {
    return absl::InternalError(absl::StrCat("applied, but: ", plan.warnings(0),
                                            plan.warnings_size() > 1 ? " (and more above)" : ""));
  }
  return absl::OkStatus();
}

absl::Status RunExport(const GlobalOptions& global, v1::PolicyService::StubInterface* stub,
                       std::ostream& out) {
  v1::ListNodesResponse nodes;
  grpc::Status status = stub->ListNodes(CallContext(global).get(), v1::ListNodesRequest(), &nodes);
  if (!status.ok()) return ControllerError(status, global);
  v1::ListPoliciesResponse policies;
  status = stub->ListPolicies(CallContext(global).get(), v1::ListPoliciesRequest(), &policies);
  if (!status.ok()) return ControllerError(status, global);
  out << WriteFleetFile({nodes.nodes().begin(), nodes.nodes().end()},
                        {policies.policies().begin(), policies.policies().end()});
  return absl::OkStatus();
}

}  // namespace ikeless::ipsecctl
