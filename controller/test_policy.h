#ifndef IKELESS_CONTROLLER_TEST_POLICY_H_
#define IKELESS_CONTROLLER_TEST_POLICY_H_

// The policy most controller tests set up: ESP in tunnel mode with
// AES-GCM-16/128, hard lifetime 3600 s, soft 3240 s, replay window 128,
// between `a` and `b` (addresses, prefixes or "*"). For tests and fuzzers.

#include <string>

#include "proto/policy.pb.h"

namespace ikeless::controller {

inline v1::Policy TunnelPolicy(const std::string& name, const std::string& a,
                               const std::string& b) {
  v1::Policy p;
  p.set_name(name);
  p.mutable_a()->set_address(a);
  p.mutable_b()->set_address(b);
  p.set_protocol(v1::IPSEC_PROTOCOL_ESP);
  p.set_mode(v1::MODE_TUNNEL);
  p.set_encryption(v1::ENCRYPTION_AES_GCM_16);
  p.set_encryption_key_bits(128);
  p.set_integrity(v1::INTEGRITY_NONE);
  p.mutable_lifetime()->set_hard_seconds(3600);
  p.mutable_lifetime()->set_soft_seconds(3240);
  p.set_replay_window(128);
  return p;
}

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_TEST_POLICY_H_
