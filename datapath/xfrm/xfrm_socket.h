#ifndef IKELESS_DATAPATH_XFRM_XFRM_SOCKET_H_
#define IKELESS_DATAPATH_XFRM_XFRM_SOCKET_H_

// Kernel XFRM over raw netlink (NETLINK_XFRM): the first pieces of the
// kernel datapath backend. An `out` policy with an ESP template and no state
// makes the kernel send an ACQUIRE on the first packet — FIG. 18's "suspend
// and ask" — which ReadAcquire() returns. IPv4 for now.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ikeless::datapath::xfrm {

// An outbound policy: traffic from `local_prefix` to `remote_prefix` needs
// ESP between the node addresses `tunnel_local` and `tunnel_remote`.
struct OutPolicy {
  std::string local_prefix;   // "198.18.10.0/24"
  std::string remote_prefix;
  std::string tunnel_local;   // outer source
  std::string tunnel_remote;  // outer destination (the peer node)
  bool tunnel = true;         // else transport
  uint32_t reqid = 0;         // ties the policy to our SAs; our range, not others'
  uint32_t priority = 1000;
};

// What the kernel asks for (struct xfrm_user_acquire).
struct Acquire {
  std::string source;       // outer source (template)
  std::string destination;  // outer destination
  std::string selector_source;
  std::string selector_destination;
};

class XfrmSocket {
 public:
  // `listen_acquire`: also join the ACQUIRE multicast group.
  static absl::StatusOr<XfrmSocket> Open(bool listen_acquire);
  XfrmSocket(XfrmSocket&& o) noexcept : fd_(o.fd_), seq_(o.seq_) { o.fd_ = -1; }
  XfrmSocket& operator=(XfrmSocket&&) = delete;
  ~XfrmSocket();

  // Upsert (XFRM_MSG_UPDPOLICY) and delete of an `out` policy.
  absl::Status InstallOutPolicy(const OutPolicy& policy);
  absl::Status RemoveOutPolicy(const OutPolicy& policy);

  // Probes whether the kernel can hold an ESP state with AES-GCM: adds one
  // and removes it again. The error says plainly when the kernel has no ESP
  // transform (this machine: CONFIG_INET_ESP off, no gcm in /proc/crypto).
  absl::Status ProbeEspState(const std::string& source, const std::string& destination);

  // The next ACQUIRE, or nullopt after `timeout`.
  absl::StatusOr<std::optional<Acquire>> ReadAcquire(absl::Duration timeout);

 private:
  explicit XfrmSocket(int fd) : fd_(fd) {}
  absl::Status Request(void* message, size_t length, const char* what);

  int fd_ = -1;
  uint32_t seq_ = 1;
};

}  // namespace ikeless::datapath::xfrm

#endif  // IKELESS_DATAPATH_XFRM_XFRM_SOCKET_H_
