// MemSeries: one series of the RocksDB store in memory, and the codec of its checkpointed state
// (the head_state column family). Private to store/.
//
// A series holds its unsettled samples (the head, inside the out-of-order window), its open
// Gorilla chunk of settled samples, and its rollup accumulators. EncodeState/DecodeState write
// and read all of that, so that a checkpoint plus the head_log records after it rebuild memory.
//
// Thread-safety: none of its own; the store's mutex guards every MemSeries.
#ifndef NINES_STORE_MEM_SERIES_H_
#define NINES_STORE_MEM_SERIES_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "core/labels.h"
#include "core/status.h"
#include "store/chunk.h"
#include "store/rollup.h"

namespace nines::store::internal {

// What a lookup and a commit touch comes first, in one cache line: with thousands of series
// per batch, each series costs a cache miss or two, not one per member.
struct alignas(64) MemSeries {
  // EncodeLabels(labels), in the store's KeyArena: what lookups compare against.
  std::string_view encoded_labels;
  uint64_t id = 0;
  // Scratch of CommitBatch, under the store's exclusive lock: the newest time this commit
  // (number batch_epoch) accepted for the series.
  uint64_t batch_epoch = 0;
  int64_t batch_last_t = INT64_MIN;
  // The time of head.front(), INT64_MAX when the head is empty: settling checks every series
  // each minute, and reading the deque's first block would be a second miss per series.
  int64_t head_front_t = INT64_MAX;
  int64_t settled_max_t = 0;
  bool has_settled = false;
  bool deleted = false;
  bool dirty = false;  // changed since the last checkpoint
  // Whether every label value is valid UTF-8 (core::Labels does not require it; remote write
  // does, and finds series by their bytes before checking anything).
  bool utf8_values = false;
  uint32_t live_index = 0;  // position in RocksDbStore::live_

  core::Labels labels;
  // Unsettled samples, ascending by time.
  std::deque<core::Sample> head;  // a deque: settling erases from the front every 5 minutes
  // Settled samples not yet in a closed chunk.
  ChunkEncoder chunk;
  Pred settled_pred;  // the last settled valid value, for the next settled sample's increase
  Totals totals;      // over every settled sample
  Bucket hour;  // minute rollups are materialized later, from the chunks

  // Whether `t` is stored (settled or in the head). Settled times are checked by the caller.
  bool HeadHas(int64_t t) const {
    if (head.empty() || t > head.back().timestamp_ms) return false;  // the in-order case
    auto it = std::lower_bound(head.begin(), head.end(), t,
                               [](const core::Sample& s, int64_t x) { return s.timestamp_ms < x; });
    return it != head.end() && it->timestamp_ms == t;
  }
  void HeadInsert(int64_t t, double v) {
    if (t < head_front_t) head_front_t = t;
    if (head.empty() || head.back().timestamp_ms < t) {
      head.push_back({t, v});
      return;
    }
    auto it = std::lower_bound(head.begin(), head.end(), t,
                               [](const core::Sample& s, int64_t x) { return s.timestamp_ms < x; });
    if (it != head.end() && it->timestamp_ms == t) return;
    head.insert(it, {t, v});
  }
  void HeadEraseFront(size_t n) {
    head.erase(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(n));
    head_front_t = head.empty() ? INT64_MAX : head.front().timestamp_ms;
  }
  int64_t MaxTime() const {
    if (!head.empty()) return head.back().timestamp_ms;
    return has_settled ? settled_max_t : INT64_MIN;
  }

  // The series' state as head_state holds it (format 3: the head as chunks).
  std::string EncodeState() const;
  // Restores what EncodeState wrote (format 3, or format 2 of older nines: head samples as
  // varsint time + 8-byte value). Errors: DATA_LOSS naming the series.
  core::Status DecodeState(std::string_view data);
};

}  // namespace nines::store::internal

#endif  // NINES_STORE_MEM_SERIES_H_
