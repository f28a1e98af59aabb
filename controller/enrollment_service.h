#ifndef IKELESS_CONTROLLER_ENROLLMENT_SERVICE_H_
#define IKELESS_CONTROLLER_ENROLLMENT_SERVICE_H_

// EnrollmentService: a new node trades a one-time token for a certificate
// naming it and its addresses (no client certificate needed for that one
// call); an enrolled node renews its certificate before it expires with its
// current one. The CA decides the identity; the CSR contributes only the
// public key.

#include "controller/enrollment_tokens.h"
#include "controller/pki/certificate_authority.h"
#include "controller/revocation_list.h"
#include "proto/admin.grpc.pb.h"

namespace ikeless::controller {

class EnrollmentServiceImpl final : public v1::EnrollmentService::Service {
 public:
  EnrollmentServiceImpl(const pki::CertificateAuthority* ca, EnrollmentTokens* tokens,
                        const RevocationList* revocations)
      : ca_(ca), tokens_(tokens), revocations_(revocations) {}

  grpc::Status Enroll(grpc::ServerContext* context, const v1::EnrollRequest* request,
                      v1::EnrollResponse* response) override;
  grpc::Status Renew(grpc::ServerContext* context, const v1::RenewRequest* request,
                     v1::EnrollResponse* response) override;

 private:
  grpc::Status Issue(const std::string& node, const std::vector<std::string>& addresses,
                     const std::string& csr_pem, v1::EnrollResponse* response);

  const pki::CertificateAuthority* ca_;
  EnrollmentTokens* tokens_;
  const RevocationList* revocations_;
};

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_ENROLLMENT_SERVICE_H_
