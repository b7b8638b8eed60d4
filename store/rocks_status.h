// Private to store/: the one conversion from rocksdb::Status to core::Status.
#ifndef NINES_STORE_ROCKS_STATUS_H_
#define NINES_STORE_ROCKS_STATUS_H_

#include <string_view>

#include "core/status.h"

namespace rocksdb {
class Status;
}  // namespace rocksdb

namespace nines::store {

// OK for an ok status; otherwise DATA_LOSS for corruption, FAILED_PRECONDITION for a held lock
// ("is another nines using this directory?"), UNAVAILABLE for I/O errors and busy/try-again,
// INTERNAL for the rest. The message starts with `what`.
core::Status FromRocks(const rocksdb::Status& s, std::string_view what);

}  // namespace nines::store

#endif  // NINES_STORE_ROCKS_STATUS_H_
