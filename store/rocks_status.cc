#include "store/rocks_status.h"

#include <rocksdb/status.h>

#include <string>

namespace nines::store {

core::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return core::Status::Ok();
  if (s.IsCorruption()) return core::DataLossError("{}: {}", what, s.ToString());
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return core::FailedPreconditionError("{}: {} (is another nines using this directory?)", what,
                                         s.ToString());
  }
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain()) {
    return core::UnavailableError("{}: {}", what, s.ToString());
  }
  return core::InternalError("{}: {}", what, s.ToString());
}

}  // namespace nines::store
