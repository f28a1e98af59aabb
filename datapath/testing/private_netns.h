#ifndef IKELESS_DATAPATH_TESTING_PRIVATE_NETNS_H_
#define IKELESS_DATAPATH_TESTING_PRIVATE_NETNS_H_

// For datapath tests that need a real kernel: the whole test process moves
// into a network namespace of its own, so nothing on the host changes and
// everything (links, routes, XFRM tables) vanishes when the process exits,
// also on failure.

#include <cstdint>
#include <string>

namespace ikeless::datapath::testing {

// A veth pair v0/v1, both up, with 198.18.49.1/24 on v0: a link the kernel
// does XFRM lookups for (it does none for traffic routed via lo). Tests
// append their routes.
inline constexpr char kVethSetup[] =
    "ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up && "
    "ip addr add 198.18.49.1/24 dev v0";

// Once per process: unshare(CLONE_NEWNET), bring lo up and run `setup`
// (shell commands) inside. Returns "" when ready, else why not (not root,
// no unshare, setup failed): the caller skips.
const std::string& EnterPrivateNetns(const std::string& setup);

// Runs a shell command in the namespace; stdout and stderr.
std::string Shell(const std::string& command);

// One UDP datagram from `source` (bound) to `destination`:`port`. The
// kernel may refuse it (EAGAIN while an SA is being acquired): ignored.
void SendUdp(const std::string& source, const std::string& destination, uint16_t port);

}  // namespace ikeless::datapath::testing

#endif  // IKELESS_DATAPATH_TESTING_PRIVATE_NETNS_H_
