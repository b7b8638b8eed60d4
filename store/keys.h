// The RocksDB store's key layout and the encoding of a series' labels (private to store/).
//
// One RocksDB database, one column family per kind of data; keys are big-endian so bytewise
// order is numeric order; times in keys are sign-flipped int64 ms (enc::SortableTime):
//   default    meta: "format" -> 2, "next_series_id" -> BE64, "m1_until" -> BE64(sortable t)
//   series     BE64(id) -> labels (EncodeLabels: varint-length-prefixed name/value pairs)
//   head_log   BE64(seq) -> one committed batch (the record format is in head_log.h). This is
//              the write-ahead part of the store: Commit() writes its batch here, in the same
//              WriteBatch as any new series, so RocksDB's WAL makes it durable.
//   head_state BE64(id) -> a series' in-memory state at the last checkpoint (open chunk,
//              rollup accumulators, unsettled samples: MemSeries::EncodeState); with head_log it
//              rebuilds memory.
//   chunks     BE64(id) BE64(min t) -> fixed64 max t + Gorilla chunk (see chunk.h)
//   rollup_1m  BE64(id) BE64(bucket start) -> rollup of that minute (see StoredBucket), only
//              for hours before "m1_until"
//   rollup_1h  BE64(id) BE64(bucket start) -> rollup of that hour
//
// Thread-safety: everything here is a pure function or a constant.
#ifndef NINES_STORE_KEYS_H_
#define NINES_STORE_KEYS_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/labels.h"
#include "core/status.h"
#include "store/encoding.h"

namespace nines::store::internal {

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 3'600'000;
// 2: minute rollups only for hours that left the raw tier (1 wrote one at settle time).
inline constexpr uint64_t kFormatVersion = 2;
// Prometheus' staleness marker: stored exactly, but not a value for aggregates.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

enum Cf { kMeta = 0, kSeries, kHeadLog, kHeadState, kChunks, kRollup1m, kRollup1h, kNumCfs };
inline constexpr const char* kCfNames[kNumCfs] = {"default",  "series",    "head_log", "head_state",
                                                  "chunks",   "rollup_1m", "rollup_1h"};

// `t` rounded down to a multiple of `step` (towards -infinity, also for negative times).
inline int64_t FloorTo(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

// The key of a series in `series` and `head_state`.
inline std::string SeriesKey(uint64_t id) {
  std::string k;
  enc::PutBE64(&k, id);
  return k;
}

// The key of a series' chunk or rollup bucket starting at `t`.
inline std::string TimeKey(uint64_t id, int64_t t) {
  std::string k;
  k.reserve(16);
  enc::PutBE64(&k, id);
  enc::PutBE64(&k, enc::SortableTime(t));
  return k;
}

// The time part of a TimeKey. REQUIRES: `key` holds at least 16 bytes.
inline int64_t TimeOfKey(const char* key) { return enc::FromSortableTime(enc::GetBE64(key + 8)); }

std::string EncodeLabels(const core::Labels& labels);
// Errors: DATA_LOSS when `data` is not what EncodeLabels writes.
core::Result<core::Labels> DecodeLabels(std::string_view data);

// memcmp(a, b, n) == 0 for the short strings of labels, inline: a libc call per label name and
// value was most of the cost of a series lookup.
inline bool ShortBytesEqual(const char* a, const char* b, size_t n) {
  for (; n >= 8; a += 8, b += 8, n -= 8) {
    uint64_t x, y;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x != y) return false;
  }
  if (n >= 4) {
    uint32_t x, y;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    if (x != y) return false;
    a += 4;
    b += 4;
    n -= 4;
  }
  for (; n > 0; --n) {
    if (*a++ != *b++) return false;
  }
  return true;
}

// Whether `labels` encode to `encoded` (EncodeLabels). One pass over one contiguous buffer: the
// appender's series lookup compares every ingested series this way, and comparing Labels
// (a vector of string pairs, each possibly on the heap) costs a cache miss per string.
// `LabelRange` is core::Labels or a span of LabelView.
template <typename LabelRange>
bool EncodedLabelsEqual(const LabelRange& labels, std::string_view encoded) {
  const char* p = encoded.data();
  const char* const end = p + encoded.size();
  auto field = [&](std::string_view want) {
    // Label names and values in a series are far below 128 bytes; longer ones take the slow
    // varint path.
    uint64_t n;
    if (p < end && static_cast<uint8_t>(*p) < 0x80) {
      n = static_cast<uint8_t>(*p++);
    } else {
      enc::Decoder d(std::string_view(p, static_cast<size_t>(end - p)));
      if (!d.Varint(&n)) return false;
      p = end - d.rest().size();
    }
    if (n != want.size() || static_cast<uint64_t>(end - p) < n) return false;
    if (!ShortBytesEqual(p, want.data(), n)) return false;
    p += n;
    return true;
  };
  for (const auto& l : labels) {
    if (!field(l.name) || !field(l.value)) return false;
  }
  return p == end;
}

}  // namespace nines::store::internal

#endif  // NINES_STORE_KEYS_H_
