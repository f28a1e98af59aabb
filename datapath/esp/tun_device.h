#ifndef IKELESS_DATAPATH_ESP_TUN_DEVICE_H_
#define IKELESS_DATAPATH_ESP_TUN_DEVICE_H_

// A Linux TUN interface (IFF_TUN | IFF_NO_PI): the kernel hands the engine
// the IP packets routed into it, and takes back the decrypted ones. Opening
// one needs CAP_NET_ADMIN. The interface lives as long as this object (it is
// not made persistent).

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace ikeless::datapath::esp {

class TunDevice {
 public:
  struct Options {
    std::string name = "ikeless0";  // at most 15 characters; "%d" lets the kernel number it
    int mtu = 1400;                 // leaves room for ESP + UDP + IP under 1500
    bool up = true;                 // bring the link up
  };

  // Errors say what to do: "cannot open /dev/net/tun: ...", "TUN needs
  // CAP_NET_ADMIN: ...", "TUN device 'x' is busy ...".
  static absl::StatusOr<std::unique_ptr<TunDevice>> Open(const Options& options);
  ~TunDevice();
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

  // Non-blocking. Read: the packet's size, 0 if none is waiting, -errno on
  // error. Write: true if the kernel took the packet.
  ssize_t Read(std::span<uint8_t> buffer);
  bool Write(std::span<const uint8_t> packet);

 private:
  TunDevice(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  int fd_;
  std::string name_;
};

}  // namespace ikeless::datapath::esp

#endif  // IKELESS_DATAPATH_ESP_TUN_DEVICE_H_
