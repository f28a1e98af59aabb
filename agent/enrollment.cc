#include "agent/enrollment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/secret.h"
#include "controller/pki/identity.h"
#include "grpcpp/grpcpp.h"
#include "proto/admin.grpc.pb.h"

namespace ikeless::agent {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `data` to `path` through a temporary file and rename(2), so a
// reader sees the old or the new file, never half of one.
absl::Status WriteAtomically(const std::string& path, const std::string& data, mode_t mode) {
  const std::string tmp = path + ".new";
  unlink(tmp.c_str());  // a leftover of someone else's must not keep its mode
  int fd = open(tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  bool ok = fchmod(fd, mode) == 0 &&
            write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::Status Save(const TlsFiles& tls, const std::string& key_pem, const v1::EnrollResponse& r) {
  // Key first: a certificate is never on disk without its key.
  if (absl::Status s = WriteAtomically(tls.key_file, key_pem, 0600); !s.ok()) return s;
  return WriteAtomically(tls.cert_file, r.certificate_pem(), 0644);
}

grpc::ChannelArguments Args(const TlsFiles& tls) {
  grpc::ChannelArguments args;
  if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
  return args;
}

absl::Status FromGrpc(const grpc::Status& s, absl::string_view what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

}  // namespace

absl::Status EnrollNode(const std::string& target, const TlsFiles& tls,
                        const std::string& node_name, const std::string& token) {
  if (access(tls.cert_file.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        tls.cert_file, " exists; this node is enrolled (remove it to enroll again)"));
  }
  if (absl::Status s = RestrictToTls13(); !s.ok()) return s;
  auto ca = ReadFile(tls.ca_file);
  if (!ca.ok()) return ca.status();
  auto key = pki::GenerateKeyAndCsr(node_name);
  if (!key.ok()) return key.status();
  // Server-authenticated TLS only: the token is our credential.
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = *ca;
  auto stub = v1::EnrollmentService::NewStub(
      grpc::CreateCustomChannel(target, grpc::SslCredentials(o), Args(tls)));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  v1::EnrollRequest req;
  req.set_token(token);
  req.set_csr_pem(key->csr_pem);
  v1::EnrollResponse resp;
  grpc::Status s = stub->Enroll(&ctx, req, &resp);
  WipeString(req.mutable_token());
  if (!s.ok()) return FromGrpc(s, "enroll");
  if (absl::Status saved = Save(tls, key->private_key_pem.pem(), resp); !saved.ok()) return saved;
  LogInfo("enrolled").Kv("node", node_name).Kv("certificate", tls.cert_file).Kv(
      "expires", absl::FormatTime(absl::FromUnixSeconds(resp.expire_time_unix())));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::Time>> RenewIfDue(const std::string& target,
                                                     const TlsFiles& tls,
                                                     double renew_when_left) {
  auto pem = ReadFile(tls.cert_file);
  if (!pem.ok()) return pem.status();
  auto id = pki::ParsePeerIdentity(*pem);
  if (!id.ok()) return id.status();
  const absl::Time now = absl::Now();
  const absl::Duration lifetime = id->not_after - id->not_before;
  if (id->not_after - now > lifetime * renew_when_left) return std::nullopt;
  auto key = pki::GenerateKeyAndCsr(id->name);
  if (!key.ok()) return key.status();
  grpc::ChannelArguments args;
  auto creds = MakeChannelCredentials(tls, &args);
  if (!creds.ok()) return creds.status();
  auto stub = v1::EnrollmentService::NewStub(grpc::CreateCustomChannel(target, *creds, args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  v1::RenewRequest req;
  req.set_csr_pem(key->csr_pem);
  v1::EnrollResponse resp;
  grpc::Status s = stub->Renew(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s, "renew");
  if (absl::Status saved = Save(tls, key->private_key_pem.pem(), resp); !saved.ok()) return saved;
  const absl::Time expires = absl::FromUnixSeconds(resp.expire_time_unix());
  LogInfo("certificate_renewed").Kv("node", id->name).Kv("old_serial", id->serial_hex).Kv(
      "expires", absl::FormatTime(expires));
  return expires;
}

}  // namespace ikeless::agent
