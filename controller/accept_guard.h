#ifndef IKELESS_CONTROLLER_ACCEPT_GUARD_H_
#define IKELESS_CONTROLLER_ACCEPT_GUARD_H_

// Keeps the controller accepting connections whatever a flood of them does
// (issue #11, point 1). Debian's gRPC 1.51 stops accepting for good after
// one accept4() fails with EMFILE (upstream grpc#20418): ~1,000 idle TCP
// connections at the default 1,024 descriptors locked every agent out until
// a restart. gRPC offers no hook into its accept loop and no connection cap,
// so the controller binary defines accept4() itself (linked with
// alwayslink; the dynamic linker binds libgrpc's call to the executable's
// definition, as malloc replacements are bound) and:
//   - on EMFILE/ENFILE frees a reserved descriptor, accepts the waiting
//     connection, closes it and takes the reserve back, until the backlog
//     is drained, then reports EAGAIN: gRPC waits for the next connection
//     instead of giving up, and accepts again once descriptors are free;
//   - refuses (accepts and closes) connections beyond a cap, so
//     descriptors for the database and files always remain.
// Before Install() (and in binaries that do not link it) accept4 behaves as
// libc's. Silent connections are timed out by gRPC's handshake timeout and
// streams without a Hello by the agent service: both are needed so that a
// flood at the cap does not keep real agents out for long.

#include <cstdint>

namespace ikeless::controller {

struct AcceptGuardStats {
  uint64_t accepted = 0;
  uint64_t refused_over_cap = 0;       // accepted and closed: cap reached
  uint64_t refused_per_address = 0;    // accepted and closed: that address's cap
  uint64_t refused_no_descriptor = 0;  // drained with the reserve on EMFILE/ENFILE
  uint64_t drained_stuck = 0;          // refused by AcceptGuardTick
};

struct AcceptGuardLimits {
  uint64_t max_connections = 0;  // open accepted connections; 0 = no cap
  // From one IP address: agents have one connection each, and an
  // unauthenticated client must not hold the whole cap. 0 = no cap.
  uint64_t max_per_address = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard one and returns the new soft
// limit (unchanged on failure).
uint64_t RaiseDescriptorLimit();

// Arms the guard: reserves one descriptor and applies `limits`. Call once,
// before the server starts listening.
void InstallAcceptGuard(const AcceptGuardLimits& limits);

// Every second: takes the reserve back if it was lost, and refuses what is
// queued on a listener that accepted nothing for two ticks (gRPC's
// edge-triggered poller would wait for a connection that cannot arrive).
void AcceptGuardTick();

AcceptGuardStats GetAcceptGuardStats();

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_ACCEPT_GUARD_H_
