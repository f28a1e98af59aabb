#ifndef IKELESS_TESTS_TEST_BINARIES_H_
#define IKELESS_TESTS_TEST_BINARIES_H_

// Paths of the project's binaries for cross-process tests, passed by Bazel
// as `--controller_bin=$(rootpath ...)` etc. and read by tests/test_main.cc.

#include <string>

namespace ikeless::testing {

struct TestBinaries {
  std::string controller;
  std::string ipsecctl;
  std::string agent;
};

const TestBinaries& Binaries();

}  // namespace ikeless::testing

#endif  // IKELESS_TESTS_TEST_BINARIES_H_
