#ifndef IKELESS_AGENT_ROUTE_SYNC_H_
#define IKELESS_AGENT_ROUTE_SYNC_H_

// Keeps the kernel's routes into the engine's TUN in step with the pushed
// SPD (agent/route_plan.h says which): told of every SPD the datapath
// applied (SpdListener), it adds what is new and removes what is no longer
// planned, and on a clean exit removes everything it made. It changes
// only what it made itself, remembered from the calls that succeeded; a
// step that failed is logged and tried again on the next SPD.

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "agent/route_plan.h"
#include "agent/route_table.h"
#include "agent/spd_listener.h"

namespace ikeless::agent {

class RouteSync final : public SpdListener {
 public:
  // `table` must outlive this object.
  RouteSync(RouteTable* table, RoutingOptions options);

  // SpdListener: Apply(PlanRoutes(spd)).
  void OnSpdApplied(const LaidOutSpd& spd) override;

  // Makes the kernel hold `plan`: rules first (so no marked packet ever
  // meets a route into the TUN), routes added or replaced, then routes and
  // rules no longer planned removed. Returns the first failure, after
  // trying every step.
  absl::Status Apply(const RoutingPlan& plan);

  // Removes every route and rule this object made (on a clean exit).
  absl::Status Clear();

  // What this object made and has not removed.
  RoutingPlan installed() const;

 private:
  RouteTable* const table_;
  const RoutingOptions options_;
  mutable absl::Mutex mu_;
  RoutingPlan installed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_ROUTE_SYNC_H_
