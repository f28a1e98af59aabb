#ifndef IKELESS_DATAPATH_XFRM_XFRM_SOCKET_H_
#define IKELESS_DATAPATH_XFRM_XFRM_SOCKET_H_

// A NETLINK_XFRM socket: the kernel backend's only I/O edge. Requests wait
// for the kernel's acknowledgement; dumps collect every entry; a socket
// joined to multicast groups receives ACQUIRE and EXPIRE messages.

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "datapath/xfrm/xfrm_messages.h"

namespace ikeless::datapath::xfrm {

class XfrmSocket {
 public:
  // Multicast groups (bit masks for Open).
  static constexpr uint32_t kAcquireGroup = 1u << (XFRMNLGRP_ACQUIRE - 1);
  static constexpr uint32_t kExpireGroup = 1u << (XFRMNLGRP_EXPIRE - 1);

  using Handler = std::function<void(const nlmsghdr*)>;

  // PERMISSION_DENIED without CAP_NET_ADMIN; UNAVAILABLE without XFRM.
  static absl::StatusOr<XfrmSocket> Open(uint32_t groups);
  XfrmSocket(XfrmSocket&& o) noexcept : fd_(o.fd_), seq_(o.seq_) { o.fd_ = -1; }
  XfrmSocket& operator=(XfrmSocket&&) = delete;
  ~XfrmSocket();

  // Sends `message` and waits for the acknowledgement. Replies before it
  // (a GET's answer) go to `on_reply`. Kernel errors map to codes:
  // EEXIST -> ALREADY_EXISTS, ENOENT/ESRCH -> NOT_FOUND, EPERM ->
  // PERMISSION_DENIED, EPROTONOSUPPORT/ENOSYS (no ESP, no such algorithm)
  // -> UNIMPLEMENTED, the rest FAILED_PRECONDITION; the message starts
  // with `what` and carries strerror.
  absl::Status Transact(NetlinkMessage& message, const char* what, const Handler& on_reply = {});

  // Every entry of a dump (XFRM_MSG_GETSA or XFRM_MSG_GETPOLICY).
  absl::Status Dump(uint16_t type, const Handler& on_entry);

  // Waits up to `timeout` for multicast messages and hands each to
  // `on_message`. RESOURCE_EXHAUSTED when the kernel dropped some because
  // the socket's buffer was full (ENOBUFS): events were lost.
  absl::Status Receive(absl::Duration timeout, const Handler& on_message);

 private:
  explicit XfrmSocket(int fd) : fd_(fd) {}
  absl::Status Send(NetlinkMessage& message, const char* what);
  // Hands the replies to request `seq` to `on_reply` until the
  // acknowledgement, the end of a dump, or an error.
  absl::Status AwaitReplies(uint32_t seq, const char* what, const Handler& on_reply);

  int fd_ = -1;
  uint32_t seq_ = 1;
};

}  // namespace ikeless::datapath::xfrm

#endif  // IKELESS_DATAPATH_XFRM_XFRM_SOCKET_H_
