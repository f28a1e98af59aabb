#include "storage/association.h"

#include "common/secret.h"

namespace ikeless::storage {

AssociationRow::~AssociationRow() {
  if (a_to_b) WipeKeys(&*a_to_b);
  if (b_to_a) WipeKeys(&*b_to_a);
}

}  // namespace ikeless::storage
