#include "tools/ipsecctl/cli_args.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ikeless::ipsecctl {
namespace {

const OptionSpec* FindSpec(absl::Span<const OptionSpec> specs, absl::string_view word) {
  for (const OptionSpec& spec : specs) {
    if (word == spec.name || (spec.short_name != nullptr && word == spec.short_name)) {
      return &spec;
    }
  }
  return nullptr;
}

bool LooksLikeOption(absl::string_view word) { return word.size() > 1 && word[0] == '-'; }

constexpr OptionSpec kGlobalSpecs[] = {
    {"--controller", nullptr, 1, "ADDR"},
    {"--output", "-o", 1, "table|json"},
    {"--timeout", nullptr, 1, "SECONDS"},
    {"--tls-ca", nullptr, 1, "FILE"},
    {"--tls-cert", nullptr, 1, "FILE"},
    {"--tls-key", nullptr, 1, "FILE"},
    {"--tls-server-name", nullptr, 1, "NAME"},
};

}  // namespace

absl::StatusOr<SplitResult> SplitArgs(absl::Span<const std::string> args,
                                      absl::Span<const OptionSpec> specs, bool stop_at_operand) {
  SplitResult result;
  size_t i = 0;
  while (i < args.size()) {
    absl::string_view word = args[i];
    if (word == "--") {
      result.operands.insert(result.operands.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (!LooksLikeOption(word)) {
      if (stop_at_operand) {
        result.operands.insert(result.operands.end(), args.begin() + i, args.end());
        break;
      }
      result.operands.emplace_back(word);
      ++i;
      continue;
    }
    // "--flag=value" (and "-o=json"): the value is part of this word.
    size_t eq = word.find('=');
    absl::string_view flag = word.substr(0, eq);
    const OptionSpec* spec = FindSpec(specs, flag);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(flag.substr(0, 40), ": unknown option"));
    }
    Option option{spec->name, {}};
    ++i;
    if (eq != absl::string_view::npos) {
      if (spec->values == 0 && !spec->boolean) {
        return absl::InvalidArgumentError(absl::StrCat(spec->name, ": takes no value"));
      }
      option.values.emplace_back(word.substr(eq + 1));
    }
    while (static_cast<int>(option.values.size()) < spec->values) {
      if (i >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec->name, ": missing value (", spec->name, " ", spec->value_names, ")"));
      }
      option.values.push_back(args[i++]);
    }
    result.options.push_back(std::move(option));
  }
  return result;
}

absl::StatusOr<bool> BoolValue(const Option& option) {
  if (option.values.empty()) return true;
  const std::string& value = option.values[0];
  if (value == "true") return true;
  if (value == "false") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("'", value.substr(0, 32), "' is not true or false"));
}

GlobalOptions DefaultGlobalOptions(absl::string_view env_controller) {
  GlobalOptions global;
  global.controller = env_controller.empty() ? kDefaultController : std::string(env_controller);
  return global;
}

absl::Span<const OptionSpec> GlobalOptionSpecs() { return kGlobalSpecs; }

bool IsGlobalOption(absl::string_view name) { return FindSpec(kGlobalSpecs, name) != nullptr; }

absl::Status ApplyGlobalOption(const Option& option, GlobalOptions* global) {
  const std::string& value = option.values.at(0);
  if (option.name == "--controller") {
    if (value.empty()) return absl::InvalidArgumentError("--controller: empty address");
    global->controller = value;
  } else if (option.name == "--output") {
    if (value == "table") {
      global->output = OutputFormat::kTable;
    } else if (value == "json") {
      global->output = OutputFormat::kJson;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--output: '", value.substr(0, 32), "' is not one of: table, json"));
    }
  } else if (option.name == "--timeout") {
    // Fractions are fine here ("0.5"): this is a deadline, not a lifetime.
    double seconds;
    if (!absl::SimpleAtod(value, &seconds) || !std::isfinite(seconds) || seconds <= 0 ||
        seconds > 1e6 || value.find_first_of(" \t+") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--timeout: '", value.substr(0, 32),
                                                     "' is not a positive number of seconds"));
    }
    global->timeout = absl::Seconds(seconds);
  } else if (option.name == "--tls-ca" || option.name == "--tls-cert" ||
             option.name == "--tls-key") {
    if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(option.name, ": empty path"));
    (option.name == "--tls-ca"     ? global->tls.ca_file
     : option.name == "--tls-cert" ? global->tls.cert_file
                                   : global->tls.key_file) = value;
  } else if (option.name == "--tls-server-name") {
    if (value.empty()) return absl::InvalidArgumentError("--tls-server-name: empty name");
    global->tls.server_name = value;
    global->tls_server_name_given = true;
  } else {
    return absl::InternalError(absl::StrCat("not a global option: ", option.name));
  }
  return absl::OkStatus();
}

}  // namespace ikeless::ipsecctl
