#include "tools/ipsecctl/usage.h"

#include "absl/strings/str_cat.h"
#include "common/algorithms.h"
#include "tools/ipsecctl/cli_args.h"
#include "tools/ipsecctl/names.h"

namespace ikeless::ipsecctl {
namespace {

// Column where option descriptions start, and the width lines stay within.
constexpr size_t kIndent = 30;
constexpr size_t kWidth = 80;

// A comma-separated list of names, wrapped after a comma so that the
// continuation lines start at kIndent.
std::string WrapNames(const std::string& names) {
  std::string out;
  size_t column = kIndent;
  size_t start = 0;
  while (start < names.size()) {
    size_t comma = names.find(", ", start);
    size_t end = comma == std::string::npos ? names.size() : comma + 1;  // keep the ','
    std::string word = names.substr(start, end - start);
    if (column > kIndent && column + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, "\n", std::string(kIndent, ' '));
      column = kIndent;
    } else if (column > kIndent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    start = comma == std::string::npos ? names.size() : comma + 2;
  }
  return out;
}

}  // namespace

std::string UsageText() {
  return absl::StrCat(
      "usage: ipsecctl [global options] COMMAND [arguments]\n"
      "\n"
      "Commands:\n"
      "  policy add NAME --between A B [policy options]  create a policy\n"
      "  policy get NAME                                 show one policy\n"
      "  policy list                                     list all policies\n"
      "  policy update NAME [policy options]             change only the given options\n"
      "  policy delete NAME                              delete a policy\n"
      "  nodes add NAME --address A [--address B ...] [--site PREFIX ...]\n"
      "            [--description TEXT]                  create a node record\n"
      "  nodes get NAME                                  show one node and its SPD\n"
      "  nodes list                                      list nodes: sites, SPD\n"
      "                                                  revision applied/pushed, sync\n"
      "  nodes set NAME [node options]                   change only the given options\n"
      "  nodes remove NAME [--keep-certificates]         delete a node, tear down its\n"
      "                                                  associations, revoke node:NAME\n"
      "  assoc list [--address ADDR]                     list associations (SA pairs),\n"
      "                                                  optionally of one address\n"
      "  assoc show ID                                   show one association\n"
      "  assoc delete ID                                 delete one association; both\n"
      "                                                  nodes remove its SAs\n"
      "  agents list                                     list node agents\n"
      "  agents enroll NAME --address A [--address B ...] [--site PREFIX ...]\n"
      "                [--ttl DURATION]                  one-time token (default 1h)\n"
      "                                                  for ikeless-agent --enroll;\n"
      "                                                  with --site it also creates\n"
      "                                                  or updates the node record\n"
      "  watch                                           print events until interrupted\n"
      "  plan -f FILE                                    what making the fleet file the\n"
      "                                                  whole intent would change:\n"
      "                                                  nodes, policies, pairs, live\n"
      "                                                  associations torn down or\n"
      "                                                  rekeyed; assertions. Changes\n"
      "                                                  nothing; exit 1 if an\n"
      "                                                  assertion fails\n"
      "  apply -f FILE [--state STATE]                   make it so, in one\n"
      "                                                  transaction; with --state\n"
      "                                                  (from plan) it is\n"
      "                                                  refused if the live nodes or\n"
      "                                                  policies changed since\n"
      "  export                                          print every node and policy\n"
      "                                                  as a fleet file\n"
      "  help                                            print this text\n"
      "\n"
      "Global options (before the command or among its arguments):\n"
      "  --controller ADDR    controller address (default: $IKELESS_CONTROLLER,\n"
      "                       else ",
      kDefaultController,
      ")\n"
      "  -o, --output FORMAT  table or json (default: table)\n"
      "  --timeout SECONDS    deadline of each call (default: 10)\n"
      "  --tls-ca FILE        mutual TLS: the controller's CA ($IKELESS_TLS_CA)\n"
      "  --tls-cert FILE      an admin certificate from ikeless-ca ($IKELESS_TLS_CERT)\n"
      "  --tls-key FILE       its private key ($IKELESS_TLS_KEY); none of the three:\n"
      "                       plain text, for a controller run with --insecure\n"
      "  --tls-server-name NAME  the name the controller's certificate carries\n"
      "                       ($IKELESS_TLS_SERVER_NAME; default ikeless-controller)\n"
      "  -h, --help           print this text\n"
      "\n"
      "Policy options (an option not given keeps the controller's default, or on\n"
      "update the stored value):\n"
      "  --between A B               the address pair; each an address, a CIDR prefix\n"
      "                              or any (also '*', quoted for the shell)\n"
      "  --action ACTION             ",
      ActionNames(),
      " (default: protect)\n"
      "  --protocol PROTOCOL         ",
      ProtocolNames(),
      "\n"
      "  --mode MODE                 ",
      ModeNames(),
      "\n"
      "  --encryption NAME           ",
      WrapNames(EncryptionNames()),
      "\n"
      "  --key-bits N                encryption key size; 0 = the algorithm's default\n"
      "  --integrity NAME            ",
      WrapNames(IntegrityNames()),
      "\n"
      "  --lifetime DURATION         hard SA lifetime: 3600, 3600s, 90m, 1h, 1h30m, 1d\n"
      "                              (policy add: 1h if not given)\n"
      "  --soft-lifetime DURATION    when rekeying starts; 0 = 90 % of --lifetime\n"
      "  --lifetime-bytes N          hard byte limit; 0 = none\n"
      "  --soft-lifetime-bytes N     soft byte limit; 0 = none\n"
      "  --selector SPEC             any, tcp, udp, icmp, icmpv6, tcp/PORT, udp/PORT,\n"
      "                              proto/N or N (IP protocol number)\n"
      "  --priority N                breaks ties between equally specific policies\n"
      "  --replay-window N           anti-replay window in packets; 0 = 128\n"
      "  --allow-legacy[=false]      permit algorithms RFC 8221 deprecates\n"
      "  --description TEXT\n"
      "\n"
      "Node options (nodes add: --address, --site, --description; nodes set: all):\n"
      "  --address ADDR              an address of the node, as its certificate names\n"
      "                              it; repeat for several (replaces the list)\n"
      "  --site PREFIX               a network behind the node, e.g. 198.18.10.0/24 or\n"
      "                              fd00:10::/64; repeat for several (replaces the\n"
      "                              list)\n"
      "  --add-site PREFIX           add one site, keeping the others\n"
      "  --remove-site PREFIX        remove one site (an error if the node lacks it)\n"
      "  --no-sites                  the node protects no site (a host, not a gateway)\n"
      "  --description TEXT\n"
      "\n"
      "Every option takes its value as --option VALUE or --option=VALUE.\n"
      "Exit status: 0 success, 1 the call failed (error from or no answer by the\n"
      "controller), 2 usage error (nothing was sent).\n");
}

}  // namespace ikeless::ipsecctl
