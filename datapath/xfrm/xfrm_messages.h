#ifndef IKELESS_DATAPATH_XFRM_XFRM_MESSAGES_H_
#define IKELESS_DATAPATH_XFRM_XFRM_MESSAGES_H_

// The NETLINK_XFRM messages the kernel backend sends and the ones it reads
// back, built and parsed without a socket (so they are tested anywhere).
// Layouts are <linux/xfrm.h>; the attribute rules are the kernel's
// net/xfrm/xfrm_user.c (e.g. an ESN state carries XFRMA_REPLAY_ESN_VAL and a
// zero legacy replay_window).

#include <linux/netlink.h>
#include <linux/xfrm.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/policy.pb.h"

namespace ikeless::datapath::xfrm {

// One netlink message. It may hold SA keys, so its bytes are wiped when it
// is destroyed or moved from; it never reallocates (no stray copies).
class NetlinkMessage {
 public:
  NetlinkMessage(uint16_t type, uint16_t flags, size_t body_size);
  NetlinkMessage(NetlinkMessage&& other) noexcept;
  NetlinkMessage& operator=(NetlinkMessage&&) = delete;
  ~NetlinkMessage();

  template <typename T>
  T* body() { return static_cast<T*>(NLMSG_DATA(header())); }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buf_); }
  // Appends an attribute; false if the message would outgrow its buffer.
  bool AddAttr(uint16_t type, const void* data, size_t len);
  const void* data() const { return buf_; }
  size_t size() const { return header()->nlmsg_len; }

 private:
  static constexpr size_t kCapacity = 2048;
  alignas(8) unsigned char buf_[kCapacity] = {};
};

// "198.18.10.0/24", "fd00::1" -> kernel address, prefix length, family.
struct KernelPrefix {
  xfrm_address_t address{};
  uint8_t length = 0;
  uint16_t family = 0;
};
absl::StatusOr<KernelPrefix> ParseKernelPrefix(const std::string& text, const std::string& field);
std::string AddressText(const xfrm_address_t& address, uint16_t family);
// An address as the kernel prints it back ("fd00::1", not "fd00:0::1"), or
// `text` itself if it is none.
std::string CanonicalAddressText(const std::string& text);
// "fd00:0::/64" -> "fd00::/64"; `text` itself if it is no prefix.
std::string CanonicalPrefixText(const std::string& text);

// One XFRM policy (SPD entry direction) as the backend installs it.
struct PolicySpec {
  uint8_t dir = XFRM_POLICY_OUT;  // XFRM_POLICY_IN / _OUT / _FWD
  std::string source_prefix;      // selector (inner addresses)
  std::string destination_prefix;
  uint8_t protocol = 0;           // 0 = any
  uint16_t source_port = 0;       // 0 = any (TCP/UDP only)
  uint16_t destination_port = 0;
  uint32_t priority = 0;          // lower wins
  bool block = false;             // XFRM_POLICY_BLOCK (DISCARD)
  // The ESP template (level required). BYPASS policies have none: any
  // template, even an optional one, makes the kernel look for a state and
  // send ACQUIRE for every new flow.
  bool has_template = true;
  uint32_t reqid = 0;
  bool tunnel = true;
  std::string tunnel_source;       // outer addresses (tunnel mode)
  std::string tunnel_destination;
};

absl::StatusOr<NetlinkMessage> UpdatePolicyMessage(const PolicySpec& policy);
absl::StatusOr<NetlinkMessage> DeletePolicyMessage(const PolicySpec& policy);
NetlinkMessage DeletePolicyByIndexMessage(uint32_t index, uint8_t dir);

// What the backend adds to an SA the controller handed out.
struct StateOptions {
  uint32_t reqid = 0;
  // RFC 3948 ESP in UDP: source and destination ports; 0 = raw ESP.
  uint16_t encap_source_port = 0;
  uint16_t encap_destination_port = 0;
};

// XFRM_MSG_NEWSA (or UPDSA with `update`): the SA's addresses, SPI, mode,
// algorithms and keys, ESN and replay window, soft/hard lifetimes.
absl::StatusOr<NetlinkMessage> StateMessage(const v1::SaParameters& sa, const StateOptions& options,
                                            bool update);
absl::StatusOr<NetlinkMessage> DeleteStateMessage(const std::string& destination, uint32_t spi);
absl::StatusOr<NetlinkMessage> GetStateMessage(const std::string& destination, uint32_t spi);
// XFRM_MSG_GETSA / XFRM_MSG_GETPOLICY with NLM_F_DUMP.
NetlinkMessage DumpMessage(uint16_t type);

// Kernel messages, parsed. Each returns nullopt for a message of another
// type or one too short to be what it claims (never trusts lengths).
struct KernelAcquire {
  uint32_t reqid = 0;           // from the first XFRMA_TMPL
  uint32_t policy_index = 0;
  std::string outer_source;     // template addresses
  std::string outer_destination;
  std::string inner_source;     // the packet's selector
  std::string inner_destination;
};
std::optional<KernelAcquire> ParseAcquire(const nlmsghdr* message);

struct KernelState {
  std::string source;
  std::string destination;
  uint32_t spi = 0;  // host order
  uint32_t reqid = 0;
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint32_t replay_drops = 0;
  uint32_t integrity_failures = 0;
  // For a resync after lost EXPIRE messages.
  uint64_t add_time = 0;  // seconds since the epoch
  uint64_t soft_add_expires_seconds = 0;
  uint64_t soft_byte_limit = 0;
  uint64_t soft_packet_limit = 0;
};
std::optional<KernelState> ParseState(const nlmsghdr* message);  // XFRM_MSG_NEWSA

struct KernelExpire {
  KernelState state;
  bool hard = false;
};
std::optional<KernelExpire> ParseExpire(const nlmsghdr* message);

struct KernelPolicy {
  uint32_t index = 0;
  uint8_t dir = 0;
  uint32_t priority = 0;
  bool allow = true;             // action allow (else block)
  std::vector<uint32_t> reqids;  // one per template
};
std::optional<KernelPolicy> ParsePolicy(const nlmsghdr* message);  // XFRM_MSG_NEWPOLICY

}  // namespace ikeless::datapath::xfrm

#endif  // IKELESS_DATAPATH_XFRM_XFRM_MESSAGES_H_
