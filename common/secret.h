#ifndef IKELESS_COMMON_SECRET_H_
#define IKELESS_COMMON_SECRET_H_

// Wiping key material when it is freed (OPENSSL_cleanse cannot be optimised
// away like a plain memset).

#include <string>

#include "proto/agent.pb.h"
#include "proto/policy.pb.h"

namespace ikeless {

// Overwrites the bytes of `s` and empties it.
void WipeString(std::string* s);

// Wipes the keys and salt of SA parameters.
void WipeKeys(v1::SaParameters* sa);

// Wipes both directions' keys of a distribution, if it is one.
void WipeKeys(v1::ControllerMessage* m);

}  // namespace ikeless

#endif  // IKELESS_COMMON_SECRET_H_
