#ifndef IKELESS_TOOLS_IKELESS_CA_RUN_H_
#define IKELESS_TOOLS_IKELESS_CA_RUN_H_

// Running ikeless-ca: parses the command line (command_line.h), does the
// work with controller/pki, prints a summary on `out` and any error as one
// line "ikeless-ca: ..." on `err`. Private keys go only to files (mode
// 0600), never to `out` or `err`.

#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "tools/ikeless-ca/command_line.h"

namespace ikeless::ikeless_ca {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command line was fine; the work failed
inline constexpr int kExitUsage = 2;    // the command line is wrong; nothing was done

// The whole tool: `args` without the program name. `clock` dates
// certificates and marks expired ones in "show".
int RunIkelessCa(const std::vector<std::string>& args, Clock* clock, std::ostream& out,
                 std::ostream& err);

}  // namespace ikeless::ikeless_ca

#endif  // IKELESS_TOOLS_IKELESS_CA_RUN_H_
