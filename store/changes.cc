// Change tracking: ChangeLog and RocksDbStore::ChangesSince.
#include "store/changes.h"

#include <algorithm>

#include "store/rocksdb_store_impl.h"

namespace nines::store::internal {

void ChangeLog::NoteCommit(int64_t oldest_t) {
  const uint64_t commit = ++commits_;
  const int64_t minute = FloorTo(oldest_t, kMinuteMs);
  while (!entries_.empty() && entries_.back().second >= minute) entries_.pop_back();
  entries_.emplace_back(commit, minute);
  if (entries_.size() > kMaxEntries) {
    known_from_ = entries_.front().first;
    entries_.pop_front();
  }
}

int64_t ChangeLog::OldestSince(uint64_t cursor) const {
  if (cursor < known_from_ || cursor > commits_) return StoreChanges::kUnknown;
  auto it = std::upper_bound(
      entries_.begin(), entries_.end(), cursor,
      [](uint64_t c, const std::pair<uint64_t, int64_t>& e) { return c < e.first; });
  return it != entries_.end() ? it->second : StoreChanges::kNothingAppended;
}

core::Result<StoreChanges> RocksDbStore::ChangesSince(uint64_t* cursor) {
  std::shared_lock lock(mu_);
  StoreChanges out;
  out.series_generation = series_generation_;
  out.oldest_appended_ms = changes_.OldestSince(*cursor);
  *cursor = changes_.last_commit();
  return out;
}

}  // namespace nines::store::internal
