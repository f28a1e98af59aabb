#ifndef IKELESS_TOOLS_IKELESS_CA_COMMAND_LINE_H_
#define IKELESS_TOOLS_IKELESS_CA_COMMAND_LINE_H_

// The grammar of ikeless-ca, the operator's offline CA tool: words in,
// one CaCommand out, or an error naming the word that is wrong (the tool
// exits 2 for those). Names, addresses and DNS names are checked here
// already, with the rules the CA applies (controller/pki/names.h,
// common/address.h), so that a typo is a usage error reported before the
// CA key is read.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/pki/certificate_request.h"

namespace ikeless::ikeless_ca {

// One parsed invocation.
struct CaCommand {
  enum class Verb { kHelp, kInit, kIssue, kShow };
  Verb verb = Verb::kHelp;
  std::string dir;          // init, issue: --dir
  std::string ca_name;      // init: --name (empty: the CA's default)
  std::optional<int> days;  // init, issue: --days
  std::string out;          // issue: --out PREFIX
  std::string csr_file;     // issue: --csr FILE (empty: generate the key)
  // issue: kind, name, addresses (canonical), dns_names; validity and
  // csr_pem are filled in when running.
  pki::CertificateRequest request;
  std::string file;  // show: the certificate file
};

// Parses argv without the program name.
absl::StatusOr<CaCommand> ParseCommandLine(const std::vector<std::string>& args);

// The --help text.
const char* UsageText();

}  // namespace ikeless::ikeless_ca

#endif  // IKELESS_TOOLS_IKELESS_CA_COMMAND_LINE_H_
