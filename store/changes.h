// ChangeLog: what the RocksDB store remembers of its commits for Reader::ChangesSince (private
// to store/): for each commit that stored samples, the minute of its oldest sample, compacted to
// suffix minima so that "the oldest minute committed after commit c" is one binary search.
//
// Thread-safety: none of its own; the store's mutex guards it (exclusive for NoteCommit).
#ifndef NINES_STORE_CHANGES_H_
#define NINES_STORE_CHANGES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace nines::store::internal {

class ChangeLog {
 public:
  // At most this many entries (one per distinct minute; in-order data adds one a minute):
  // dropping the front forgets the commits up to it.
  static constexpr size_t kMaxEntries = 1 << 16;

  // Numbers a commit that stored samples, the oldest of them at `oldest_t` (ms).
  void NoteCommit(int64_t oldest_t);
  // The start of the minute of the oldest sample committed after commit `cursor`:
  // StoreChanges::kNothingAppended when none was, StoreChanges::kUnknown when `cursor` is
  // before what is remembered or not a commit number of this log.
  int64_t OldestSince(uint64_t cursor) const;
  // The number of the last commit noted (0 before any): the cursor to pass next time.
  uint64_t last_commit() const { return commits_; }

 private:
  uint64_t commits_ = 0;
  uint64_t known_from_ = 0;  // every commit after this is remembered
  // (commit, minute of its oldest sample), both strictly increasing: the oldest minute
  // committed after commit c is that of the first entry past c.
  std::deque<std::pair<uint64_t, int64_t>> entries_;
};

}  // namespace nines::store::internal

#endif  // NINES_STORE_CHANGES_H_
