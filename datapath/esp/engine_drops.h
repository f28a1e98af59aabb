#ifndef IKELESS_DATAPATH_ESP_ENGINE_DROPS_H_
#define IKELESS_DATAPATH_ESP_ENGINE_DROPS_H_

// The ESP engine's drop counters under the reason names the agent reports
// (issue #11, point 3: they were counted but never read outside tests).
// The same names as the XFRM backend's where the reason is the same, so an
// operator reads one vocabulary whatever the node runs.

#include "datapath/datapath.h"
#include "datapath/esp/esp_engine.h"

namespace ikeless::datapath::esp {

DropCounts EngineDrops(const EngineStats& stats);

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_ENGINE_DROPS_H_
