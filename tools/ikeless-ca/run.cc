#include "tools/ikeless-ca/run.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "controller/pki/certificate_authority.h"
#include "controller/pki/file_io.h"
#include "controller/pki/identity.h"

namespace ikeless::ikeless_ca {
namespace {

using pki::CertificateAuthority;

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// One line, whatever the message contains.
void PrintError(std::ostream& err, absl::string_view message, bool usage) {
  std::string line(message);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  err << "ikeless-ca: " << line;
  if (usage) err << " (see ikeless-ca --help)";
  err << "\n";
}

absl::Status Init(const CaCommand& cmd, Clock* clock, std::ostream& out) {
  pki::CaOptions options;
  if (!cmd.ca_name.empty()) options.common_name = cmd.ca_name;
  if (cmd.days.has_value()) options.validity = absl::Hours(24) * *cmd.days;
  options.clock = clock;
  auto ca = CertificateAuthority::Init(cmd.dir, options);
  if (!ca.ok()) return ca.status();
  out << "created CA \"" << options.common_name << "\", valid until " << TimeText(ca->not_after())
      << "\n"
      << "  " << pki::JoinPath(cmd.dir, CertificateAuthority::kKeyFile)
      << "  private key (mode 0600): keep it offline and secret\n"
      << "  " << pki::JoinPath(cmd.dir, CertificateAuthority::kCertificateFile)
      << "  CA certificate: give it to the controller, agents and ipsecctl\n";
  return absl::OkStatus();
}

absl::Status Issue(const CaCommand& cmd, Clock* clock, std::ostream& out) {
  const std::string crt_path = cmd.out + ".crt";
  const std::string key_path = cmd.out + ".key";
  const bool generate = cmd.csr_file.empty();
  // Fail before touching the CA key if the output is in the way.
  for (const std::string& path : {crt_path, key_path}) {
    if (!generate && path == key_path) continue;
    if (pki::PathExists(path)) {
      return absl::AlreadyExistsError(
          absl::StrCat("--out: ", path, " already exists; refusing to overwrite it"));
    }
  }
  pki::CertificateRequest request = cmd.request;
  if (cmd.days.has_value()) request.validity = absl::Hours(24) * *cmd.days;
  if (!generate) {
    auto csr = pki::ReadSmallFile(cmd.csr_file, "--csr");
    if (!csr.ok()) return csr.status();
    request.csr_pem = *std::move(csr);
  }
  auto ca = CertificateAuthority::Load(cmd.dir, clock);
  if (!ca.ok()) return ca.status();
  auto issued = ca->Issue(request);
  if (!issued.ok()) return issued.status();
  if (generate) {
    absl::Status s = pki::WriteNewFile(key_path, issued->private_key_pem.pem(), 0600, "--out");
    if (!s.ok()) return s;
  }
  absl::Status s = pki::WriteNewFile(crt_path, issued->certificate_pem, 0644, "--out");
  if (!s.ok()) {
    if (generate) unlink(key_path.c_str());  // a key without its certificate is useless
    return s;
  }
  out << "issued " << pki::CertificateKindName(request.kind) << " certificate for " << request.name
      << ", serial " << issued->serial_hex << ", valid until " << TimeText(issued->not_after)
      << "\n"
      << "  " << crt_path << "\n";
  if (generate) out << "  " << key_path << "  private key (mode 0600)\n";
  return absl::OkStatus();
}

absl::Status Show(const CaCommand& cmd, Clock* clock, std::ostream& out) {
  auto text = pki::ReadSmallFile(cmd.file, "certificate file");
  if (!text.ok()) return text.status();
  auto id = pki::ParsePeerIdentity(*text);
  if (!id.ok())
    return absl::Status(id.status().code(), absl::StrCat(cmd.file, ": ", id.status().message()));
  auto list = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("-") : absl::StrJoin(v, ", ");
  };
  out << "kind:        " << pki::PeerKindName(id->kind) << "\n"
      << "name:        " << (id->name.empty() ? "-" : id->name) << "\n"
      << "addresses:   " << list(id->addresses) << "\n"
      << "dns names:   " << list(id->dns_names) << "\n"
      << "common name: " << (id->common_name.empty() ? "-" : id->common_name) << "\n"
      << "serial:      " << id->serial_hex << "\n"
      << "not before:  " << TimeText(id->not_before) << "\n"
      << "not after:   " << TimeText(id->not_after)
      << (id->not_after < clock->Now() ? "  (expired)" : "") << "\n";
  return absl::OkStatus();
}

}  // namespace

int RunIkelessCa(const std::vector<std::string>& args, Clock* clock, std::ostream& out,
                 std::ostream& err) {
  auto cmd = ParseCommandLine(args);
  if (!cmd.ok()) {
    PrintError(err, cmd.status().message(), /*usage=*/true);
    return kExitUsage;
  }
  absl::Status s;
  switch (cmd->verb) {
    case CaCommand::Verb::kHelp: out << UsageText(); return kExitOk;
    case CaCommand::Verb::kInit: s = Init(*cmd, clock, out); break;
    case CaCommand::Verb::kIssue: s = Issue(*cmd, clock, out); break;
    case CaCommand::Verb::kShow: s = Show(*cmd, clock, out); break;
  }
  if (!s.ok()) {
    PrintError(err, s.message(), /*usage=*/false);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace ikeless::ikeless_ca
