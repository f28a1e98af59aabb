#include "controller/enrollment_service.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "controller/caller.h"
#include "controller/grpc_status.h"
#include "controller/pki/csr.h"

namespace ikeless::controller {

grpc::Status EnrollmentServiceImpl::Issue(const std::string& node,
                                          const std::vector<std::string>& addresses,
                                          const std::string& csr_pem,
                                          v1::EnrollResponse* response) {
  pki::CertificateRequest req;
  req.kind = pki::CertificateKind::kNode;
  req.name = node;
  req.addresses = addresses;
  req.csr_pem = csr_pem;
  auto issued = ca_->Issue(req);
  if (!issued.ok()) return ToGrpc(issued.status());
  response->set_certificate_pem(issued->certificate_pem);
  response->set_ca_certificate_pem(ca_->certificate_pem());
  response->set_expire_time_unix(absl::ToUnixSeconds(issued->not_after));
  LogInfo("node_certificate_issued")
      .Kv("node", node)
      .Kv("serial", issued->serial_hex)
      .Kv("expires", absl::FormatTime(issued->not_after));
  return grpc::Status::OK;
}

grpc::Status EnrollmentServiceImpl::Enroll(grpc::ServerContext* context,
                                           const v1::EnrollRequest* request,
                                           v1::EnrollResponse* response) {
  if (request->token().empty() || request->token().size() > 128) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "token: missing or too long");
  }
  if (request->csr_pem().empty() || request->csr_pem().size() > 16 * 1024) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "csr_pem: missing or too long");
  }
  // Check the CSR before the token is spent: a typo must not burn it.
  if (auto key = pki::PublicKeyFromCsrPem(request->csr_pem(), "csr_pem"); !key.ok()) {
    return ToGrpc(key.status());
  }
  auto grant = tokens_->Redeem(request->token());
  if (!grant.ok()) {
    LogWarning("enrollment_refused").Kv("peer", context->peer()).Kv("reason", grant.status().message());
    return ToGrpc(grant.status());
  }
  return Issue(grant->node_name, grant->addresses, request->csr_pem(), response);
}

grpc::Status EnrollmentServiceImpl::Renew(grpc::ServerContext* context,
                                          const v1::RenewRequest* request,
                                          v1::EnrollResponse* response) {
  auto caller = CallerOf(context->auth_context().get(), /*tls=*/true);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (caller->kind != Caller::Kind::kNode) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "only a node certificate can be renewed");
  }
  if (absl::Status st = CheckStanding(*caller, revocations_, absl::Now()); !st.ok()) {
    return ToGrpc(st);
  }
  if (request->csr_pem().empty() || request->csr_pem().size() > 16 * 1024) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "csr_pem: missing or too long");
  }
  // Same identity as the certificate presented: renewal never widens it.
  return Issue(caller->name, caller->addresses, request->csr_pem(), response);
}

}  // namespace ikeless::controller
