#ifndef IKELESS_AGENT_CONFIG_H_
#define IKELESS_AGENT_CONFIG_H_

// Reads and checks the agent's configuration file (agent/config.proto, text
// format) and turns its SPD rules into datapath::SpdEntry values. Every
// error names the file, the field and the reason.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/config.pb.h"
#include "datapath/datapath.h"

namespace ikeless::agent {

// A checked configuration with defaults filled in.
struct LoadedConfig {
  v1::AgentConfig config;
  std::vector<datapath::SpdEntry> spd;  // ids 1, 2, ... in file order
};

// Parses `text` (`origin` names it in errors, e.g. the file path).
absl::StatusOr<LoadedConfig> ParseConfig(const std::string& text, const std::string& origin);
absl::StatusOr<LoadedConfig> LoadConfigFile(const std::string& path);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_CONFIG_H_
