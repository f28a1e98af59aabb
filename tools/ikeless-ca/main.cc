// ikeless-ca: the operator's offline certificate authority (see
// tools/ikeless-ca/command_line.cc for the usage text). Parsing and running
// live in the libraries beside this file; main wires them to argv.

#include <iostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "tools/ikeless-ca/run.h"

int main(int argc, char** argv) {
  // The tool prints its own summary; the PKI library's info lines (meant
  // for the controller's log) would only repeat it.
  ikeless::SetMinLogLevel(ikeless::LogLevel::kWarning);
  std::vector<std::string> args(argv + 1, argv + argc);
  int code =
      ikeless::ikeless_ca::RunIkelessCa(args, ikeless::SystemClock::Get(), std::cout, std::cerr);
  std::cout.flush();
  return code;
}
