#ifndef IKELESS_CONTROLLER_WIPED_MESSAGE_H_
#define IKELESS_CONTROLLER_WIPED_MESSAGE_H_

// gRPC buffers for messages that carry keys (Distribution's SaParameters).
// gRPC serializes a message into buffers it frees without clearing them, so
// a core of the controller held two copies of every key it had sent (issue
// #11, point 5). The agent stream therefore sends raw buffers made here:
// serialized straight into memory whose release callback wipes it, once
// the transport has written it and dropped its last reference.

#include "google/protobuf/message_lite.h"
#include "grpcpp/support/byte_buffer.h"

namespace ikeless::controller {

// `message` serialized into a buffer wiped on release.
grpc::ByteBuffer SerializeWiped(const google::protobuf::MessageLite& message);

// Parses what an agent sent; false if it is not a well-formed `message`.
bool ParseReceived(grpc::ByteBuffer& buffer, google::protobuf::MessageLite* message);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_WIPED_MESSAGE_H_
