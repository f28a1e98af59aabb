// ipsecctl: the operator's command-line client of the controller's
// PolicyService. Parsing, running and printing live in the libraries beside
// this file; main only wires them to argv, the environment and a channel.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "proto/admin.grpc.pb.h"
#include "tools/ipsecctl/command.h"
#include "tools/ipsecctl/dial.h"
#include "tools/ipsecctl/run.h"
#include "tools/ipsecctl/usage.h"

int main(int argc, char** argv) {
  using namespace ikeless::ipsecctl;
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env_controller = std::getenv("IKELESS_CONTROLLER");

  auto invocation = ParseInvocation(args, env_controller != nullptr ? env_controller : "");
  if (!invocation.ok()) {
    std::cerr << "ipsecctl: " << invocation.status().message() << "\n";
    return kExitUsage;
  }
  if (invocation->command.kind == Command::Kind::kHelp) {
    std::cout << UsageText();
    return kExitOk;
  }

  ikeless::TlsFiles& tls = invocation->global.tls;
  auto env = [](const char* name, std::string* out) {
    const char* v = std::getenv(name);
    if (out->empty() && v != nullptr) *out = v;
  };
  env("IKELESS_TLS_CA", &tls.ca_file);
  env("IKELESS_TLS_CERT", &tls.cert_file);
  env("IKELESS_TLS_KEY", &tls.key_file);
  if (const char* name = std::getenv("IKELESS_TLS_SERVER_NAME");
      name != nullptr && *name != '\0' && !invocation->global.tls_server_name_given) {
    tls.server_name = name;
  }
  auto channel = DialController(invocation->global);
  if (!channel.ok()) {
    std::cerr << "ipsecctl: " << channel.status().message() << "\n";
    return kExitFailure;
  }
  auto stub = ikeless::v1::PolicyService::NewStub(*channel);
  int code = RunCommand(*invocation, stub.get(), std::cout, std::cerr);
  std::cout.flush();
  return code;
}
