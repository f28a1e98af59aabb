// The agent's configuration parser (agent/config.h ParseConfig) on
// arbitrary text: protobuf text format, then every check of the file's
// fields and its local SPD rules.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = ikeless::agent::ParseConfig(text, "fuzz.conf");
  if (config.ok()) {
    // A checked configuration must print and parse back to the same result.
    auto again = ikeless::agent::ParseConfig(config->config.DebugString(), "fuzz.conf");
    if (!again.ok() || again->spd.size() != config->spd.size()) __builtin_trap();
  }
  return 0;
}
