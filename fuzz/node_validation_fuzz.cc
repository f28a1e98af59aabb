// Node validation (controller/node_validation.h) on an arbitrary serialized
// v1::Node: NormalizeNode, then, for a valid node, the fleet-wide checks
// against a small fixed fleet. A node that passes must pass again
// unchanged (normalizing is idempotent).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "controller/node_validation.h"
#include "proto/admin.pb.h"

namespace {

std::vector<ikeless::v1::Node> Fleet() {
  std::vector<ikeless::v1::Node> fleet(2);
  fleet[0].set_name("gw-a");
  fleet[0].add_addresses("198.18.0.1");
  fleet[0].add_sites("198.18.10.0/24");
  fleet[0].add_sites("fd00:10::/64");
  fleet[1].set_name("gw-b");
  fleet[1].add_addresses("198.18.0.2");
  fleet[1].add_addresses("2001:db8::2");
  fleet[1].add_sites("198.18.20.0/24");
  return fleet;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<ikeless::v1::Node> fleet = Fleet();
  ikeless::v1::Node node;
  if (!node.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (!ikeless::controller::NormalizeNode(&node).ok()) return 0;
  ikeless::v1::Node again = node;
  if (!ikeless::controller::NormalizeNode(&again).ok()) __builtin_trap();
  if (again.SerializeAsString() != node.SerializeAsString()) __builtin_trap();
  (void)ikeless::controller::CheckAgainstFleet(node, fleet);
  return 0;
}
