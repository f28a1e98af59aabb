#include "controller/wiped_message.h"

#include <cstdlib>
#include <vector>

#include "grpc/slice.h"
#include "grpcpp/support/slice.h"
#include "openssl/crypto.h"

namespace ikeless::controller {
namespace {

void WipeAndFree(void* p, size_t len) {
  OPENSSL_cleanse(p, len);
  std::free(p);
}

}  // namespace

grpc::ByteBuffer SerializeWiped(const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  if (size == 0) return grpc::ByteBuffer(nullptr, 0);
  auto* bytes = static_cast<uint8_t*>(std::malloc(size));
  if (bytes == nullptr) std::abort();  // as gRPC's own allocations do
  message.SerializeWithCachedSizesToArray(bytes);
  grpc::Slice slice(grpc_slice_new_with_len(bytes, size, WipeAndFree), grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&slice, 1);
}

bool ParseReceived(grpc::ByteBuffer& buffer, google::protobuf::MessageLite* message) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  if (slices.size() == 1) return message->ParseFromArray(slices[0].begin(), static_cast<int>(slices[0].size()));
  std::string joined;
  for (const grpc::Slice& s : slices) joined.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return message->ParseFromString(joined);
}

}  // namespace ikeless::controller
