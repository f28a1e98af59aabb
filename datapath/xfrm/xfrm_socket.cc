#include "datapath/xfrm/xfrm_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>


#include "absl/strings/str_cat.h"
#include "common/wiped_array.h"

namespace ikeless::datapath::xfrm {
namespace {

// NLMSG_OK's checks with the signedness made explicit: clang's
// -Wsign-compare looks into the macro (u32 nlmsg_len <= int len).
bool NlmsgOk(const nlmsghdr* r, int len) {
  return len >= static_cast<int>(sizeof(nlmsghdr)) && r->nlmsg_len >= sizeof(nlmsghdr) &&
         r->nlmsg_len <= static_cast<unsigned>(len);
}

constexpr size_t kReceiveBuffer = 64 * 1024;  // dumps come in batches of messages

// What the kernel sends back may hold SA keys (a GETSA answer, a state
// dump, other daemons' SAs included): wiped before it is freed.
using ReceiveBuffer = WipedArray<kReceiveBuffer>;

absl::Status KernelError(int error, const char* what) {
  absl::StatusCode code = absl::StatusCode::kFailedPrecondition;
  if (error == EEXIST) code = absl::StatusCode::kAlreadyExists;
  if (error == ENOENT || error == ESRCH) code = absl::StatusCode::kNotFound;
  if (error == EPERM || error == EACCES) code = absl::StatusCode::kPermissionDenied;
  // No ESP type (EPROTONOSUPPORT) or no such algorithm (ENOSYS) in this kernel.
  if (error == EPROTONOSUPPORT || error == ENOSYS) code = absl::StatusCode::kUnimplemented;
  return absl::Status(code, absl::StrCat(what, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<XfrmSocket> XfrmSocket::Open(uint32_t groups) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open NETLINK_XFRM (kernel without CONFIG_XFRM_USER?): ",
                     std::strerror(errno)));
  }
  // Room for bursts of ACQUIREs. SO_RCVBUF is capped by net.core.rmem_max
  // (~208 KiB); with CAP_NET_ADMIN, FORCE is not.
  int size = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    return absl::PermissionDeniedError(
        absl::StrCat("cannot bind NETLINK_XFRM (needs CAP_NET_ADMIN): ", std::strerror(e)));
  }
  return XfrmSocket(fd);
}

XfrmSocket::~XfrmSocket() {
  if (fd_ >= 0) close(fd_);
}

absl::Status XfrmSocket::Send(NetlinkMessage& m, const char* what) {
  m.header()->nlmsg_flags |= NLM_F_REQUEST;
  m.header()->nlmsg_seq = seq_++;
  if (send(fd_, m.data(), m.size(), 0) < 0) {
    return absl::InternalError(absl::StrCat(what, ": send: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status XfrmSocket::AwaitReplies(uint32_t seq, const char* what, const Handler& on_reply) {
  auto buf = std::make_unique<ReceiveBuffer>();
  while (true) {
    ssize_t n = recv(fd_, buf->bytes, buf->size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat(what, ": recv: ", std::strerror(errno)));
    }
    int len = static_cast<int>(n);
    for (auto* r = reinterpret_cast<nlmsghdr*>(buf->bytes); NlmsgOk(r, len);
         r = NLMSG_NEXT(r, len)) {
      if (r->nlmsg_seq != seq) continue;
      if (r->nlmsg_type == NLMSG_DONE) return absl::OkStatus();  // end of a dump
      if (r->nlmsg_type == NLMSG_ERROR) {  // error 0 is the acknowledgement
        int error = r->nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr))
                        ? -static_cast<nlmsgerr*>(NLMSG_DATA(r))->error
                        : EIO;
        return error == 0 ? absl::OkStatus() : KernelError(error, what);
      }
      if (on_reply) on_reply(r);
    }
  }
}

absl::Status XfrmSocket::Transact(NetlinkMessage& m, const char* what, const Handler& on_reply) {
  m.header()->nlmsg_flags |= NLM_F_ACK;
  if (auto s = Send(m, what); !s.ok()) return s;
  return AwaitReplies(m.header()->nlmsg_seq, what, on_reply);
}

absl::Status XfrmSocket::Dump(uint16_t type, const Handler& on_entry) {
  NetlinkMessage m = DumpMessage(type);
  const char* what = type == XFRM_MSG_GETPOLICY ? "dump policies" : "dump states";
  if (auto s = Send(m, what); !s.ok()) return s;
  return AwaitReplies(m.header()->nlmsg_seq, what, on_entry);
}

absl::Status XfrmSocket::Receive(absl::Duration timeout, const Handler& on_message) {
  pollfd p{fd_, POLLIN, 0};
  int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready <= 0) return absl::OkStatus();
  auto buf = std::make_unique<ReceiveBuffer>();
  while (true) {
    ssize_t n = recv(fd_, buf->bytes, buf->size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
      if (errno == ENOBUFS) {
        return absl::ResourceExhaustedError(
            "XFRM events were lost: the netlink socket's buffer overflowed");
      }
      return absl::InternalError(absl::StrCat("XFRM events: recv: ", std::strerror(errno)));
    }
    int len = static_cast<int>(n);
    for (auto* r = reinterpret_cast<nlmsghdr*>(buf->bytes); NlmsgOk(r, len);
         r = NLMSG_NEXT(r, len)) {
      on_message(r);
    }
  }
}

}  // namespace ikeless::datapath::xfrm
