#include "bench/controller_admin.h"

#include <sqlite3.h>

#include <chrono>

#include "absl/strings/str_cat.h"

namespace ikeless::bench {
namespace {

absl::Status FromGrpc(const grpc::Status& s, const char* what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

}  // namespace

ControllerAdmin::ControllerAdmin(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);  // ListAgents of a 10k fleet exceeds 4 MB
  stub_ = v1::PolicyService::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
}

absl::Status ControllerAdmin::AddMeshPolicy(const std::string& name, const std::string& prefix,
                                            uint64_t hard_seconds) {
  v1::CreatePolicyRequest request;
  v1::Policy* p = request.mutable_policy();
  p->set_name(name);
  p->mutable_a()->set_address(prefix);
  p->mutable_b()->set_address(prefix);
  p->mutable_lifetime()->set_hard_seconds(hard_seconds);
  p->set_description("benchmark: every node of the range with every other");
  v1::Policy created;
  grpc::ClientContext context;
  SetDeadline(&context);
  return FromGrpc(stub_->CreatePolicy(&context, request, &created), "CreatePolicy");
}

absl::StatusOr<int> ControllerAdmin::ConnectedAgents() {
  v1::ListAgentsResponse response;
  grpc::ClientContext context;
  SetDeadline(&context);
  grpc::Status s = stub_->ListAgents(&context, v1::ListAgentsRequest(), &response);
  if (!s.ok()) return FromGrpc(s, "ListAgents");
  int connected = 0;
  for (const v1::Agent& a : response.agents()) connected += a.connected() ? 1 : 0;
  return connected;
}

absl::Status ControllerAdmin::AddNode(const std::string& name, const std::string& address,
                                      const std::string& site) {
  v1::CreateNodeRequest request;
  v1::Node* n = request.mutable_node();
  n->set_name(name);
  n->add_addresses(address);
  n->add_sites(site);
  v1::Node created;
  grpc::ClientContext context;
  SetDeadline(&context);
  return FromGrpc(stub_->CreateNode(&context, request, &created), "CreateNode");
}

absl::Status ControllerAdmin::DeletePolicy(const std::string& name) {
  v1::DeletePolicyRequest request;
  request.set_name(name);
  v1::DeletePolicyResponse response;
  grpc::ClientContext context;
  SetDeadline(&context);
  return FromGrpc(stub_->DeletePolicy(&context, request, &response), "DeletePolicy");
}

absl::StatusOr<int> ControllerAdmin::NodesInSync() {
  v1::ListNodesResponse response;
  grpc::ClientContext context;
  SetDeadline(&context);
  grpc::Status s = stub_->ListNodes(&context, v1::ListNodesRequest(), &response);
  if (!s.ok()) return FromGrpc(s, "ListNodes");
  int in_sync = 0;
  for (const v1::Node& n : response.nodes()) in_sync += n.status().in_sync() ? 1 : 0;
  return in_sync;
}

absl::StatusOr<AssociationCounts> CountAssociations(const std::string& database) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat(database, ": ", message));
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  AssociationCounts counts;
  rc = sqlite3_prepare_v2(db,
                          "SELECT COUNT(*), COALESCE(SUM(b_request_id <> 0), 0) FROM associations",
                          -1, &stmt, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    counts.rows = sqlite3_column_int64(stmt, 0);
    counts.established = sqlite3_column_int64(stmt, 1);
  }
  std::string message = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_ROW) return absl::UnavailableError(absl::StrCat(database, ": ", message));
  return counts;
}

}  // namespace ikeless::bench
