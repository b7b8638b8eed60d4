// The RocksDB store's series index in memory (private to store/): where a series' encoded
// labels live (KeyArena) and how a series is found by its labels' hash (SeriesTable). The
// postings (label name -> value -> ids) and the store's methods over all three are in
// series_index.cc.
//
// Thread-safety: none of its own; the store's mutex guards them.
#ifndef NINES_STORE_SERIES_INDEX_H_
#define NINES_STORE_SERIES_INDEX_H_

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/mem_series.h"

namespace nines::store::internal {

// Append-only storage for the series' encoded labels: one contiguous run per block, in the
// order series were created, so lookups of series in that order read memory sequentially.
// The bytes of deleted series stay until the store closes (deleting is a rare admin action).
class KeyArena {
 public:
  // A copy of `bytes` that lives as long as the arena.
  std::string_view Add(std::string_view bytes);

 private:
  static constexpr size_t kBlockSize = 64 << 10;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0;
  std::deque<std::string> big_;  // a deque: its strings never move
};

// Series by the hash of their labels (core::Labels::Hash()): open addressing with linear
// probing over 16-byte slots, so a lookup reads one slot (usually) and then the series' first
// cache line and its key, instead of a chain of nodes. It does not own the series.
class SeriesTable {
 public:
  // The series with `hash` whose encoded labels satisfy `equal`, or null. Inline: every
  // ingested series is looked up here.
  template <typename Equal>
  MemSeries* Find(uint64_t hash, Equal&& equal) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.series == nullptr) return nullptr;
      if (slot.hash == hash && equal(slot.series->encoded_labels)) return slot.series;
    }
  }
  void Insert(uint64_t hash, MemSeries* series);
  void Erase(uint64_t hash, const MemSeries* series);

 private:
  struct Slot {
    uint64_t hash = 0;
    MemSeries* series = nullptr;  // null: empty
  };
  void Grow();

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace nines::store::internal

#endif  // NINES_STORE_SERIES_INDEX_H_
