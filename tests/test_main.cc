// GoogleTest main for cross-process tests: takes the binaries' paths from
// the command line (see tests/BUILD.bazel) after GoogleTest's own flags.
#include <string>

#include "gtest/gtest.h"
#include "tests/test_binaries.h"

namespace ikeless::testing {
namespace {
TestBinaries binaries;
}  // namespace

const TestBinaries& Binaries() { return binaries; }

}  // namespace ikeless::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto take = [&](const std::string& flag, std::string* out) {
      if (a.rfind(flag, 0) == 0) *out = a.substr(flag.size());
    };
    take("--controller_bin=", &ikeless::testing::binaries.controller);
    take("--ipsecctl_bin=", &ikeless::testing::binaries.ipsecctl);
    take("--agent_bin=", &ikeless::testing::binaries.agent);
  }
  return RUN_ALL_TESTS();
}
