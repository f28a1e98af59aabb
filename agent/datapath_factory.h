#ifndef IKELESS_AGENT_DATAPATH_FACTORY_H_
#define IKELESS_AGENT_DATAPATH_FACTORY_H_

// Builds the datapath backend the configuration asks for: kernel XFRM
// (datapath/xfrm/) with `xfrm {}`, else the in-process ESP engine on a TUN
// device (datapath/esp/).

#include <memory>

#include "absl/status/statusor.h"
#include "agent/config.pb.h"
#include "datapath/datapath.h"

namespace ikeless::agent {

absl::StatusOr<std::unique_ptr<datapath::Datapath>> MakeDatapath(const v1::AgentConfig& config);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_DATAPATH_FACTORY_H_
