#include "datapath/esp/tun_device.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ikeless::datapath::esp {
namespace {

absl::Status Errno(int err, const std::string& what) {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(msg);
    case ENOENT:
    case ENODEV:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

// SIOCSIFMTU / SIOCSIFFLAGS on the interface through a throwaway socket.
absl::Status Configure(const std::string& name, int mtu, bool up) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Errno(errno, "cannot open a socket to configure the TUN device");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  absl::Status status;
  if (mtu > 0) {
    ifr.ifr_mtu = mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
      status = Errno(errno, absl::StrCat("cannot set MTU ", mtu, " on ", name));
    }
  }
  if (status.ok() && up) {
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
      status = Errno(errno, absl::StrCat("cannot read the flags of ", name));
    } else {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
        status = Errno(errno, absl::StrCat("cannot bring ", name, " up"));
      }
    }
  }
  close(s);
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TunDevice>> TunDevice::Open(const Options& options) {
  if (options.name.empty() || options.name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat("tun_name '", options.name,
                                                   "' must have 1 to ", IFNAMSIZ - 1,
                                                   " characters"));
  }
  if (options.mtu != 0 && (options.mtu < 576 || options.mtu > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat("mtu ", options.mtu, " is not in 576..65535"));
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    std::string hint;
    if (err == ENOENT || err == ENODEV) hint = " (is the tun module loaded?)";
    if (err == EPERM || err == EACCES) hint = " (TUN needs CAP_NET_ADMIN)";
    return absl::Status(Errno(err, "").code(),
                        absl::StrCat("cannot open /dev/net/tun: ", std::strerror(err), hint));
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, options.name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    close(fd);
    if (err == EPERM || err == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat("TUN needs CAP_NET_ADMIN: TUNSETIFF ",
                                                      options.name, ": ", std::strerror(err)));
    }
    if (err == EBUSY) {
      return absl::FailedPreconditionError(absl::StrCat(
          "TUN device '", options.name, "' is busy (another agent running?)"));
    }
    if (err == EINVAL) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create TUN device '", options.name,
          "': an interface of that name exists and is not a TUN device"));
    }
    return Errno(err, absl::StrCat("TUNSETIFF ", options.name));
  }
  std::unique_ptr<TunDevice> tun(new TunDevice(fd, ifr.ifr_name));
  absl::Status s = Configure(tun->name(), options.mtu, options.up);
  if (!s.ok()) return s;
  return tun;
}

TunDevice::~TunDevice() { close(fd_); }

ssize_t TunDevice::Read(std::span<uint8_t> buffer) {
  ssize_t n = read(fd_, buffer.data(), buffer.size());
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return -errno;
}

bool TunDevice::Write(std::span<const uint8_t> packet) {
  ssize_t n = write(fd_, packet.data(), packet.size());
  return n == static_cast<ssize_t>(packet.size());
}

}  // namespace ikeless::datapath::esp
