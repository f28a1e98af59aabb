#ifndef IKELESS_TOOLS_IPSECCTL_CLI_ARGS_H_
#define IKELESS_TOOLS_IPSECCTL_CLI_ARGS_H_

// Tokenising of the command line: splitting words into options (with their
// values) and operands, and the global options that every command shares.
// The grammar of each command lives in command.h; this file knows only the
// shape of options, so that "--flag value" and "--flag=value" behave the same
// for every option of every command.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/tls_credentials.h"

namespace ikeless::ipsecctl {

// One option a command accepts.
struct OptionSpec {
  const char* name;         // "--between"
  const char* short_name;   // "-o", or nullptr
  int values;               // words that follow it: 0, 1 or 2
  const char* value_names;  // "A B", for the "needs ..." error
  // Only for values == 0: "--flag=true" / "--flag=false" are accepted too.
  bool boolean = false;
};

// One option as given. `name` is the spec's long name even when the short
// one was typed, so callers compare against one spelling. A boolean flag
// given without "=..." has no values.
struct Option {
  std::string name;
  std::vector<std::string> values;
};

// The result of SplitArgs, in command-line order.
struct SplitResult {
  std::vector<Option> options;
  std::vector<std::string> operands;
};

// Splits `args` by `specs`. "--" ends the options: every later word is an
// operand. A word starting with '-' that matches no spec is an error (a lone
// "-" is an operand). Values are taken verbatim, so "--priority -5" and
// "--description --x" work. With stop_at_operand, scanning stops at the
// first operand and that word and all after it are returned as operands
// unparsed: the global options before a command.
absl::StatusOr<SplitResult> SplitArgs(absl::Span<const std::string> args,
                                      absl::Span<const OptionSpec> specs,
                                      bool stop_at_operand = false);

// The value of a boolean flag (OptionSpec::boolean): true when given bare,
// else "true" or "false". The error does not name the option; callers
// prefix it.
absl::StatusOr<bool> BoolValue(const Option& option);

enum class OutputFormat { kTable, kJson };

// Options that every command shares.
struct GlobalOptions {
  std::string controller;  // gRPC target, e.g. "127.0.0.1:50051"
  OutputFormat output = OutputFormat::kTable;
  absl::Duration timeout = absl::Seconds(10);  // deadline of each unary call
  // Mutual TLS with an admin certificate (ikeless-ca issue admin); defaults
  // from IKELESS_TLS_CA, IKELESS_TLS_CERT, IKELESS_TLS_KEY. None = plain text.
  TlsFiles tls;
  bool tls_server_name_given = false;  // --tls-server-name: wins over the environment
};

inline constexpr char kDefaultController[] = "127.0.0.1:50051";

// Defaults: controller from `env_controller` (the value of
// IKELESS_CONTROLLER; empty counts as unset), else kDefaultController.
GlobalOptions DefaultGlobalOptions(absl::string_view env_controller);

// --controller, -o/--output, --timeout. (-h/--help is handled by the command
// grammar, which must see it wherever it is.)
absl::Span<const OptionSpec> GlobalOptionSpecs();

// True if `name` is one of GlobalOptionSpecs().
bool IsGlobalOption(absl::string_view name);

// Applies one global option; the error names the option.
absl::Status ApplyGlobalOption(const Option& option, GlobalOptions* global);

}  // namespace ikeless::ipsecctl

#endif  // IKELESS_TOOLS_IPSECCTL_CLI_ARGS_H_
