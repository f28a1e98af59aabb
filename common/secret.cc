#include "common/secret.h"

#include <openssl/crypto.h>

namespace ikeless {

void WipeString(std::string* s) {
  if (s->empty()) return;
  OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

void WipeKeys(v1::SaParameters* sa) {
  WipeString(sa->mutable_encryption_key());
  WipeString(sa->mutable_integrity_key());
  WipeString(sa->mutable_salt());
  for (v1::SaParameters& next : *sa->mutable_successors()) WipeKeys(&next);
}

void WipeKeys(v1::ControllerMessage* m) {
  if (!m->has_distribution()) return;
  WipeKeys(m->mutable_distribution()->mutable_outbound());
  WipeKeys(m->mutable_distribution()->mutable_inbound());
}

}  // namespace ikeless
