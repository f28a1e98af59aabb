#ifndef IKELESS_COMMON_WIPED_ARRAY_H_
#define IKELESS_COMMON_WIPED_ARRAY_H_

// Scratch bytes that may hold key material (a key file's text, a netlink
// message with SA keys, the kernel's answer to a GETSA), wiped with
// OPENSSL_cleanse when they go out of scope. Large ones belong on the heap:
// std::make_unique<WipedArray<N>>().

#include <openssl/crypto.h>

#include <cstddef>

namespace ikeless {

template <size_t N>
struct WipedArray {
  alignas(8) char bytes[N] = {};  // aligned for the kernel structs laid over it
  WipedArray() = default;
  WipedArray(const WipedArray&) = delete;
  WipedArray& operator=(const WipedArray&) = delete;
  ~WipedArray() { OPENSSL_cleanse(bytes, N); }
  static constexpr size_t size() { return N; }
};

}  // namespace ikeless

#endif  // IKELESS_COMMON_WIPED_ARRAY_H_
