#include "tools/ipsecctl/run.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "tools/ipsecctl/grpc_errors.h"
#include "tools/ipsecctl/intent_commands.h"
#include "tools/ipsecctl/node_flags.h"
#include "tools/ipsecctl/output.h"
#include "tools/ipsecctl/policy_flags.h"
#include "tools/ipsecctl/table.h"

namespace ikeless::ipsecctl {
namespace {

using Kind = Command::Kind;

// One run of one command; holds what every step needs.
class Runner {
 public:
  Runner(const Invocation& invocation, v1::PolicyService::StubInterface* stub, std::ostream& out)
      : global_(invocation.global), command_(invocation.command), stub_(stub), out_(out) {}

  absl::Status Run() {
    switch (command_.kind) {
      case Kind::kPolicyAdd: return PolicyAdd();
      case Kind::kPolicyGet: return PolicyGet();
      case Kind::kPolicyList: return PolicyList();
      case Kind::kPolicyUpdate: return PolicyUpdate();
      case Kind::kPolicyDelete: return PolicyDelete();
      case Kind::kNodesAdd: return NodesAdd();
      case Kind::kNodesGet: return NodesGet();
      case Kind::kNodesList: return NodesList();
      case Kind::kNodesSet: return NodesSet();
      case Kind::kNodesRemove: return NodesRemove();
      case Kind::kAssocList: return AssocList();
      case Kind::kAssocShow: return AssocShow();
      case Kind::kAssocDelete: return AssocDelete();
      case Kind::kAgentsList: return AgentsList();
      case Kind::kAgentsEnroll: return AgentsEnroll();
      case Kind::kWatch: return Watch();
      case Kind::kPlan: return RunPlan(global_, command_, stub_, out_, /*apply=*/false);
      case Kind::kApply: return RunPlan(global_, command_, stub_, out_, /*apply=*/true);
      case Kind::kExport: return RunExport(global_, stub_, out_);
      case Kind::kHelp: break;
    }
    return absl::InternalError("help is printed by main, not run");
  }

 private:
  // Each unary call gets its own deadline, so the two calls of `policy
  // update` each get the full --timeout.
  std::unique_ptr<grpc::ClientContext> Context() const { return CallContext(global_); }

  absl::Status FromGrpc(const grpc::Status& status) const {
    return ControllerError(status, global_);
  }

  // Prints `message` as JSON, or as `table(message)` in table mode.
  template <typename M>
  absl::Status Print(const M& message, std::string (*table)(const M&)) {
    if (global_.output == OutputFormat::kTable) {
      out_ << table(message);
      return absl::OkStatus();
    }
    auto json = ToJson(message, JsonStyle::kIndented);
    if (!json.ok()) return json.status();
    out_ << *json;
    return absl::OkStatus();
  }

  // What a delete did: the response as one JSON line, or `line` (ending in
  // a newline) for a person.
  absl::Status PrintOutcome(const google::protobuf::Message& response, const std::string& line) {
    if (global_.output != OutputFormat::kJson) {
      out_ << line;
      return absl::OkStatus();
    }
    auto json = ToJson(response, JsonStyle::kOneLine);
    if (!json.ok()) return json.status();
    out_ << *json;
    return absl::OkStatus();
  }

  absl::Status PolicyAdd() {
    v1::CreatePolicyRequest request;
    v1::Policy* policy = request.mutable_policy();
    policy->set_name(command_.name);
    ApplyPolicyEdits(command_.edits, policy);
    v1::Policy created;
    grpc::Status status = stub_->CreatePolicy(Context().get(), request, &created);
    if (!status.ok()) return FromGrpc(status);
    return Print(created, PolicyDetail);
  }

  absl::Status PolicyGet() {
    v1::GetPolicyRequest request;
    request.set_name(command_.name);
    v1::Policy policy;
    grpc::Status status = stub_->GetPolicy(Context().get(), request, &policy);
    if (!status.ok()) return FromGrpc(status);
    return Print(policy, PolicyDetail);
  }

  absl::Status PolicyList() {
    v1::ListPoliciesResponse response;
    grpc::Status status =
        stub_->ListPolicies(Context().get(), v1::ListPoliciesRequest(), &response);
    if (!status.ok()) return FromGrpc(status);
    return Print(response, PolicyTable);
  }

  // Read, change only what was given, write back conditioned on the
  // revision read: if someone else updated the policy in between, the
  // controller answers ABORTED instead of silently undoing their change.
  absl::Status PolicyUpdate() {
    v1::GetPolicyRequest get;
    get.set_name(command_.name);
    v1::Policy current;
    grpc::Status status = stub_->GetPolicy(Context().get(), get, &current);
    if (!status.ok()) return FromGrpc(status);

    v1::UpdatePolicyRequest request;
    request.set_expected_revision(current.revision());
    v1::Policy* policy = request.mutable_policy();
    *policy = current;
    // Set by the controller; the request carries what the operator controls.
    policy->clear_revision();
    policy->clear_create_time_unix();
    policy->clear_update_time_unix();
    ApplyPolicyEdits(command_.edits, policy);

    v1::Policy updated;
    status = stub_->UpdatePolicy(Context().get(), request, &updated);
    if (status.error_code() == grpc::StatusCode::ABORTED) {
      return absl::AbortedError(absl::StrCat(FromGrpc(status).message(), " (revision ",
                                             current.revision(),
                                             " changed while updating; run the update again)"));
    }
    if (!status.ok()) return FromGrpc(status);
    return Print(updated, PolicyDetail);
  }

  absl::Status PolicyDelete() {
    v1::DeletePolicyRequest request;
    request.set_name(command_.name);
    v1::DeletePolicyResponse response;
    grpc::Status status = stub_->DeletePolicy(Context().get(), request, &response);
    if (!status.ok()) return FromGrpc(status);
    return PrintOutcome(response, absl::StrCat("policy ", SanitizeCell(command_.name), " deleted\n"));
  }

  absl::Status NodesAdd() {
    v1::CreateNodeRequest request;
    v1::Node* node = request.mutable_node();
    node->set_name(command_.name);
    absl::Status edited = ApplyNodeEdits(command_.node, node);
    if (!edited.ok()) return edited;
    v1::Node created;
    grpc::Status status = stub_->CreateNode(Context().get(), request, &created);
    if (!status.ok()) return FromGrpc(status);
    return Print(created, NodeDetail);
  }

  absl::Status NodesGet() {
    v1::GetNodeRequest request;
    request.set_name(command_.name);
    v1::Node node;
    grpc::Status status = stub_->GetNode(Context().get(), request, &node);
    if (!status.ok()) return FromGrpc(status);
    return Print(node, NodeDetail);
  }

  absl::Status NodesList() {
    v1::ListNodesResponse response;
    grpc::Status status = stub_->ListNodes(Context().get(), v1::ListNodesRequest(), &response);
    if (!status.ok()) return FromGrpc(status);
    return Print(response, NodeTable);
  }

  // As PolicyUpdate: read, change only what was given (--add-site and
  // --remove-site edit the list read), write back conditioned on the
  // revision read, so a concurrent change is ABORTED, not undone.
  absl::Status NodesSet() {
    v1::GetNodeRequest get;
    get.set_name(command_.name);
    v1::Node current;
    grpc::Status status = stub_->GetNode(Context().get(), get, &current);
    if (!status.ok()) return FromGrpc(status);

    v1::UpdateNodeRequest request;
    request.set_expected_revision(current.revision());
    v1::Node* node = request.mutable_node();
    *node = current;
    // Set by the controller; the request carries what the operator controls.
    node->clear_revision();
    node->clear_create_time_unix();
    node->clear_update_time_unix();
    node->clear_status();
    absl::Status edited = ApplyNodeEdits(command_.node, node);
    // Its message quotes the node's sites as the controller sent them.
    if (!edited.ok()) {
      return absl::Status(edited.code(), SanitizeCell(std::string(edited.message())));
    }

    v1::Node updated;
    status = stub_->UpdateNode(Context().get(), request, &updated);
    if (status.error_code() == grpc::StatusCode::ABORTED) {
      return absl::AbortedError(absl::StrCat(FromGrpc(status).message(), " (revision ",
                                             current.revision(),
                                             " changed while updating; run the command again)"));
    }
    if (!status.ok()) return FromGrpc(status);
    return Print(updated, NodeDetail);
  }

  // "deleted node gw-e: 3 associations torn down, certificates revoked
  // (node:gw-e)": what removing a node did beyond the record.
  absl::Status NodesRemove() {
    v1::DeleteNodeRequest request;
    request.set_name(command_.name);
    request.set_keep_certificates(command_.keep_certificates);
    v1::DeleteNodeResponse response;
    grpc::Status status = stub_->DeleteNode(Context().get(), request, &response);
    if (!status.ok()) return FromGrpc(status);
    std::string name = SanitizeCell(command_.name);
    uint32_t torn_down = response.associations_torn_down();
    std::string certificates = response.certificates_revoked()
                                   ? absl::StrCat("certificates revoked (node:", name, ")")
                               : command_.keep_certificates ? "certificates kept"
                                                            : "certificates not revoked";
    return PrintOutcome(response, absl::StrCat("deleted node ", name, ": ", torn_down,
                                               torn_down == 1 ? " association" : " associations",
                                               " torn down, ", certificates, "\n"));
  }

  absl::Status AssocList() {
    v1::ListAssociationsRequest request;
    request.set_address(command_.address);
    v1::ListAssociationsResponse response;
    grpc::Status status = stub_->ListAssociations(Context().get(), request, &response);
    if (!status.ok()) return FromGrpc(status);
    return Print(response, AssociationTable);
  }

  absl::Status AssocShow() {
    v1::GetAssociationRequest request;
    request.set_id(command_.association_id);
    v1::Association association;
    grpc::Status status = stub_->GetAssociation(Context().get(), request, &association);
    if (!status.ok()) return FromGrpc(status);
    return Print(association, AssociationDetail);
  }

  // "deleted association 42 (198.18.0.1 <-> 198.18.0.2); both nodes told
  // to remove its SAs": one line, or the response as one JSON line.
  absl::Status AssocDelete() {
    v1::DeleteAssociationRequest request;
    request.set_id(command_.association_id);
    v1::DeleteAssociationResponse response;
    grpc::Status status = stub_->DeleteAssociation(Context().get(), request, &response);
    if (!status.ok()) return FromGrpc(status);
    const v1::Association& a = response.association();
    return PrintOutcome(response, absl::StrCat("deleted association ", command_.association_id,
                                               " (", SanitizeCell(a.a().address()), " <-> ",
                                               SanitizeCell(a.b().address()),
                                               "); both nodes told to remove its SAs\n"));
  }

  absl::Status AgentsList() {
    v1::ListAgentsResponse response;
    grpc::Status status = stub_->ListAgents(Context().get(), v1::ListAgentsRequest(), &response);
    if (!status.ok()) return FromGrpc(status);
    return Print(response, AgentTable);
  }

  // Prints the one-time token: the operator hands it to the node's
  // `ikeless-agent --enroll TOKEN`. It is a secret, printed only here.
  absl::Status AgentsEnroll() {
    v1::CreateEnrollmentTokenRequest request;
    request.set_node_name(command_.name);
    for (const std::string& a : command_.addresses) request.add_addresses(a);
    for (const std::string& site : command_.node.sites) request.add_sites(site);
    request.set_ttl_seconds(static_cast<uint32_t>(std::min<uint64_t>(command_.ttl_seconds, UINT32_MAX)));
    v1::EnrollmentToken response;
    grpc::Status status = stub_->CreateEnrollmentToken(Context().get(), request, &response);
    if (!status.ok()) return FromGrpc(status);
    if (global_.output == OutputFormat::kJson) {
      auto json = ToJson(response, JsonStyle::kIndented);
      if (!json.ok()) return json.status();
      out_ << *json;
    } else {
      out_ << response.token() << "\n";
    }
    return absl::OkStatus();
  }

  // No deadline: the stream runs until the operator interrupts it or the
  // controller ends it. Each event is flushed at once so that a pipe
  // (`ipsecctl -o json watch | jq`) sees it when it happens.
  absl::Status Watch() {
    grpc::ClientContext context;
    auto reader = stub_->WatchEvents(&context, v1::WatchEventsRequest());
    v1::Event event;
    while (reader->Read(&event)) {
      if (global_.output == OutputFormat::kTable) {
        out_ << EventLine(event);
      } else {
        auto json = ToJson(event, JsonStyle::kOneLine);
        if (!json.ok()) return json.status();
        out_ << *json;
      }
      out_.flush();
    }
    grpc::Status status = reader->Finish();
    if (!status.ok()) return FromGrpc(status);
    return absl::OkStatus();
  }

  const GlobalOptions& global_;
  const Command& command_;
  v1::PolicyService::StubInterface* stub_;
  std::ostream& out_;
};

}  // namespace

int RunCommand(const Invocation& invocation, v1::PolicyService::StubInterface* stub,
               std::ostream& out, std::ostream& err) {
  absl::Status status = Runner(invocation, stub, out).Run();
  if (status.ok()) return kExitOk;
  err << "ipsecctl: " << SanitizeCell(invocation.command.Subject()) << ": "
      << absl::StatusCodeToString(status.code()) << ": " << status.message() << "\n";
  return kExitFailure;
}

}  // namespace ikeless::ipsecctl
