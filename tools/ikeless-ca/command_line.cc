#include "tools/ikeless-ca/command_line.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "controller/pki/names.h"

namespace ikeless::ikeless_ca {
namespace {

using pki::CertificateKind;

constexpr int kMaxDays = 36500;

// Options every verb may take; each takes one value.
const std::set<std::string>& KnownOptions() {
  static const auto* known = new std::set<std::string>{"--dir", "--name",    "--days", "--out",
                                                       "--csr", "--address", "--ip",   "--dns"};
  return *known;
}

bool Repeatable(const std::string& option) {
  return option == "--address" || option == "--ip" || option == "--dns";
}

// Words split into options (in order) and operands.
struct Words {
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> operands;
  bool help = false;
};

absl::StatusOr<Words> Split(const std::vector<std::string>& args) {
  Words words;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      words.operands.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      words.help = true;
      continue;
    }
    std::string name = arg;
    std::string value;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (KnownOptions().count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(pki::QuoteForError(name), ": unknown option"));
    }
    if (eq == std::string::npos) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": needs a value"));
      }
      value = args[++i];
    }
    words.options.emplace_back(name, value);
  }
  return words;
}

absl::StatusOr<int> ParseDays(const std::string& text) {
  int days = 0;
  if (!absl::SimpleAtoi(text, &days) || days < 1 || days > kMaxDays || text[0] == '+') {
    return absl::InvalidArgumentError(absl::StrCat("--days: ", pki::QuoteForError(text),
                                                   " must be a whole number of days from 1 to ",
                                                   kMaxDays));
  }
  return days;
}

// Applies the options to `cmd`, refusing those `allowed` does not list.
absl::Status ApplyOptions(const Words& words, const std::set<std::string>& allowed,
                          absl::string_view context, CaCommand* cmd) {
  std::set<std::string> seen;
  for (const auto& [name, value] : words.options) {
    if (allowed.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": not an option of '", context, "'"));
    }
    if (!Repeatable(name) && !seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": given more than once"));
    }
    if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": empty value"));
    if (name == "--dir") {
      cmd->dir = value;
    } else if (name == "--name") {
      cmd->ca_name = value;
    } else if (name == "--days") {
      auto days = ParseDays(value);
      if (!days.ok()) return days.status();
      cmd->days = *days;
    } else if (name == "--out") {
      cmd->out = value;
    } else if (name == "--csr") {
      cmd->csr_file = value;
    } else if (name == "--address" || name == "--ip") {
      auto canonical = CanonicalAddress(value, name);
      if (!canonical.ok()) return canonical.status();
      for (const std::string& have : cmd->request.addresses) {
        if (have == *canonical) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, ": ", *canonical, " is given twice"));
        }
      }
      cmd->request.addresses.push_back(*canonical);
    } else if (name == "--dns") {
      absl::Status s = pki::ValidateDnsName(value, name);
      if (!s.ok()) return s;
      cmd->request.dns_names.push_back(value);
    }
  }
  return absl::OkStatus();
}

absl::Status Require(bool present, absl::string_view option, absl::string_view context) {
  if (present) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("'", context, "' needs ", option));
}

absl::Status ParseIssue(const Words& words, CaCommand* cmd) {
  if (words.operands.size() < 2) {
    return absl::InvalidArgumentError("issue: give a kind (node, admin or server)");
  }
  const std::string& kind = words.operands[1];
  std::set<std::string> allowed = {"--dir", "--out", "--days", "--csr"};
  if (kind == "node") {
    cmd->request.kind = CertificateKind::kNode;
    allowed.insert({"--address", "--ip"});
  } else if (kind == "admin") {
    cmd->request.kind = CertificateKind::kAdmin;
  } else if (kind == "server") {
    cmd->request.kind = CertificateKind::kServer;
    allowed.insert({"--address", "--ip", "--dns"});
  } else {
    return absl::InvalidArgumentError(absl::StrCat("issue: ", pki::QuoteForError(kind),
                                                   " is not a kind; use node, admin or server"));
  }
  std::string context = absl::StrCat("issue ", kind);
  if (words.operands.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": give exactly one NAME"));
  }
  cmd->request.name = words.operands[2];
  absl::Status s = pki::ValidateIdentityName(cmd->request.name, "NAME");
  if (!s.ok()) return s;
  s = ApplyOptions(words, allowed, context, cmd);
  if (!s.ok()) return s;
  s = Require(!cmd->dir.empty(), "--dir DIR", context);
  if (!s.ok()) return s;
  s = Require(!cmd->out.empty(), "--out PREFIX", context);
  if (!s.ok()) return s;
  if (kind == "node") {
    s = Require(!cmd->request.addresses.empty(), "at least one --address", context);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

const char* UsageText() {
  return "usage: ikeless-ca COMMAND [arguments]\n"
         "\n"
         "The offline certificate authority of ikeless. Keep DIR (and its ca.key)\n"
         "off the controller host; distribute only ca.crt.\n"
         "\n"
         "Commands:\n"
         "  init --dir DIR [--name CN] [--days N]\n"
         "      Create a new CA: DIR/ca.key (mode 0600) and DIR/ca.crt. Never\n"
         "      overwrites an existing CA. Default CN \"ikeless CA\", 3650 days.\n"
         "  issue node NAME --address A [--address B ...] --dir DIR --out PREFIX\n"
         "      A node agent's certificate: ikeless://node/NAME and the node's\n"
         "      addresses (IPv4 or IPv6). Default 30 days.\n"
         "  issue admin NAME --dir DIR --out PREFIX\n"
         "      An operator's certificate for ipsecctl: ikeless://admin/NAME.\n"
         "      Default 30 days.\n"
         "  issue server NAME [--dns HOST ...] [--ip A ...] --dir DIR --out PREFIX\n"
         "      The controller's certificate. Without --dns and --ip: localhost,\n"
         "      127.0.0.1 and ::1. Default 365 days.\n"
         "  show FILE.crt\n"
         "      Print the identity a certificate carries.\n"
         "  help\n"
         "      Print this text.\n"
         "\n"
         "Options of issue:\n"
         "  --days N      validity in days (1-36500; not beyond the CA's own)\n"
         "  --csr FILE    certify the public key of this PKCS#10 request (EC P-256)\n"
         "                instead of generating a key; its subject is ignored\n"
         "  --out PREFIX  write PREFIX.crt and, unless --csr, PREFIX.key (mode\n"
         "                0600); existing files are never overwritten\n"
         "\n"
         "NAME: 1-64 letters, digits, '.', '_' or '-'. Options take \"--opt V\" or\n"
         "\"--opt=V\". Exit status: 0 done, 1 failed, 2 wrong command line.\n";
}

absl::StatusOr<CaCommand> ParseCommandLine(const std::vector<std::string>& args) {
  auto words = Split(args);
  if (!words.ok()) return words.status();
  CaCommand cmd;
  if (words->help || words->operands.empty() || words->operands[0] == "help") {
    if (words->operands.size() > 1 && words->operands[0] == "help") {
      return absl::InvalidArgumentError("help: takes no arguments");
    }
    cmd.verb = CaCommand::Verb::kHelp;
    return cmd;
  }
  const std::string& verb = words->operands[0];
  if (verb == "init") {
    cmd.verb = CaCommand::Verb::kInit;
    if (words->operands.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("init: unexpected argument ", pki::QuoteForError(words->operands[1])));
    }
    absl::Status s = ApplyOptions(*words, {"--dir", "--name", "--days"}, "init", &cmd);
    if (!s.ok()) return s;
    s = Require(!cmd.dir.empty(), "--dir DIR", "init");
    if (!s.ok()) return s;
    return cmd;
  }
  if (verb == "issue") {
    cmd.verb = CaCommand::Verb::kIssue;
    absl::Status s = ParseIssue(*words, &cmd);
    if (!s.ok()) return s;
    return cmd;
  }
  if (verb == "show") {
    cmd.verb = CaCommand::Verb::kShow;
    if (words->operands.size() != 2) {
      return absl::InvalidArgumentError("show: give exactly one certificate file");
    }
    absl::Status s = ApplyOptions(*words, {}, "show", &cmd);
    if (!s.ok()) return s;
    cmd.file = words->operands[1];
    return cmd;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(pki::QuoteForError(verb), " is not a command; use init, issue, show or help"));
}

}  // namespace ikeless::ikeless_ca
