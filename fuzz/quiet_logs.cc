// Linked into every fuzz target: the code under test logs (engine SA
// expiry, request processor decisions, ...) and protobuf logs every string
// field with invalid UTF-8 it parses, at up to a million inputs a minute,
// which would fill the disk and slow fuzzing tenfold. Both stay quiet
// unless IKELESS_FUZZ_DEBUG is set. libFuzzer and corpus_main.cc both call
// LLVMFuzzerInitialize once before the first input.
#include <google/protobuf/stubs/logging.h>

#include <cstdlib>

#include "common/log.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (std::getenv("IKELESS_FUZZ_DEBUG") == nullptr) {
    // One above the highest level: nothing is written.
    ikeless::SetMinLogLevel(
        static_cast<ikeless::LogLevel>(static_cast<int>(ikeless::LogLevel::kError) + 1));
    google::protobuf::SetLogHandler(nullptr);  // nullptr: discard
  }
  return 0;
}
