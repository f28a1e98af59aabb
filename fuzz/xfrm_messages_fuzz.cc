// XFRM netlink parsing (datapath/xfrm/xfrm_messages.h): an arbitrary
// netlink reply buffer is walked the way XfrmSocket walks what recv()
// returned (NLMSG_OK/NLMSG_NEXT), and every message goes through each
// parser the kernel backend uses: ParseAcquire, ParseExpire, ParseState,
// ParsePolicy. Byte 0 picks a message type for the first message, so the
// fuzzer gets past the type checks at once.
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <vector>

#include "datapath/xfrm/xfrm_messages.h"

namespace {

// NLMSG_OK as XfrmSocket spells it (datapath/xfrm/xfrm_socket.cc).
bool NlmsgOk(const nlmsghdr* r, int len) {
  return len >= static_cast<int>(sizeof(nlmsghdr)) && r->nlmsg_len >= sizeof(nlmsghdr) &&
         r->nlmsg_len <= static_cast<unsigned>(len);
}

constexpr uint16_t kTypes[] = {XFRM_MSG_ACQUIRE, XFRM_MSG_EXPIRE, XFRM_MSG_NEWSA,
                               XFRM_MSG_NEWPOLICY, XFRM_MSG_POLEXPIRE, NLMSG_ERROR,
                               NLMSG_DONE, XFRM_MSG_DELSA};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // recv() fills an aligned buffer; so does this copy (nlmsghdr needs it).
  std::vector<uint64_t> storage((size - 1 + 7) / 8 + 1);
  auto* buf = reinterpret_cast<unsigned char*>(storage.data());
  std::memcpy(buf, data + 1, size - 1);
  int len = static_cast<int>(size - 1);
  if (len >= static_cast<int>(sizeof(nlmsghdr))) {
    reinterpret_cast<nlmsghdr*>(buf)->nlmsg_type = kTypes[data[0] % std::size(kTypes)];
  }
  using namespace ikeless::datapath::xfrm;  // NOLINT
  for (auto* m = reinterpret_cast<nlmsghdr*>(buf); NlmsgOk(m, len); m = NLMSG_NEXT(m, len)) {
    (void)ParseAcquire(m);
    (void)ParseExpire(m);
    (void)ParseState(m);
    (void)ParsePolicy(m);
  }
  return 0;
}
