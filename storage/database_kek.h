#ifndef IKELESS_STORAGE_DATABASE_KEK_H_
#define IKELESS_STORAGE_DATABASE_KEK_H_

// Which key-encryption key a database's keys are sealed under, decided at
// start-up. A KEK may only be created while nothing can have been sealed
// under another one: a new kek.key beside a database full of sealed keys
// would not open them, and would sit where the operator has to restore the
// real one (a failed start used to leave exactly that behind).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/random.h"
#include "storage/key_sealer.h"

namespace ikeless::storage {

// Whether the database at `path` holds SA key blobs (a_to_b or b_to_a of any
// row). False when there is no file yet, it is ":memory:", or it has no
// association table. Opens the file read-only and leaves it as it was;
// FAILED_PRECONDITION if it is not an ikeless database (CheckOwnership),
// DATA_LOSS if it cannot be read.
absl::StatusOr<bool> DatabaseHoldsKeys(const std::string& path);

// The sealer for the database at `database_path`, from the KEK file at
// `kek_path` (kek_file.h). A missing file is created only if
// !DatabaseHoldsKeys(database_path); otherwise FAILED_PRECONDITION in one
// line: the KEK is missing, the database's keys cannot be opened without it,
// restore it or move the database away. Nothing is created then.
absl::StatusOr<std::unique_ptr<KeySealer>> LoadKekForDatabase(const std::string& kek_path,
                                                              const std::string& database_path,
                                                              RandomSource* random);

}  // namespace ikeless::storage

#endif  // IKELESS_STORAGE_DATABASE_KEK_H_
