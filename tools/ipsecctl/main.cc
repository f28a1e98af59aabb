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

  // Plaintext: the controller listens without TLS for now
  // (controller/controller_server.cc); switch both together.
  auto channel =
      grpc::CreateChannel(invocation->global.controller, grpc::InsecureChannelCredentials());
  auto stub = ikeless::v1::PolicyService::NewStub(channel);
  int code = RunCommand(*invocation, stub.get(), std::cout, std::cerr);
  std::cout.flush();
  return code;
}
