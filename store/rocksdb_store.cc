// RocksDbStore: the Store implementation behind OpenStore().
//
// On-disk layout (one RocksDB database, one column family per kind of data; keys are
// big-endian so bytewise order is numeric order; times in keys are sign-flipped int64 ms):
//   default    meta: "format" -> 2, "next_series_id" -> BE64, "m1_until" -> BE64(sortable t)
//   series     BE64(id) -> labels (varint-length-prefixed name/value pairs)
//   head_log   BE64(seq) -> one committed batch: a 0 byte, varint n, then n times (varint
//              id << 2 | value kind, varsint t - the previous t of the record, the value by
//              kind: see ValueKind). Records without the 0 byte (older nines) hold varint n,
//              then n times (varint id, varsint t delta, fixed64 value); both are replayed.
//              This is the write-ahead part of the store: Commit() writes its batch here, in
//              the same WriteBatch as any new series, so RocksDB's WAL makes it durable.
//   head_state BE64(id) -> a series' in-memory state at the last checkpoint (open chunk,
//              rollup accumulators, unsettled samples); with head_log it rebuilds memory.
//   chunks     BE64(id) BE64(min t) -> fixed64 max t + Gorilla chunk (see chunk.h)
//   rollup_1m  BE64(id) BE64(bucket start) -> rollup of that minute (see StoredBucket), only
//              for hours before "m1_until": see below
//   rollup_1h  BE64(id) BE64(bucket start) -> rollup of that hour
//
// Time: "now" is the store's Clock, never the data. Commit() accepts a sample in
// [now - out_of_order_window, now + future_tolerance] (and after what its series settled), so
// no sample, however far in the future, can move "now": before, the newest sample was "now",
// and one sample stamped years ahead made every later sample too old and retention expire
// everything.
//
// Life of a sample: Commit() checks it against that range, writes it to head_log and inserts it
// into the series' sorted in-memory head. Once a sample falls out of the window behind the clock
// it can never change again ("settled"):
// it is appended to the series' open Gorilla chunk (closed and written to `chunks` at 120
// samples or 2 h) and folded into an exact per-hour rollup, written as each hour completes.
// Minute rollups are not written at settle time: while the raw chunks exist they hold the same
// information at a fraction of the size (a minute row costs about what 4 probe samples do), so
// window reads aggregate raw samples below the hour. Only when an hour is about to leave the raw
// tier are its minute rollups computed from its chunks ("materialized"), with the same running
// totals the hour rollups carry; "m1_until" records how far that went, and the raw tier's
// compaction filter never drops a chunk at or after it. A checkpoint writes every changed series' state to head_state and deletes the
// head_log records it covers, in one atomic batch; recovery loads the checkpoint and replays the
// rest of head_log. Chunk boundaries depend only on the settled samples, so a replay rewrites
// exactly what it had written before.
//
// Retention is a compaction filter per tier whose cutoff is the clock's now minus that tier's
// retention; reads apply the same cutoff, so expired data disappears at once and its space is
// reclaimed as RocksDB compacts (EnforceRetention() compacts right away).
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <thread>
#include <unordered_map>

#include "core/log.h"
#include "core/utf8.h"
#include "store/chunk.h"
#include "store/encoding.h"
#include "store/series_appender.h"
#include "store/store.h"

namespace nines::store {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 3'600'000;
// How often (by the clock) samples that left the out-of-order window are settled into chunks
// and rollups. Settling visits every series with something to settle, a handful of cache misses
// each; every minute that fixed cost was shared by 4 samples of a 15 s series and was a sixth of
// remote-write ingest. Every 5 minutes it is shared by 20; reads are unaffected (they merge the
// head), the head holds 5 minutes more.
constexpr int64_t kSettleEveryMs = 5 * 60'000;
// 2: minute rollups only for hours that left the raw tier (1 wrote one at settle time).
constexpr uint64_t kFormatVersion = 2;
// Prometheus' staleness marker: stored exactly, but not a value for aggregates.
constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

enum Cf { kMeta = 0, kSeries, kHeadLog, kHeadState, kChunks, kRollup1m, kRollup1h, kNumCfs };
constexpr const char* kCfNames[kNumCfs] = {"default", "series", "head_log", "head_state",
                                           "chunks", "rollup_1m", "rollup_1h"};

// How a head_log record stores a value. Probe and counter data is mostly 0, 1 and small
// integers; 8 bytes for each was most of the log, which RocksDB copies into its WAL, its
// memtable and (until a checkpoint deletes it) an SST file.
enum ValueKind : uint64_t {
  kValueRaw = 0,      // fixed64 bits
  kValueZero = 1,     // +0.0, nothing stored
  kValueOne = 2,      // 1.0, nothing stored
  kValueInteger = 3,  // varsint of an integral value in [-2^53, 2^53] (not -0.0)
};

ValueKind KindOf(double v, int64_t* integer) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (bits == 0) return kValueZero;
  if (bits == std::bit_cast<uint64_t>(1.0)) return kValueOne;
  if (v >= -0x1p53 && v <= 0x1p53 && v == std::trunc(v)) {  // false for NaN
    *integer = static_cast<int64_t>(v);
    if (std::bit_cast<uint64_t>(static_cast<double>(*integer)) == bits) return kValueInteger;
  }
  return kValueRaw;
}

int64_t FloorTo(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

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

std::string SeriesKey(uint64_t id) {
  std::string k;
  enc::PutBE64(&k, id);
  return k;
}

std::string TimeKey(uint64_t id, int64_t t) {
  std::string k;
  k.reserve(16);
  enc::PutBE64(&k, id);
  enc::PutBE64(&k, enc::SortableTime(t));
  return k;
}

std::string EncodeLabels(const core::Labels& labels) {
  std::string out;
  for (const core::Label& l : labels) {
    enc::PutVarint(&out, l.name.size());
    out += l.name;
    enc::PutVarint(&out, l.value.size());
    out += l.value;
  }
  return out;
}

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

core::Result<core::Labels> DecodeLabels(std::string_view data) {
  enc::Decoder d(data);
  std::vector<core::Label> pairs;
  while (!d.empty()) {
    std::string_view name, value;
    if (!d.LengthPrefixed(&name) || !d.LengthPrefixed(&value)) {
      return core::DataLossError("corrupt series labels");
    }
    pairs.push_back({std::string(name), std::string(value)});
  }
  return core::Labels::FromPairs(std::move(pairs));
}

// The predecessor of a sample for counter increases: the series' last earlier valid value.
struct Pred {
  bool has = false;
  double v = 0;
};

// A running sum that stays exact under subtraction in the presence of NaN and infinities: the
// finite part is summed, the others counted.
struct PrefixSum {
  double finite = 0;
  int64_t nan = 0, pos_inf = 0, neg_inf = 0;

  void Add(double v) {
    if (std::isnan(v)) ++nan;
    else if (std::isinf(v)) ++(v > 0 ? pos_inf : neg_inf);
    else finite += v;
  }
  // What was added between `before` and this.
  double Since(const PrefixSum& before) const {
    int64_t n = nan - before.nan, p = pos_inf - before.pos_inf, m = neg_inf - before.neg_inf;
    if (n > 0 || (p > 0 && m > 0)) return std::numeric_limits<double>::quiet_NaN();
    if (p > 0) return std::numeric_limits<double>::infinity();
    if (m > 0) return -std::numeric_limits<double>::infinity();
    return finite - before.finite;
  }
  void Encode(std::string* out) const {
    enc::PutDouble(out, finite);
    enc::PutVarint(out, static_cast<uint64_t>(nan));
    enc::PutVarint(out, static_cast<uint64_t>(pos_inf));
    enc::PutVarint(out, static_cast<uint64_t>(neg_inf));
  }
  bool Decode(enc::Decoder* d) {
    uint64_t a, b, c;
    if (!d->Double(&finite) || !d->Varint(&a) || !d->Varint(&b) || !d->Varint(&c)) return false;
    nan = static_cast<int64_t>(a);
    pos_inf = static_cast<int64_t>(b);
    neg_inf = static_cast<int64_t>(c);
    return true;
  }
};

// Running totals of a series' settled samples (the ones aggregates count), so that the aggregate
// of any run of rollup buckets is the difference of two totals.
struct Totals {
  int64_t count = 0;
  PrefixSum sum;
  PrefixSum increase;

  void Encode(std::string* out) const {
    enc::PutVarint(out, static_cast<uint64_t>(count));
    sum.Encode(out);
    increase.Encode(out);
  }
  bool Decode(enc::Decoder* d) {
    uint64_t c;
    if (!d->Varint(&c) || !sum.Decode(d) || !increase.Decode(d)) return false;
    count = static_cast<int64_t>(c);
    return true;
  }
};

// A WindowAggregate plus what is needed to continue it exactly: the last valid value.
struct Agg {
  WindowAggregate w;
  Pred last_valid;

  void Add(int64_t t, double v, Pred* pred) {
    if (std::bit_cast<uint64_t>(v) == kStaleNaNBits) return;
    ++w.count;
    w.sum += v;
    if (v < w.min) w.min = v;
    if (v > w.max) w.max = v;
    w.last = v;
    w.last_timestamp_ms = t;
    if (!std::isnan(v)) {
      if (pred->has) w.increase += v >= pred->v ? v - pred->v : v;
      pred->has = true;
      pred->v = v;
      last_valid = *pred;
    }
  }

  // Appends `later`, an aggregate of the time right after this one's.
  void Merge(const Agg& later) {
    if (later.w.count == 0) return;
    w.count += later.w.count;
    w.sum += later.w.sum;
    w.min = std::min(w.min, later.w.min);
    w.max = std::max(w.max, later.w.max);
    w.last = later.w.last;
    w.last_timestamp_ms = later.w.last_timestamp_ms;
    w.increase += later.w.increase;
    if (later.last_valid.has) last_valid = later.last_valid;
  }

  std::string Encode() const {
    std::string out;
    enc::PutVarint(&out, static_cast<uint64_t>(w.count));
    enc::PutDouble(&out, w.sum);
    enc::PutDouble(&out, w.min);
    enc::PutDouble(&out, w.max);
    enc::PutDouble(&out, w.last);
    enc::PutVarsint(&out, w.last_timestamp_ms);
    enc::PutDouble(&out, w.increase);
    out.push_back(last_valid.has ? 1 : 0);
    enc::PutDouble(&out, last_valid.v);
    return out;
  }

  bool Decode(enc::Decoder* d) {
    uint64_t count;
    uint8_t has;
    if (!d->Varint(&count) || !d->Double(&w.sum) || !d->Double(&w.min) || !d->Double(&w.max) ||
        !d->Double(&w.last) || !d->Varsint(&w.last_timestamp_ms) || !d->Double(&w.increase) ||
        !d->Byte(&has) || !d->Double(&last_valid.v)) {
      return false;
    }
    w.count = static_cast<int64_t>(count);
    last_valid.has = has != 0;
    return true;
  }
};

// A rollup bucket being filled with settled samples.
struct Bucket {
  int64_t start = 0;
  Agg agg;
  Totals before;  // the series' totals before the bucket's first sample
};

// A rollup bucket as stored. Count, sum and increase are not stored: they are the differences
// of the series' running totals before and after the bucket, which are. Layout:
//   min, max, last (fixed64 doubles), varint (last t - bucket start), totals before,
//   varint count delta, sum after (double + varint deltas of its NaN/+Inf/-Inf counts),
//   increase after (likewise), byte has_pred [, double pred]: the series' last valid value after
//   the bucket, the predecessor of whatever follows.
struct StoredBucket {
  WindowAggregate w;
  Totals before, after;
  Pred pred_after;

  static void PutAfter(std::string* out, const PrefixSum& before, const PrefixSum& after) {
    enc::PutDouble(out, after.finite);
    enc::PutVarint(out, static_cast<uint64_t>(after.nan - before.nan));
    enc::PutVarint(out, static_cast<uint64_t>(after.pos_inf - before.pos_inf));
    enc::PutVarint(out, static_cast<uint64_t>(after.neg_inf - before.neg_inf));
  }
  static bool GetAfter(enc::Decoder* d, const PrefixSum& before, PrefixSum* after) {
    uint64_t n, p, m;
    if (!d->Double(&after->finite) || !d->Varint(&n) || !d->Varint(&p) || !d->Varint(&m)) {
      return false;
    }
    after->nan = before.nan + static_cast<int64_t>(n);
    after->pos_inf = before.pos_inf + static_cast<int64_t>(p);
    after->neg_inf = before.neg_inf + static_cast<int64_t>(m);
    return true;
  }

  static std::string Encode(const Agg& agg, int64_t start, const Totals& before,
                            const Totals& after, const Pred& pred_after) {
    std::string out;
    out.reserve(96);
    enc::PutDouble(&out, agg.w.min);
    enc::PutDouble(&out, agg.w.max);
    enc::PutDouble(&out, agg.w.last);
    enc::PutVarint(&out, static_cast<uint64_t>(agg.w.last_timestamp_ms - start));
    before.Encode(&out);
    enc::PutVarint(&out, static_cast<uint64_t>(after.count - before.count));
    PutAfter(&out, before.sum, after.sum);
    PutAfter(&out, before.increase, after.increase);
    out.push_back(pred_after.has ? 1 : 0);
    if (pred_after.has) enc::PutDouble(&out, pred_after.v);
    return out;
  }

  bool Decode(std::string_view data, int64_t start) {
    enc::Decoder d(data);
    uint64_t offset, count;
    uint8_t has;
    if (!d.Double(&w.min) || !d.Double(&w.max) || !d.Double(&w.last) || !d.Varint(&offset) ||
        !before.Decode(&d) || !d.Varint(&count) || !GetAfter(&d, before.sum, &after.sum) ||
        !GetAfter(&d, before.increase, &after.increase) || !d.Byte(&has) ||
        (has && !d.Double(&pred_after.v))) {
      return false;
    }
    pred_after.has = has != 0;
    after.count = before.count + static_cast<int64_t>(count);
    w.last_timestamp_ms = start + static_cast<int64_t>(offset);
    w.count = static_cast<int64_t>(count);
    w.sum = after.sum.Since(before.sum);
    w.increase = after.increase.Since(before.increase);
    return true;
  }
};

// One series in memory. What a lookup and a commit touch comes first, in one cache line: with
// thousands of series per batch, each series costs a cache miss or two, not one per member.
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

  std::string EncodeState() const {
    std::string out;
    enc::PutVarint(&out, 3);  // state format (2: head samples as varsint time + 8-byte value)
    out.push_back(has_settled ? 1 : 0);
    enc::PutVarsint(&out, settled_max_t);
    out.push_back(settled_pred.has ? 1 : 0);
    enc::PutDouble(&out, settled_pred.v);
    std::string_view bytes = chunk.num_samples() > 0 ? chunk.bytes() : std::string_view();
    enc::PutVarint(&out, bytes.size());
    out += bytes;
    totals.Encode(&out);
    enc::PutVarsint(&out, hour.start);
    out += hour.agg.Encode();
    hour.before.Encode(&out);
    // The head (ascending, distinct times) as chunks: ~1-2 bytes per regular sample instead of
    // 14, and checkpoints rewrite every dirty series' head.
    const size_t chunks = (head.size() + kChunkMaxSamples - 1) / kChunkMaxSamples;
    enc::PutVarint(&out, chunks);
    for (size_t c = 0; c < chunks; ++c) {
      ChunkEncoder e;
      const size_t end = std::min(head.size(), (c + 1) * kChunkMaxSamples);
      for (size_t i = c * kChunkMaxSamples; i < end; ++i) {
        e.Append(head[i].timestamp_ms, head[i].value).IgnoreError();  // cannot fail: see above
      }
      enc::PutVarint(&out, e.bytes().size());
      out += e.bytes();
    }
    return out;
  }

  core::Status DecodeState(std::string_view data) {
    enc::Decoder d(data);
    uint64_t version, n;
    uint8_t has_settled_byte, has_pred;
    std::string_view bytes;
    if (!d.Varint(&version) || (version != 2 && version != 3) || !d.Byte(&has_settled_byte) ||
        !d.Varsint(&settled_max_t) || !d.Byte(&has_pred) || !d.Double(&settled_pred.v) ||
        !d.LengthPrefixed(&bytes)) {
      return core::DataLossError("corrupt head state of series {}", id);
    }
    has_settled = has_settled_byte != 0;
    settled_pred.has = has_pred != 0;
    if (!bytes.empty()) {
      auto restored = ChunkEncoder::FromBytes(bytes);
      if (!restored.ok()) return restored.status().WithContext(fmt::format("series {}", id));
      chunk = std::move(*restored);
    }
    if (!totals.Decode(&d)) return core::DataLossError("corrupt totals of series {}", id);
    if (!d.Varsint(&hour.start) || !hour.agg.Decode(&d) || !hour.before.Decode(&d)) {
      return core::DataLossError("corrupt rollup state of series {}", id);
    }
    if (!d.Varint(&n)) return core::DataLossError("corrupt head of series {}", id);
    head.clear();
    for (uint64_t i = 0; i < n; ++i) {
      if (version == 2) {
        core::Sample s;
        if (!d.Varsint(&s.timestamp_ms) || !d.Double(&s.value)) {
          return core::DataLossError("corrupt head of series {}", id);
        }
        head.push_back(s);
        continue;
      }
      std::string_view chunk_bytes;
      if (!d.LengthPrefixed(&chunk_bytes)) {
        return core::DataLossError("corrupt head of series {}", id);
      }
      ChunkIterator it(chunk_bytes);
      while (it.Next()) head.push_back(it.sample());
      if (!it.status().ok()) return it.status().WithContext(fmt::format("head of series {}", id));
    }
    head_front_t = head.empty() ? INT64_MAX : head.front().timestamp_ms;
    return core::Status::Ok();
  }
};

// Drops chunks and rollup buckets older than a tier's cutoff during compaction.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  // `bucket_ms` 0: values are chunks (fixed64 max t first); else rollups of that bucket length.
  RetentionFilter(const char* name, int64_t bucket_ms) : name_(name), bucket_ms_(bucket_ms) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    int64_t cutoff = cutoff_.load(std::memory_order_relaxed);
    if (cutoff == INT64_MIN || key.size() != 16) return false;
    int64_t last;
    if (bucket_ms_ == 0) {
      if (value.size() < 8) return false;
      uint64_t max_t;
      std::memcpy(&max_t, value.data(), 8);
      last = static_cast<int64_t>(max_t);
    } else {
      last = enc::FromSortableTime(enc::GetBE64(key.data() + 8)) + bucket_ms_ - 1;
    }
    return last < cutoff;
  }
  const char* Name() const override { return name_; }

  void SetCutoff(int64_t cutoff) { cutoff_.store(cutoff, std::memory_order_relaxed); }
  int64_t cutoff() const { return cutoff_.load(std::memory_order_relaxed); }

 private:
  const char* name_;
  int64_t bucket_ms_;
  std::atomic<int64_t> cutoff_{INT64_MIN};
};

class CompactionCounter : public rocksdb::EventListener {
 public:
  explicit CompactionCounter(prometheus::Counter* counter) : counter_(counter) {}
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override {
    if (counter_ != nullptr) counter_->Increment();
  }

 private:
  prometheus::Counter* counter_;
};

struct Metrics {
  prometheus::Gauge* series = nullptr;
  prometheus::Gauge* head_samples = nullptr;
  prometheus::Counter* appended = nullptr;
  prometheus::Counter* rejected_duplicate = nullptr;
  prometheus::Counter* rejected_too_old = nullptr;
  prometheus::Counter* rejected_too_far_in_future = nullptr;
  prometheus::Counter* checkpoints = nullptr;
  prometheus::Counter* compactions = nullptr;
  prometheus::Gauge* wal_bytes = nullptr;
  prometheus::Gauge* bytes[kNumCfs] = {};

  void Register(prometheus::Registry& r) {
    series = &prometheus::BuildGauge().Name("nines_store_series")
                  .Help("Series in the store.").Register(r).Add({});
    head_samples = &prometheus::BuildGauge().Name("nines_store_head_samples")
                        .Help("Samples still inside the out-of-order window, held in memory.")
                        .Register(r).Add({});
    appended = &prometheus::BuildCounter().Name("nines_store_samples_appended_total")
                    .Help("Samples committed to the store.").Register(r).Add({});
    auto& rejected = prometheus::BuildCounter().Name("nines_store_samples_rejected_total")
                         .Help("Samples not stored, by reason.").Register(r);
    rejected_duplicate = &rejected.Add({{"reason", "duplicate"}});
    rejected_too_old = &rejected.Add({{"reason", "too_old"}});
    rejected_too_far_in_future = &rejected.Add({{"reason", "too_far_in_future"}});
    checkpoints = &prometheus::BuildCounter().Name("nines_store_checkpoints_total")
                       .Help("Head checkpoints written.").Register(r).Add({});
    compactions = &prometheus::BuildCounter().Name("nines_store_compactions_total")
                       .Help("RocksDB compactions completed.").Register(r).Add({});
    wal_bytes = &prometheus::BuildGauge().Name("nines_store_wal_bytes")
                     .Help("Size of RocksDB's write-ahead log files.").Register(r).Add({});
    auto& disk = prometheus::BuildGauge().Name("nines_store_disk_bytes")
                     .Help("Bytes on disk (SST files) by tier.").Register(r);
    for (int cf = 0; cf < kNumCfs; ++cf) bytes[cf] = &disk.Add({{"tier", kCfNames[cf]}});
  }
};

// Append-only storage for the series' encoded labels: one contiguous run per block, in the
// order series were created, so lookups of series in that order read memory sequentially.
// The bytes of deleted series stay until the store closes (deleting is a rare admin action).
class KeyArena {
 public:
  std::string_view Add(std::string_view bytes) {
    if (bytes.size() > kBlockSize) {
      big_.emplace_back(bytes);
      return big_.back();
    }
    if (blocks_.empty() || kBlockSize - used_ < bytes.size()) {
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(kBlockSize));
      used_ = 0;
    }
    char* p = blocks_.back().get() + used_;
    std::memcpy(p, bytes.data(), bytes.size());
    used_ += bytes.size();
    return std::string_view(p, bytes.size());
  }

 private:
  static constexpr size_t kBlockSize = 64 << 10;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0;
  std::deque<std::string> big_;  // a deque: its strings never move
};

// Series by the hash of their labels (core::Labels::Hash()): open addressing with linear
// probing over 16-byte slots, so a lookup reads one slot (usually) and then the series' first
// cache line and its key, instead of a chain of nodes.
class SeriesTable {
 public:
  // The series with `hash` whose encoded labels satisfy `equal`, or null.
  template <typename Equal>
  MemSeries* Find(uint64_t hash, Equal&& equal) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.series == nullptr) return nullptr;
      if (slot.hash == hash && equal(slot.series->encoded_labels)) return slot.series;
    }
  }
  void Insert(uint64_t hash, MemSeries* series) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t i = hash & mask_;
    while (slots_[i].series != nullptr) i = (i + 1) & mask_;
    slots_[i] = {hash, series};
    ++size_;
  }
  void Erase(uint64_t hash, const MemSeries* series) {
    if (slots_.empty()) return;
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].series == nullptr) return;
      if (slots_[i].series == series) break;
    }
    // Backward-shift deletion: move later entries of the probe run into the hole, so no
    // tombstones are needed.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j].series != nullptr; j = (j + 1) & mask_) {
      const size_t home = slots_[j].hash & mask_;
      // Entry j may move to the hole if its home is not in (hole, j] cyclically.
      const bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_between) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot();
    --size_;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    MemSeries* series = nullptr;  // null: empty
  };
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot());
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.series != nullptr) Insert(slot.hash, slot.series);
    }
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace

core::Result<StoreChanges> Reader::ChangesSince(uint64_t*) {
  return core::UnimplementedError("this reader does not track changes");
}
core::Result<std::vector<SeriesRef>> Reader::ResolveSeries(const std::vector<Matcher>&) {
  return core::UnimplementedError("this reader does not resolve series ids");
}
core::Result<std::vector<std::vector<core::Sample>>> Reader::SamplesOf(
    const std::vector<uint64_t>&, int64_t, int64_t) {
  return core::UnimplementedError("this reader does not read by series id");
}

core::Result<std::vector<WindowAggregate>> Reader::MinuteAggregates(const core::Labels& series,
                                                                    int64_t start_ms,
                                                                    int64_t end_ms) {
  std::vector<WindowAggregate> out;
  for (int64_t m = start_ms; m < end_ms; m += 60'000) {
    ASSIGN_OR_RETURN(WindowAggregate a, Aggregate(series, m, m + 60'000, Fields::kCounts));
    out.push_back(a);
  }
  return out;
}

class RocksDbStore final : public Store {
 public:
  RocksDbStore(StoreOptions options, core::Clock& clock)
      : options_(std::move(options)),
        clock_(clock),
        refusal_log_(clock, options_.refusal_log_interval),
        raw_filter_("nines.retention.raw", 0),
        m1_filter_("nines.retention.1m", kMinuteMs),
        h1_filter_("nines.retention.1h", kHourMs) {}

  ~RocksDbStore() override { Close(); }

  core::Status Open();
  void Close();

  std::unique_ptr<Appender> NewAppender() override;
  core::Result<std::vector<core::Labels>> Series(const std::vector<Matcher>& matchers,
                                                 int64_t mint_ms, int64_t maxt_ms) override;
  core::Result<std::vector<SeriesSamples>> Select(const std::vector<Matcher>& matchers,
                                                  int64_t mint_ms, int64_t maxt_ms) override;
  core::Result<std::vector<std::string>> LabelNames() override;
  core::Result<std::vector<std::string>> LabelValues(std::string_view name) override;
  using Reader::Aggregate;
  core::Result<WindowAggregate> Aggregate(const core::Labels& series, int64_t start_ms,
                                          int64_t end_ms, Fields fields) override;
  core::Result<StoreChanges> ChangesSince(uint64_t* cursor) override;
  core::Result<std::vector<SeriesRef>> ResolveSeries(const std::vector<Matcher>& matchers) override;
  core::Result<std::vector<std::vector<core::Sample>>> SamplesOf(const std::vector<uint64_t>& ids,
                                                                 int64_t mint_ms,
                                                                 int64_t maxt_ms) override;
  core::Result<std::vector<WindowAggregate>> MinuteAggregates(const core::Labels& series,
                                                              int64_t start_ms,
                                                              int64_t end_ms) override;
  int64_t RawHorizonMs() override { return raw_read_cutoff_.load(std::memory_order_relaxed); }
  core::Result<int64_t> DeleteSeries(const std::vector<Matcher>& matchers) override;
  core::Status EnforceRetention() override;
  core::Status Flush() override;

  // For the appender. A MemSeries lives as long as the store (deleted ones are kept aside), so
  // the pointer stays valid; its labels never change.
  MemSeries* Lookup(const core::Labels& labels) const {
    std::shared_lock lock(mu_);
    return LookupLocked(labels);
  }
  MemSeries* Lookup(std::span<const LabelView> labels, uint64_t hash) const {
    std::shared_lock lock(mu_);
    return by_hash_.Find(hash, [&labels](std::string_view encoded) {
      return EncodedLabelsEqual(labels, encoded);
    });
  }
  struct Staged {
    MemSeries* series = nullptr;  // null: pending_series[pending]
    int pending = -1;
    int64_t t = 0;
    double v = 0;
  };
  core::Result<CommitResult> CommitBatch(std::vector<Staged>& staged,
                                         std::vector<core::Labels>& pending_series);

 private:
  // A read-only copy of a series' in-memory part, taken under the lock.
  struct Snapshot {
    uint64_t id = 0;
    std::deque<core::Sample> head;  // a deque: settling erases from the front every 5 minutes
    std::string chunk;  // open chunk bytes
    int64_t hour_emitted_end = INT64_MIN;
    int64_t m1_until = INT64_MIN;  // minute rollups exist before this (m1_until_)
  };

  MemSeries* LookupLocked(const core::Labels& labels) const {
    return by_hash_.Find(labels.Hash(), [&labels](std::string_view encoded) {
      return EncodedLabelsEqual(labels, encoded);
    });
  }
  void IndexLocked(const std::shared_ptr<MemSeries>& s);
  void UnindexLocked(const std::shared_ptr<MemSeries>& s);
  std::vector<std::shared_ptr<MemSeries>> MatchLocked(const std::vector<Matcher>& matchers) const;
  Snapshot SnapshotLocked(const MemSeries& s, int64_t mint, int64_t maxt) const;

  // Moves samples that left the out-of-order window into chunks and rollups.
  core::Status SettleLocked();
  void SettleSeries(MemSeries& s, int64_t point, rocksdb::WriteBatch* batch);
  // Adds settled sample `x` of series `id` to the open bucket `b` of tier `cf` (writing `b`
  // first when `x` starts a new one) and to the series' running `totals` and `pred`. Settling
  // (hours) and minute materialization share it, so both tiers carry bit-identical totals.
  void FoldIntoBucket(uint64_t id, const core::Sample& x, Cf cf, Bucket* b, Totals* totals,
                      Pred* pred, rocksdb::WriteBatch* batch) {
    const int64_t start = FloorTo(x.timestamp_ms, cf == kRollup1m ? kMinuteMs : kHourMs);
    if (b->agg.w.count > 0 && b->start != start) {
      EmitBucket(id, *b, cf, *totals, *pred, batch);
      b->agg = Agg();
    }
    if (b->agg.w.count == 0) b->before = *totals;
    b->start = start;
    Pred p = *pred;
    b->agg.Add(x.timestamp_ms, x.value, &p);
    if (std::bit_cast<uint64_t>(x.value) == kStaleNaNBits) return;
    ++totals->count;
    totals->sum.Add(x.value);
    if (!std::isnan(x.value)) {
      if (pred->has) totals->increase.Add(x.value >= pred->v ? x.value - pred->v : x.value);
      *pred = {true, x.value};
    }
  }
  // Writes `b`, which ended just now: `after` and `pred_after` are the series' totals and
  // predecessor after it.
  void EmitBucket(uint64_t id, const Bucket& b, Cf cf, const Totals& after,
                  const Pred& pred_after, rocksdb::WriteBatch* batch) {
    if (b.agg.w.count == 0) return;
    batch->Put(cfs_[cf], TimeKey(id, b.start),
               StoredBucket::Encode(b.agg, b.start, b.before, after, pred_after));
  }
  // Writes the minute rollups of the hours in [m1_until_, the hour that is about to leave the
  // raw tier], from the chunks, and advances m1_until_.
  core::Status MaterializeMinutesLocked();
  core::Status MaterializeSeries(const MemSeries& s, int64_t from, int64_t to,
                                 rocksdb::WriteBatch* batch);
  void CloseChunk(MemSeries& s, rocksdb::WriteBatch* batch);
  core::Status CheckpointLocked();
  core::Status Recover();
  // Part of Recover: a directory in which a sample from the future moved the store's time.
  core::Status RecoverFromFutureLocked();
  void UpdateCutoffsLocked();

  // Samples of `snap`'s series in [from, to), from chunks and memory, plus the valid
  // predecessor of `from` when `pred` is non-null. Chunk samples before `cutoff` are expired.
  core::Status ReadRaw(const Snapshot& snap, int64_t from, int64_t to, int64_t cutoff,
                       std::vector<core::Sample>* out, Pred* pred);
  // The aggregate of the rollup buckets of `cf` in [from, to): count, sum and increase from the
  // running totals of the first and last bucket; min and max by a scan when `fields` asks.
  core::Status ReadRollups(uint64_t id, Cf cf, int64_t from, int64_t to, Fields fields, Agg* agg);
  core::Status FindPredecessor(const Snapshot& snap, int64_t before, Pred* pred);
  // Whether the series has a sample in [from, to), stopping at the first one found.
  core::Result<bool> HasSample(const Snapshot& snap, int64_t from, int64_t to);

  void BackgroundLoop();
  void RefreshMetrics();

  // Clears `batch` for reuse, or replaces it when its last use made it big. Commits and settles
  // reuse their WriteBatch (under the exclusive lock): a fresh one per commit grew by doubling
  // into fresh pages every time, and the page faults were a tenth of the ingest CPU.
  static rocksdb::WriteBatch& Reuse(rocksdb::WriteBatch& batch) {
    if (batch.GetDataSize() > (8u << 20)) {
      batch = rocksdb::WriteBatch();
    } else {
      batch.Clear();
    }
    return batch;
  }

  // The store's now, in ms: what every window and cutoff is measured from.
  int64_t NowMs() const { return clock_.Now().UnixMillis(); }
  // Logs what `result` refused, rate-limited per reason. Takes no lock of the store's.
  void LogRefusals(const CommitResult& result);

  const StoreOptions options_;
  core::Clock& clock_;
  core::LogLimiter refusal_log_;
  RetentionFilter raw_filter_, m1_filter_, h1_filter_;
  Metrics metrics_;
  std::shared_ptr<CompactionCounter> compaction_counter_;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;
  rocksdb::WriteOptions write_options_;

  mutable std::shared_mutex mu_;  // guards everything below
  std::unordered_map<uint64_t, std::shared_ptr<MemSeries>> by_id_;
  SeriesTable by_hash_;  // by labels.Hash()
  KeyArena keys_;       // the series' encoded labels
  std::vector<MemSeries*> live_;  // every indexed series, for loops over all of them
  // Deleted series, kept so that appenders holding their pointers stay safe.
  std::vector<std::shared_ptr<MemSeries>> deleted_;
  uint64_t commit_epoch_ = 0;
  // CommitBatch's and SettleLocked's scratch, kept between calls (see Reuse).
  struct Accepted {
    MemSeries* series;
    int64_t t;
    double v;
  };
  std::vector<Accepted> accepted_;
  std::string record_;
  rocksdb::WriteBatch commit_batch_;
  rocksdb::WriteBatch settle_batch_;
  // label name -> value -> ids (sorted ascending; ids only grow).
  std::map<std::string, std::map<std::string, std::vector<uint64_t>, std::less<>>, std::less<>>
      postings_;
  uint64_t next_series_id_ = 1;
  uint64_t next_seq_ = 1;
  int64_t last_settle_ = INT64_MIN;  // FloorTo(now, kSettleEveryMs) at the last settle
  // Every head sample before this was settled by the last settle (now - window then).
  int64_t settled_until_ = INT64_MIN;
  // Minute rollups exist for every hour before this; chunks at or after it are never dropped.
  int64_t m1_until_ = INT64_MIN;
  // Raw samples before this are expired for Select and Series (now - raw retention, as of the
  // last settle).
  std::atomic<int64_t> raw_read_cutoff_{INT64_MIN};
  int64_t head_samples_ = 0;
  uint64_t log_bytes_since_checkpoint_ = 0;
  // The bytes the last checkpoint wrote: a checkpoint rewrites every dirty series' state, which
  // with hundreds of thousands of series is a gigabyte, so how often it runs follows its size
  // (CheckpointDue), not only the log's.
  uint64_t last_checkpoint_bytes_ = 0;
  // Whether the clock has entered a kSettleEveryMs period not settled yet.
  bool SettleDue() const { return FloorTo(NowMs(), kSettleEveryMs) > last_settle_; }
  // Whether the log has outgrown what a checkpoint costs (`periodic` false: a commit asks) or,
  // every 5 minutes, whether replaying it would cost enough to be worth one (`periodic` true).
  bool CheckpointDue(bool periodic) const {
    if (periodic) return log_bytes_since_checkpoint_ > last_checkpoint_bytes_ / 4;
    return log_bytes_since_checkpoint_ > std::max<uint64_t>(64u << 20, last_checkpoint_bytes_);
  }
  // For ChangesSince. Commits that stored samples are numbered 1, 2, ... (appended_commits_ is
  // the last); appended_ holds, for suffix minima, (commit, minute of its oldest sample) with
  // both strictly increasing: the oldest minute committed after commit c is that of the first
  // entry past c. At most kMaxAppendedEntries (one per distinct minute; in-order data adds one
  // a minute): dropping the front forgets commits up to appended_known_from_.
  static constexpr size_t kMaxAppendedEntries = 1 << 16;
  uint64_t appended_commits_ = 0;
  uint64_t appended_known_from_ = 0;  // ChangesSince knows every commit after this
  std::deque<std::pair<uint64_t, int64_t>> appended_;
  uint64_t series_generation_ = 0;  // bumped by every series created or deleted

  std::mutex bg_mu_;  // taken after mu_ when both are held, never before
  std::condition_variable bg_cv_;
  bool stopping_ = false;
  bool checkpoint_wanted_ = false;  // a commit found a checkpoint due (CheckpointDue)
  bool settle_wanted_ = false;      // a commit found a settle due (SettleDue)
  std::thread background_;
};

namespace {

class RocksAppender final : public SeriesAppender {
 public:
  explicit RocksAppender(RocksDbStore* store) : store_(store) {}

  bool AppendKnownSeries(std::span<const LabelView> labels, uint64_t hash,
                         std::span<const core::Sample> samples) override {
    MemSeries* series = Known(labels, hash);
    if (series == nullptr || !series->utf8_values) return false;
    Stage(series, -1, samples);
    return true;
  }

  core::Status AppendSeries(std::span<const LabelView> labels, uint64_t hash,
                            std::span<const core::Sample> samples) override {
    if (AppendKnownSeries(labels, hash, samples)) return core::Status::Ok();
    {
      // A new series: rare, so build its Labels (validating them once more).
      std::vector<core::Label> pairs;
      pairs.reserve(labels.size());
      for (const LabelView& l : labels) {
        pairs.push_back({std::string(l.name), std::string(l.value)});
      }
      ASSIGN_OR_RETURN(core::Labels built, core::Labels::FromSortedPairs(std::move(pairs)));
      if (built.MetricName().empty()) {
        return core::InvalidArgumentError("series {} has no metric name", built.ToString());
      }
      Stage(nullptr, Pending(built), samples);
    }
    return core::Status::Ok();
  }

  core::Status Append(const core::Labels& series, int64_t timestamp_ms, double value) override {
    RocksDbStore::Staged st;
    st.t = timestamp_ms;
    st.v = value;
    // Consecutive samples of one series are common (remote write groups them by series).
    if (last_ != nullptr && series.Hash() == last_hash_ &&
        EncodedLabelsEqual(series, last_->encoded_labels)) {
      st.series = last_;
    } else if (MemSeries* found = store_->Lookup(series)) {
      // Stored series have a metric name, so these labels have one too.
      last_ = found;
      last_hash_ = series.Hash();
      st.series = found;
    } else {
      if (series.MetricName().empty()) {
        return core::InvalidArgumentError("series {} has no metric name", series.ToString());
      }
      st.pending = Pending(series);
    }
    staged_.push_back(st);
    return core::Status::Ok();
  }

  core::Status AppendWithRef(const core::Labels& series, int64_t timestamp_ms, double value,
                             uint64_t* ref) override {
    if (*ref == 0) {
      RETURN_IF_ERROR(Append(series, timestamp_ms, value));
      // A MemSeries lives as long as the store (see Lookup), so its address names it.
      MemSeries* found = staged_.back().series;
      if (found != nullptr) *ref = reinterpret_cast<uintptr_t>(found);
      return core::Status::Ok();
    }
    RocksDbStore::Staged st;
    st.series = reinterpret_cast<MemSeries*>(static_cast<uintptr_t>(*ref));
    st.t = timestamp_ms;
    st.v = value;
    staged_.push_back(st);
    return core::Status::Ok();
  }

  core::Result<CommitResult> Commit() override {
    auto result = store_->CommitBatch(staged_, pending_);
    Rollback();
    return result;
  }

  void Rollback() override {
    staged_.clear();
    pending_.clear();
    pending_index_.clear();
  }

 private:
  MemSeries* Known(std::span<const LabelView> labels, uint64_t hash) {
    if (last_ != nullptr && hash == last_hash_ &&
        EncodedLabelsEqual(labels, last_->encoded_labels)) {
      return last_;
    }
    MemSeries* found = store_->Lookup(labels, hash);
    if (found != nullptr) {
      last_ = found;
      last_hash_ = hash;
    }
    return found;
  }
  void Stage(MemSeries* series, int pending, std::span<const core::Sample> samples) {
    RocksDbStore::Staged st;
    st.series = series;
    st.pending = pending;
    for (const core::Sample& x : samples) {
      st.t = x.timestamp_ms;
      st.v = x.value;
      staged_.push_back(st);
    }
  }
  // The index in pending_ of the series `labels`, added if new.
  int Pending(const core::Labels& labels) {
    auto& candidates = pending_index_[labels.Hash()];
    for (int idx : candidates) {
      if (pending_[static_cast<size_t>(idx)] == labels) return idx;
    }
    const int idx = static_cast<int>(pending_.size());
    pending_.push_back(labels);
    candidates.push_back(idx);
    return idx;
  }

  RocksDbStore* store_;
  std::vector<RocksDbStore::Staged> staged_;
  std::vector<core::Labels> pending_;
  std::unordered_map<uint64_t, std::vector<int>> pending_index_;
  MemSeries* last_ = nullptr;  // the series of the last Append that found one in the store
  uint64_t last_hash_ = 0;
};

}  // namespace

uint64_t HashLabelViews(std::span<const LabelView> labels) {
  // As core::Labels hashes: XXH64 over every "name\xffvalue\xff". Written with memcpy into
  // a buffer sized once: this runs for every series of every remote-write request.
  size_t n = 0;
  for (const LabelView& l : labels) n += l.name.size() + l.value.size() + 2;
  thread_local std::string buf;
  if (buf.size() < n) buf.resize(std::max<size_t>(n, 1024));
  char* p = buf.data();
  auto put = [&p](std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());  // an empty view may be null
    p += bytes.size();
    *p++ = '\xff';
  };
  for (const LabelView& l : labels) {
    put(l.name);
    put(l.value);
  }
  return core::Hash64(std::string_view(buf.data(), n));
}

core::Status RocksDbStore::Open() {
  if (options_.dir.empty()) return core::InvalidArgumentError("store: no directory given");
  if (options_.registry) {
    metrics_.Register(*options_.registry);
  }
  compaction_counter_ = std::make_shared<CompactionCounter>(metrics_.compactions);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.listeners.push_back(compaction_counter_);
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 3;
  // Bound the memtables of all column families together; without it each could grow to 64 MiB.
  db_options.db_write_buffer_size = 64 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int cf = 0; cf < kNumCfs; ++cf) {
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.write_buffer_size = 16 << 20;
    switch (cf) {
      case kChunks:
        cf_options.compression = rocksdb::kNoCompression;  // Gorilla chunks are compressed
        cf_options.compaction_filter = &raw_filter_;
        break;
      case kRollup1m:
        cf_options.compaction_filter = &m1_filter_;
        cf_options.compression = rocksdb::kZSTD;  // rollups are repetitive: zstd halves them
        break;
      case kRollup1h:
        cf_options.compaction_filter = &h1_filter_;
        cf_options.compression = rocksdb::kZSTD;
        break;
      case kHeadLog:
        cf_options.compression = rocksdb::kNoCompression;
        break;
      default:
        break;
    }
    descriptors.emplace_back(kCfNames[cf], cf_options);
  }
  rocksdb::DB* raw_db = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::Open(db_options, options_.dir, descriptors, &cfs_, &raw_db),
      fmt::format("store: open {}", options_.dir)));
  db_.reset(raw_db);
  write_options_.sync = options_.sync;

  std::string format;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kMeta], "format", &format);
  if (s.IsNotFound()) {
    std::string v;
    enc::PutBE64(&v, kFormatVersion);
    RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, cfs_[kMeta], "format", v), "store"));
  } else if (!s.ok()) {
    return FromRocks(s, "store: read format");
  } else if (format.size() != 8) {
    return core::DataLossError("store {}: corrupt format marker", options_.dir);
  } else if (uint64_t found = enc::GetBE64(format.data()); found != kFormatVersion) {
    return core::FailedPreconditionError(
        "store {}: on-disk format {} is not the format {} this nines reads{}; move the directory "
        "away (or delete it) and let nines create a new one",
        options_.dir, found, kFormatVersion,
        found == 1 ? " (format 1 kept a rollup row per minute; format 2 derives minutes from "
                     "the raw chunks)"
                   : "");
  }
  RETURN_IF_ERROR(Recover());
  RefreshMetrics();
  background_ = std::thread([this] { BackgroundLoop(); });
  return core::Status::Ok();
}

void RocksDbStore::Close() {
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (background_.joinable()) background_.join();
  if (db_) {
    {
      std::unique_lock lock(mu_);
      core::Status s = CheckpointLocked();
      if (!s.ok()) LOG_WARNING("store: final checkpoint: {}", s.ToString());
    }
    for (auto* h : cfs_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    cfs_.clear();
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
}

core::Status RocksDbStore::Recover() {
  std::unique_lock lock(mu_);
  std::string next;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kMeta], "next_series_id", &next);
  if (s.ok() && next.size() == 8) next_series_id_ = enc::GetBE64(next.data());
  std::string m1;
  s = db_->Get(rocksdb::ReadOptions(), cfs_[kMeta], "m1_until", &m1);
  if (s.ok() && m1.size() == 8) m1_until_ = enc::FromSortableTime(enc::GetBE64(m1.data()));
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "store: read m1_until");

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kSeries]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return core::DataLossError("store: bad series key");
    auto series = std::make_shared<MemSeries>();
    series->id = enc::GetBE64(it->key().data());
    ASSIGN_OR_RETURN(series->labels, DecodeLabels(it->value().ToStringView()));
    next_series_id_ = std::max(next_series_id_, series->id + 1);
    IndexLocked(series);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read series"));

  it.reset(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kHeadState]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto found = by_id_.find(enc::GetBE64(it->key().data()));
    if (found == by_id_.end()) continue;
    RETURN_IF_ERROR(found->second->DecodeState(it->value().ToStringView()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read head state"));
  for (auto& [id, series] : by_id_) head_samples_ += static_cast<int64_t>(series->head.size());

  // Replay what was committed after the checkpoint. Every logged sample had been accepted, so
  // none is rejected for age here; settled ones are already in chunks.
  int64_t replayed = 0;
  it.reset(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kHeadLog]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    next_seq_ = enc::GetBE64(it->key().data()) + 1;
    const std::string_view value = it->value().ToStringView();
    // Records that start with a 0 byte carry value kinds; older ones fixed64 values.
    const bool kinds = !value.empty() && value[0] == 0;
    enc::Decoder d(kinds ? value.substr(1) : value);
    uint64_t n;
    if (!d.Varint(&n)) return core::DataLossError("store: corrupt head log record");
    int64_t t = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t id;
      int64_t dt;
      double v = 0;
      if (!d.Varint(&id) || !d.Varsint(&dt)) {
        return core::DataLossError("store: corrupt head log record");
      }
      bool ok = true;
      const uint64_t kind = kinds ? id & 3 : kValueRaw;
      if (kinds) id >>= 2;
      if (kind == kValueRaw) {
        ok = d.Double(&v);
      } else if (kind == kValueOne) {
        v = 1.0;
      } else if (kind == kValueInteger) {
        int64_t integer;
        ok = d.Varsint(&integer);
        v = static_cast<double>(integer);
      }
      if (!ok) return core::DataLossError("store: corrupt head log record");
      t = static_cast<int64_t>(static_cast<uint64_t>(t) + static_cast<uint64_t>(dt));
      auto found = by_id_.find(id);
      if (found == by_id_.end()) continue;  // deleted since
      MemSeries& series = *found->second;
      if (series.has_settled && t <= series.settled_max_t) continue;
      size_t before = series.head.size();
      series.HeadInsert(t, v);
      head_samples_ += static_cast<int64_t>(series.head.size() - before);
      series.dirty = true;
      ++replayed;
    }
    log_bytes_since_checkpoint_ += it->value().size();
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read head log"));
  if (replayed > 0) LOG_INFO("store: replayed {} samples from the head log", replayed);
  RETURN_IF_ERROR(RecoverFromFutureLocked());
  UpdateCutoffsLocked();
  return SettleLocked();
}

core::Status RocksDbStore::RecoverFromFutureLocked() {
  // Older nines measured time from the newest sample, so a sample stamped ahead of the clock
  // moved everything: the settle point, retention, and how far minute rollups were
  // materialized. Such a directory must open and work at the clock's time. The samples ahead
  // stay (they are data; DeleteSeries removes them) but no longer move anything; only the
  // minute-rollup boundary has to come back.
  const int64_t now = NowMs();
  const int64_t future_limit = now + options_.future_tolerance.millis();
  int64_t ahead = 0;
  const MemSeries* newest = nullptr;
  for (const MemSeries* series : live_) {
    const int64_t t = series->MaxTime();
    if (t <= future_limit) continue;
    ++ahead;
    if (newest == nullptr || t > newest->MaxTime()) newest = series;
  }
  if (ahead > 0) {
    LOG_WARNING(
        "store {}: {} series hold samples more than {} ahead of the clock (now {}), e.g. {} at "
        "{}; they no longer move the store's time, but a series whose settled samples are ahead "
        "refuses new samples as too_old until it is deleted "
        "(POST /api/v1/admin/tsdb/delete_series?match[]=...)",
        options_.dir, ahead, options_.future_tolerance.ToString(), FormatTimestampMs(now),
        newest->labels.ToString(), FormatTimestampMs(newest->MaxTime()));
  }
  // Minute rollups are final only for hours no sample can enter any more: before the window.
  // A boundary past that was moved by a sample from the future; the rows past the new boundary
  // are written again from the chunks when their hours leave the raw tier, and until then
  // reads take those hours from the chunks, which compaction now keeps.
  const int64_t final_until = FloorTo(now - options_.out_of_order_window.millis(), kHourMs);
  if (m1_until_ > final_until) {
    LOG_WARNING("store {}: minute rollups were materialized up to {}, ahead of the clock (now "
                "{}); moving the boundary back to {}",
                options_.dir, FormatTimestampMs(m1_until_), FormatTimestampMs(now),
                FormatTimestampMs(final_until));
    m1_until_ = final_until;
    std::string v;
    enc::PutBE64(&v, enc::SortableTime(m1_until_));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocks(db_->Put(wo, cfs_[kMeta], "m1_until", v), "store: m1_until"));
  }
  return core::Status::Ok();
}

void RocksDbStore::IndexLocked(const std::shared_ptr<MemSeries>& s) {
  ++series_generation_;
  if (s->encoded_labels.empty()) s->encoded_labels = keys_.Add(EncodeLabels(s->labels));
  s->utf8_values = std::all_of(s->labels.begin(), s->labels.end(), [](const core::Label& l) {
    return core::IsValidUtf8(l.value);
  });
  by_id_[s->id] = s;
  by_hash_.Insert(s->labels.Hash(), s.get());
  s->live_index = static_cast<uint32_t>(live_.size());
  live_.push_back(s.get());
  for (const core::Label& l : s->labels) {
    auto& ids = postings_[l.name][l.value];
    ids.insert(std::upper_bound(ids.begin(), ids.end(), s->id), s->id);
  }
}

void RocksDbStore::UnindexLocked(const std::shared_ptr<MemSeries>& s) {
  ++series_generation_;
  by_hash_.Erase(s->labels.Hash(), s.get());
  live_.back()->live_index = s->live_index;
  live_[s->live_index] = live_.back();
  live_.pop_back();
  by_id_.erase(s->id);
  for (const core::Label& l : s->labels) {
    auto name_it = postings_.find(l.name);
    if (name_it == postings_.end()) continue;
    auto value_it = name_it->second.find(l.value);
    if (value_it == name_it->second.end()) continue;
    std::erase(value_it->second, s->id);
    if (value_it->second.empty()) name_it->second.erase(value_it);
    if (name_it->second.empty()) postings_.erase(name_it);
  }
}

std::vector<std::shared_ptr<MemSeries>> RocksDbStore::MatchLocked(
    const std::vector<Matcher>& matchers) const {
  // Candidates from the most selective matcher that cannot match an absent label.
  const std::vector<uint64_t>* best = nullptr;
  std::vector<uint64_t> best_union;
  bool have_candidates = false;
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;
    auto name_it = postings_.find(m.name());
    if (name_it == postings_.end()) return {};
    std::vector<uint64_t> ids;
    if (m.op() == Matcher::Op::kEqual) {
      auto v = name_it->second.find(m.value());
      if (v == name_it->second.end()) return {};
      if (!have_candidates || v->second.size() < (best ? best->size() : best_union.size())) {
        best = &v->second;
        have_candidates = true;
      }
      continue;
    }
    for (const auto& [value, value_ids] : name_it->second) {
      if (m.Matches(value)) ids.insert(ids.end(), value_ids.begin(), value_ids.end());
    }
    if (!have_candidates || ids.size() < (best ? best->size() : best_union.size())) {
      best = nullptr;
      best_union = std::move(ids);
      have_candidates = true;
    }
  }
  std::vector<uint64_t> candidates;
  if (have_candidates) {
    candidates = best ? *best : std::move(best_union);
  } else {
    for (const auto& [id, s] : by_id_) candidates.push_back(id);
  }
  std::vector<std::shared_ptr<MemSeries>> out;
  for (uint64_t id : candidates) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    bool ok = true;
    for (const Matcher& m : matchers) {
      if (!m.Matches(it->second->labels.Get(m.name()))) {
        ok = false;
        break;
      }
    }
    if (ok) out.push_back(it->second);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->labels < b->labels; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

core::Result<CommitResult> RocksDbStore::CommitBatch(std::vector<Staged>& staged,
                                                     std::vector<core::Labels>& pending_series) {
  CommitResult result;
  if (staged.empty()) return result;
  std::unique_lock lock(mu_);
  rocksdb::WriteBatch& batch = Reuse(commit_batch_);
  if (accepted_.capacity() > (1u << 20)) accepted_ = {};  // what a rare huge batch took
  if (record_.capacity() > (16u << 20)) record_ = {};

  // Resolve series created since Append. Series that do not exist yet are created when their
  // first sample is accepted, so that refused samples leave no empty series behind.
  std::vector<std::shared_ptr<MemSeries>> created;
  std::vector<MemSeries*> resolved(pending_series.size());
  uint64_t next_id = next_series_id_;
  auto create = [&](const core::Labels& labels) {
    auto s = std::make_shared<MemSeries>();
    s->id = next_id++;
    s->labels = labels;
    s->encoded_labels = keys_.Add(EncodeLabels(s->labels));
    batch.Put(cfs_[kSeries], SeriesKey(s->id), s->encoded_labels);
    created.push_back(s);
    return s.get();
  };
  for (size_t i = 0; i < pending_series.size(); ++i) resolved[i] = LookupLocked(pending_series[i]);
  // Series deleted after Append resolved them, and what this batch writes for them instead.
  std::vector<std::pair<MemSeries*, MemSeries*>> recreated;

  // Decide per sample; within the batch, the first of a repeated (series, t) wins. The common
  // case is every series' samples arriving in time order after what it holds: then nothing can
  // be a duplicate and nothing needs sorting. One sample that is not sends the batch through
  // sort and unique.
  const int64_t now = NowMs();
  const int64_t threshold = now - options_.out_of_order_window.millis();
  const int64_t future_limit = now + options_.future_tolerance.millis();
  result.min_time_ms = threshold;
  result.max_time_ms = future_limit;
  const uint64_t epoch = ++commit_epoch_;
  std::vector<Accepted>& accepted = accepted_;
  accepted.clear();
  accepted.reserve(staged.size());
  bool in_order = true;
  auto labels_of = [&](const Staged& st) -> const core::Labels& {
    return st.series ? st.series->labels : pending_series[static_cast<size_t>(st.pending)];
  };
  for (Staged& st : staged) {
    MemSeries* s = st.series ? st.series : resolved[static_cast<size_t>(st.pending)];
    if (s != nullptr && s->deleted) {  // deleted after Append resolved it: a new series
      MemSeries* again = LookupLocked(s->labels);
      for (const auto& [gone, instead] : recreated) {
        if (gone == s) again = instead;
      }
      s = again;
    }
    if (st.t > future_limit) {
      if (result.too_far_in_future++ == 0) result.first_too_far_in_future = {labels_of(st), st.t};
      continue;
    }
    if (st.t < threshold || (s != nullptr && s->has_settled && st.t <= s->settled_max_t)) {
      if (result.too_old++ == 0) result.first_too_old = {labels_of(st), st.t};
      continue;
    }
    if (s == nullptr) {
      s = create(labels_of(st));
      if (st.series != nullptr) {
        recreated.emplace_back(st.series, s);
      } else {
        resolved[static_cast<size_t>(st.pending)] = s;
      }
    }
    if (s->batch_epoch != epoch) {
      s->batch_epoch = epoch;
      s->batch_last_t = s->head.empty() ? INT64_MIN : s->head.back().timestamp_ms;
    }
    if (st.t > s->batch_last_t) {
      s->batch_last_t = st.t;
      accepted.push_back({s, st.t, st.v});
      continue;
    }
    if (s->HeadHas(st.t)) {
      ++result.duplicates;
      continue;
    }
    in_order = false;
    accepted.push_back({s, st.t, st.v});
  }
  if (!in_order) {
    std::stable_sort(accepted.begin(), accepted.end(), [](const Accepted& a, const Accepted& b) {
      return a.series != b.series ? a.series < b.series : a.t < b.t;
    });
    auto dup = std::unique(accepted.begin(), accepted.end(),
                           [](const Accepted& a, const Accepted& b) {
                             return a.series == b.series && a.t == b.t;
                           });
    result.duplicates += accepted.end() - dup;
    accepted.erase(dup, accepted.end());
  }
  if (!created.empty()) {
    std::string v;
    enc::PutBE64(&v, next_id);
    batch.Put(cfs_[kMeta], "next_series_id", v);
  }

  // The head_log record: a 0 byte, varint count, then per sample varint (id << 2 | value
  // kind), varsint (t - previous t of the record, 0 before the first), the value by kind.
  // Written straight into a buffer sized for the worst case: this runs for every ingested
  // sample. (Series ids count up from 1, so id << 2 never overflows.)
  std::string& record = record_;
  record.clear();
  if (!accepted.empty()) {
    record.resize(11 + accepted.size() * 30);
    char* p = record.data();
    auto varint = [&p](uint64_t v) {
      while (v >= 0x80) {
        *p++ = static_cast<char>(v | 0x80);
        v >>= 7;
      }
      *p++ = static_cast<char>(v);
    };
    *p++ = 0;
    varint(accepted.size());
    int64_t prev_t = 0;
    for (const Accepted& a : accepted) {
      int64_t integer = 0;
      const ValueKind kind = KindOf(a.v, &integer);
      varint(a.series->id << 2 | kind);
      varint(enc::ZigZag(static_cast<int64_t>(static_cast<uint64_t>(a.t) -
                                              static_cast<uint64_t>(prev_t))));
      prev_t = a.t;
      if (kind == kValueInteger) {
        varint(enc::ZigZag(integer));
      } else if (kind == kValueRaw) {
        const uint64_t bits = std::bit_cast<uint64_t>(a.v);
        std::memcpy(p, &bits, 8);  // as enc::PutFixed64: little-endian hosts only
        p += 8;
      }
    }
    record.resize(static_cast<size_t>(p - record.data()));
    std::string key;
    enc::PutBE64(&key, next_seq_);
    batch.Put(cfs_[kHeadLog], key, record);
  }
  if (batch.Count() > 0) {
    RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "store: commit"));
  }

  // Durable: now apply to memory.
  next_series_id_ = next_id;
  for (auto& s : created) IndexLocked(s);
  if (!accepted.empty()) ++next_seq_;
  int64_t batch_min_t = INT64_MAX;
  for (const Accepted& a : accepted) {
    a.series->HeadInsert(a.t, a.v);
    a.series->dirty = true;
    batch_min_t = std::min(batch_min_t, a.t);
  }
  if (!accepted.empty()) {
    const uint64_t commit = ++appended_commits_;
    const int64_t minute = FloorTo(batch_min_t, kMinuteMs);
    while (!appended_.empty() && appended_.back().second >= minute) appended_.pop_back();
    appended_.emplace_back(commit, minute);
    if (appended_.size() > kMaxAppendedEntries) {
      appended_known_from_ = appended_.front().first;
      appended_.pop_front();
    }
  }
  result.appended = static_cast<int64_t>(accepted.size());
  head_samples_ += result.appended;
  log_bytes_since_checkpoint_ += record.size();
  if (metrics_.appended) {
    metrics_.series->Set(static_cast<double>(by_id_.size()));
    metrics_.head_samples->Set(static_cast<double>(head_samples_));
    metrics_.appended->Increment(static_cast<double>(result.appended));
    if (result.duplicates > 0) {
      metrics_.rejected_duplicate->Increment(static_cast<double>(result.duplicates));
    }
    if (result.too_old > 0) {
      metrics_.rejected_too_old->Increment(static_cast<double>(result.too_old));
    }
    if (result.too_far_in_future > 0) {
      metrics_.rejected_too_far_in_future->Increment(
          static_cast<double>(result.too_far_in_future));
    }
  }

  // Settling (once per kSettleEveryMs of the clock, with the hourly minute rollups) and
  // checkpoints (when the log has grown) run on the background thread: each loops over every
  // series, which at hundreds of thousands of series takes a second or more, and no commit (nor
  // whoever made it) should pay that. Until they run, the head simply holds more; reads and
  // retention cutoffs move only when they do, so both stay consistent.
  const bool settle = SettleDue();
  const bool checkpoint = CheckpointDue(/*periodic=*/false);
  if (settle || checkpoint) {
    std::lock_guard<std::mutex> bg(bg_mu_);
    if ((settle && !settle_wanted_) || (checkpoint && !checkpoint_wanted_)) bg_cv_.notify_all();
    settle_wanted_ = settle_wanted_ || settle;
    checkpoint_wanted_ = checkpoint_wanted_ || checkpoint;
  }
  lock.unlock();
  if (result.refused() > 0) LogRefusals(result);
  return result;
}

void RocksDbStore::LogRefusals(const CommitResult& r) {
  if (r.too_far_in_future > 0) {
    if (int64_t n = refusal_log_.Admit("too_far_in_future", r.too_far_in_future)) {
      LOG_WARNING(
          "store: refused {} sample(s) as too_far_in_future (since the last such line): more "
          "than {} ahead of the clock, after {}; e.g. {} at {}. Is the sender's clock right?",
          n, options_.future_tolerance.ToString(), FormatTimestampMs(r.max_time_ms),
          r.first_too_far_in_future.series.ToString(),
          FormatTimestampMs(r.first_too_far_in_future.timestamp_ms));
    }
  }
  if (r.too_old > 0) {
    if (int64_t n = refusal_log_.Admit("too_old", r.too_old)) {
      LOG_WARNING(
          "store: refused {} sample(s) as too_old (since the last such line): more than {} "
          "behind the clock, before {}, or not after what the series already settled; e.g. {} "
          "at {}",
          n, options_.out_of_order_window.ToString(), FormatTimestampMs(r.min_time_ms),
          r.first_too_old.series.ToString(), FormatTimestampMs(r.first_too_old.timestamp_ms));
    }
  }
}

std::string FormatTimestampMs(int64_t ms) {
  // Timestamp holds nanoseconds in an int64: about the years 1677 to 2262.
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1'000'000;
  if (ms <= -kLimit || ms >= kLimit) return fmt::format("{}ms", ms);
  return core::Timestamp::FromUnixMillis(ms).ToRfc3339();
}

core::Status RocksDbStore::SettleLocked() {
  const int64_t now = NowMs();
  last_settle_ = FloorTo(now, kSettleEveryMs);
  // Never backwards (the clock may step back): what settled stays settled.
  const int64_t point = std::max(settled_until_, now - options_.out_of_order_window.millis());
  settled_until_ = point;
  rocksdb::WriteBatch& batch = Reuse(settle_batch_);
  for (MemSeries* s : live_) {
    if (s->head_front_t < point) SettleSeries(*s, point, &batch);
  }
  UpdateCutoffsLocked();
  if (batch.Count() > 0) {
    // Not synced: everything written here is rebuilt from head_log if lost.
    RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "store: settle"));
  }
  return MaterializeMinutesLocked();
}

core::Status RocksDbStore::MaterializeMinutesLocked() {
  if (settled_until_ == INT64_MIN) return core::Status::Ok();
  // Every hour that is wholly settled and ends at most an hour after the raw cutoff (so the
  // hour holding the cutoff is done before compaction may drop any of it).
  const int64_t raw_cutoff = NowMs() - options_.raw_retention.millis();
  const int64_t settled = settled_until_;
  const int64_t target =
      std::min(FloorTo(raw_cutoff, kHourMs) + kHourMs, FloorTo(settled, kHourMs));
  if (target <= m1_until_) return core::Status::Ok();
  rocksdb::WriteBatch batch;
  for (auto& [id, s] : by_id_) RETURN_IF_ERROR(MaterializeSeries(*s, m1_until_, target, &batch));
  std::string v;
  enc::PutBE64(&v, enc::SortableTime(target));
  batch.Put(cfs_[kMeta], "m1_until", v);
  // Synced: once m1_until_ moves, compaction may drop the chunks these rows were made from.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "store: minute rollups"));
  m1_until_ = target;
  UpdateCutoffsLocked();
  return core::Status::Ok();
}

core::Status RocksDbStore::MaterializeSeries(const MemSeries& s, int64_t from, int64_t to,
                                             rocksdb::WriteBatch* batch) {
  // The settled samples in [from, to): closed chunks (written by now) and the open one.
  std::vector<core::Sample> samples;
  const int64_t span = options_.chunk_max_span.millis();
  std::string lower = TimeKey(s.id, from < INT64_MIN + span ? INT64_MIN : from - span);
  std::string upper = TimeKey(s.id, to);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kChunks]));
  auto take = [&](std::string_view bytes) {
    ChunkIterator ci(bytes);
    if (!ci.Seek(from)) return ci.status();
    do {
      if (ci.t() >= to) break;
      samples.push_back({ci.t(), ci.v()});
    } while (ci.Next());
    return ci.status();
  };
  for (it->Seek(lower); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", s.id);
    uint64_t max_t;
    std::memcpy(&max_t, v.data(), 8);
    if (static_cast<int64_t>(max_t) < from) continue;
    RETURN_IF_ERROR(take(std::string_view(v.data() + 8, v.size() - 8)));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read chunks"));
  if (s.chunk.num_samples() > 0 && s.chunk.max_time() >= from && s.chunk.min_time() < to) {
    RETURN_IF_ERROR(take(s.chunk.bytes()));
  }

  // The running totals and predecessor before the first counted sample are those the hour
  // rollups hold: the totals before that sample's hour (nothing counted precedes it there) and
  // the predecessor after the hour before.
  Totals totals;
  Pred pred;
  bool primed = false;
  Bucket minute;
  for (const core::Sample& x : samples) {
    if (!primed && std::bit_cast<uint64_t>(x.value) != kStaleNaNBits) {
      primed = true;
      const int64_t hour = FloorTo(x.timestamp_ms, kHourMs);
      if (s.hour.agg.w.count > 0 && s.hour.start == hour) {
        totals = s.hour.before;
      } else {
        std::string value;
        rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), cfs_[kRollup1h],
                                      TimeKey(s.id, hour), &value);
        StoredBucket b;
        if (st.ok() && b.Decode(value, hour)) {
          totals = b.before;
        } else if (!st.IsNotFound()) {
          RETURN_IF_ERROR(FromRocks(st, "store: read rollups"));
          return core::DataLossError("store: corrupt rollup of series {}", s.id);
        } else {
          // Expired from the hour tier (its retention is shorter than raw's): minute runs
          // still difference totals of one consistent sequence.
          LOG_WARNING("store: no hour rollup for series {} at {}; minute totals restart", s.id,
                      hour);
        }
      }
      std::string prev_upper = TimeKey(s.id, hour);
      rocksdb::Slice prev_upper_slice(prev_upper);
      rocksdb::ReadOptions pro;
      pro.iterate_upper_bound = &prev_upper_slice;
      std::unique_ptr<rocksdb::Iterator> prev(db_->NewIterator(pro, cfs_[kRollup1h]));
      prev->SeekForPrev(TimeKey(s.id, hour - 1));
      if (prev->Valid() && prev->key().size() == 16 &&
          enc::GetBE64(prev->key().data()) == s.id) {
        StoredBucket b;
        const int64_t start = enc::FromSortableTime(enc::GetBE64(prev->key().data() + 8));
        if (!b.Decode(prev->value().ToStringView(), start)) {
          return core::DataLossError("store: corrupt rollup of series {}", s.id);
        }
        pred = b.pred_after;
      }
      RETURN_IF_ERROR(FromRocks(prev->status(), "store: read rollups"));
    }
    FoldIntoBucket(s.id, x, kRollup1m, &minute, &totals, &pred, batch);
  }
  EmitBucket(s.id, minute, kRollup1m, totals, pred, batch);
  return core::Status::Ok();
}

void RocksDbStore::SettleSeries(MemSeries& s, int64_t point, rocksdb::WriteBatch* batch) {
  const int64_t span = options_.chunk_max_span.millis();
  size_t n = 0;
  for (; n < s.head.size() && s.head[n].timestamp_ms < point; ++n) {
    const core::Sample& x = s.head[n];
    if (s.chunk.num_samples() > 0 &&
        (s.chunk.num_samples() >= options_.chunk_max_samples ||
         x.timestamp_ms - s.chunk.min_time() >= span)) {
      CloseChunk(s, batch);
    }
    s.chunk.Append(x.timestamp_ms, x.value).IgnoreError();  // strictly increasing by design
    FoldIntoBucket(s.id, x, kRollup1h, &s.hour, &s.totals, &s.settled_pred, batch);
    s.has_settled = true;
    s.settled_max_t = x.timestamp_ms;
  }
  s.HeadEraseFront(n);
  head_samples_ -= static_cast<int64_t>(n);
  s.dirty = true;
}

void RocksDbStore::CloseChunk(MemSeries& s, rocksdb::WriteBatch* batch) {
  std::string value;
  enc::PutFixed64(&value, static_cast<uint64_t>(s.chunk.max_time()));
  value += s.chunk.bytes();
  batch->Put(cfs_[kChunks], TimeKey(s.id, s.chunk.min_time()), value);
  s.chunk = ChunkEncoder();
}

core::Status RocksDbStore::CheckpointLocked() {
  rocksdb::WriteBatch batch;
  for (auto& [id, s] : by_id_) {
    if (s->dirty) batch.Put(cfs_[kHeadState], SeriesKey(id), s->EncodeState());
  }
  std::string begin, end;
  enc::PutBE64(&begin, 0);
  enc::PutBE64(&end, next_seq_);
  batch.DeleteRange(cfs_[kHeadLog], begin, end);
  rocksdb::WriteOptions wo;
  wo.sync = true;  // the log records it deletes must not outlive the state that replaces them
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "store: checkpoint"));
  for (auto& [id, s] : by_id_) s->dirty = false;
  log_bytes_since_checkpoint_ = 0;
  last_checkpoint_bytes_ = batch.GetDataSize();
  if (metrics_.checkpoints) metrics_.checkpoints->Increment();
  return core::Status::Ok();
}

void RocksDbStore::UpdateCutoffsLocked() {
  const int64_t now = NowMs();
  const int64_t raw_cutoff = now - options_.raw_retention.millis();
  raw_read_cutoff_.store(raw_cutoff, std::memory_order_relaxed);
  // Chunks of hours whose minute rollups are not written yet stay.
  raw_filter_.SetCutoff(std::min(raw_cutoff, m1_until_));
  m1_filter_.SetCutoff(now - options_.rollup_1m_retention.millis());
  h1_filter_.SetCutoff(now - options_.rollup_1h_retention.millis());
}

std::unique_ptr<Appender> RocksDbStore::NewAppender() {
  return std::make_unique<RocksAppender>(this);
}

RocksDbStore::Snapshot RocksDbStore::SnapshotLocked(const MemSeries& s, int64_t mint,
                                                    int64_t maxt) const {
  Snapshot snap;
  snap.id = s.id;
  auto lo = std::lower_bound(s.head.begin(), s.head.end(), mint,
                             [](const core::Sample& x, int64_t t) { return x.timestamp_ms < t; });
  auto hi = std::upper_bound(lo, s.head.end(), maxt,
                             [](int64_t t, const core::Sample& x) { return t < x.timestamp_ms; });
  snap.head.assign(lo, hi);
  if (s.chunk.num_samples() > 0 && s.chunk.max_time() >= mint && s.chunk.min_time() <= maxt) {
    snap.chunk = std::string(s.chunk.bytes());
  }
  if (s.hour.agg.w.count > 0) snap.hour_emitted_end = s.hour.start;
  snap.m1_until = m1_until_;
  return snap;
}

core::Status RocksDbStore::ReadRaw(const Snapshot& snap, int64_t from, int64_t to,
                                   int64_t cutoff, std::vector<core::Sample>* out, Pred* pred) {
  if (pred != nullptr) RETURN_IF_ERROR(FindPredecessor(snap, from, pred));
  if (from >= to) return core::Status::Ok();
  const size_t first = out->size();
  // A chunk spans at most chunk_max_span, so none starting earlier than this reaches `from`.
  const int64_t span = options_.chunk_max_span.millis();
  const int64_t first_start = from < std::numeric_limits<int64_t>::min() + span
                                  ? std::numeric_limits<int64_t>::min()
                                  : from - span;
  std::string lower = TimeKey(snap.id, first_start);
  std::string upper = TimeKey(snap.id, to);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kChunks]));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", snap.id);
    uint64_t max_t;
    std::memcpy(&max_t, v.data(), 8);
    if (static_cast<int64_t>(max_t) < from || static_cast<int64_t>(max_t) < cutoff) continue;
    ChunkIterator ci(std::string_view(v.data() + 8, v.size() - 8));
    while (ci.Next()) {
      if (ci.t() >= from && ci.t() < to && ci.t() >= cutoff) out->push_back({ci.t(), ci.v()});
    }
    RETURN_IF_ERROR(ci.status());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read chunks"));
  if (!snap.chunk.empty()) {
    ChunkIterator ci(snap.chunk);
    while (ci.Next()) {
      if (ci.t() >= from && ci.t() < to && ci.t() >= cutoff) out->push_back({ci.t(), ci.v()});
    }
    RETURN_IF_ERROR(ci.status());
  }
  for (const core::Sample& s : snap.head) {
    if (s.timestamp_ms >= from && s.timestamp_ms < to) out->push_back(s);
  }
  // A chunk closed between the snapshot and the read shows its samples twice.
  auto begin = out->begin() + static_cast<std::ptrdiff_t>(first);
  auto by_time = [](const core::Sample& a, const core::Sample& b) {
    return a.timestamp_ms < b.timestamp_ms;
  };
  if (!std::is_sorted(begin, out->end(), by_time) ||
      std::adjacent_find(begin, out->end(), [](const core::Sample& a, const core::Sample& b) {
        return a.timestamp_ms == b.timestamp_ms;
      }) != out->end()) {
    std::stable_sort(begin, out->end(), by_time);
    out->erase(std::unique(begin, out->end(),
                           [](const core::Sample& a, const core::Sample& b) {
                             return a.timestamp_ms == b.timestamp_ms;
                           }),
               out->end());
  }
  return core::Status::Ok();
}

core::Status RocksDbStore::FindPredecessor(const Snapshot& snap, int64_t before, Pred* pred) {
  *pred = Pred();
  auto valid = [](double v) {
    return !std::isnan(v);  // the staleness marker is a NaN too
  };
  // The snapshot's head only holds samples >= the window start; look at the full series.
  {
    std::shared_lock lock(mu_);
    auto it = by_id_.find(snap.id);
    if (it != by_id_.end()) {
      const MemSeries& s = *it->second;
      for (auto h = s.head.rbegin(); h != s.head.rend(); ++h) {
        if (h->timestamp_ms < before && valid(h->value)) {
          *pred = {true, h->value};
          return core::Status::Ok();
        }
      }
      if (s.chunk.num_samples() > 0 && s.chunk.min_time() < before) {
        ChunkIterator ci(s.chunk.bytes());
        while (ci.Next() && ci.t() < before) {
          if (valid(ci.v())) *pred = {true, ci.v()};
        }
        if (pred->has) return core::Status::Ok();
      }
    }
  }
  std::string lower = TimeKey(snap.id, std::numeric_limits<int64_t>::min());
  std::string start = TimeKey(snap.id, before - 1);
  rocksdb::Slice lower_slice(lower);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kChunks]));
  for (it->SeekForPrev(start); it->Valid(); it->Prev()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", snap.id);
    ChunkIterator ci(std::string_view(v.data() + 8, v.size() - 8));
    while (ci.Next() && ci.t() < before) {
      if (valid(ci.v())) *pred = {true, ci.v()};
    }
    RETURN_IF_ERROR(ci.status());
    if (pred->has) return core::Status::Ok();
  }
  return FromRocks(it->status(), "store: read chunks");
}

core::Status RocksDbStore::ReadRollups(uint64_t id, Cf cf, int64_t from, int64_t to,
                                       Fields fields, Agg* agg) {
  const int64_t len = cf == kRollup1m ? kMinuteMs : kHourMs;
  // Buckets wholly before the tier's cutoff are expired even if compaction has not run yet.
  const int64_t cutoff = (cf == kRollup1m ? m1_filter_ : h1_filter_).cutoff();
  if (cutoff != INT64_MIN) from = std::max(from, FloorTo(cutoff - len, len) + len);
  if (from >= to) return core::Status::Ok();
  std::string lower = TimeKey(id, from);
  std::string upper = TimeKey(id, to);
  rocksdb::Slice lower_slice(lower), upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[cf]));
  it->Seek(lower);
  if (!it->Valid()) return FromRocks(it->status(), "store: read rollups");
  auto bucket_start = [&it] { return enc::FromSortableTime(enc::GetBE64(it->key().data() + 8)); };
  StoredBucket first, last;
  if (!first.Decode(it->value().ToStringView(), bucket_start())) {
    return core::DataLossError("store: corrupt rollup of series {}", id);
  }
  Agg out;  // min and max stay neutral (+inf, -inf) unless scanned
  if (fields == Fields::kAll) {
    out.w.min = first.w.min;
    out.w.max = first.w.max;
    for (it->Next(); it->Valid(); it->Next()) {
      StoredBucket b;
      if (!b.Decode(it->value().ToStringView(), bucket_start())) {
        return core::DataLossError("store: corrupt rollup of series {}", id);
      }
      out.w.min = std::min(out.w.min, b.w.min);
      out.w.max = std::max(out.w.max, b.w.max);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "store: read rollups"));
  }
  it->SeekForPrev(std::string(TimeKey(id, to - 1)));
  if (!it->Valid() || !last.Decode(it->value().ToStringView(), bucket_start())) {
    RETURN_IF_ERROR(FromRocks(it->status(), "store: read rollups"));
    return core::DataLossError("store: rollups of series {} changed during a read", id);
  }
  out.w.count = last.after.count - first.before.count;
  out.w.sum = last.after.sum.Since(first.before.sum);
  out.w.increase = last.after.increase.Since(first.before.increase);
  out.w.last = last.w.last;
  out.w.last_timestamp_ms = last.w.last_timestamp_ms;
  out.last_valid = last.pred_after;
  agg->Merge(out);
  return core::Status::Ok();
}

core::Result<WindowAggregate> RocksDbStore::Aggregate(const core::Labels& series,
                                                      int64_t start_ms, int64_t end_ms,
                                                      Fields fields) {
  Snapshot snap;
  {
    std::shared_lock lock(mu_);
    auto s = LookupLocked(series);
    if (!s) {
      WindowAggregate none;
      if (fields == Fields::kCounts) none.min = none.max = std::numeric_limits<double>::quiet_NaN();
      return none;
    }
    snap = SnapshotLocked(*s, start_ms, end_ms - 1);
  }
  Agg total;
  Pred pred;
  bool pred_known = false;  // whether `pred` is the predecessor of `cur`
  int64_t cur = start_ms;
  std::vector<core::Sample> raw;
  // Hour rollups up to the open hour; minute rollups only where they were materialized, which
  // is where raw samples may be gone. Everywhere else the chunks are complete: a sample is
  // dropped only when it is older than both the raw cutoff and m1_until, so reading raw
  // samples back to min(the two) is exact.
  const int64_t hour_end = std::min(FloorTo(end_ms, kHourMs), snap.hour_emitted_end);
  const int64_t minute_end = std::min(FloorTo(end_ms, kMinuteMs), snap.m1_until);
  const int64_t raw_cutoff =
      std::min(raw_read_cutoff_.load(std::memory_order_relaxed), snap.m1_until);
  while (cur < end_ms) {
    if (cur % kHourMs == 0 && cur + kHourMs <= hour_end) {
      Agg part;
      RETURN_IF_ERROR(ReadRollups(snap.id, kRollup1h, cur, hour_end, fields, &part));
      total.Merge(part);
      // A run without valid values leaves the predecessor (known or not) as it was.
      if (part.last_valid.has) {
        pred = part.last_valid;
        pred_known = true;
      }
      cur = hour_end;
      continue;
    }
    const int64_t next_hour = FloorTo(cur, kHourMs) + kHourMs;
    if (cur % kMinuteMs == 0 && cur + kMinuteMs <= minute_end) {
      int64_t run_end = minute_end;
      if (next_hour + kHourMs <= hour_end) run_end = std::min(run_end, next_hour);
      Agg part;
      RETURN_IF_ERROR(ReadRollups(snap.id, kRollup1m, cur, run_end, fields, &part));
      total.Merge(part);
      if (part.last_valid.has) {
        pred = part.last_valid;
        pred_known = true;
      }
      cur = run_end;
      continue;
    }
    // Raw up to where a rollup run can start: the next minute when minute rollups follow,
    // else the next hour when an hour run follows, else the end.
    const int64_t next_minute = FloorTo(cur, kMinuteMs) + kMinuteMs;
    int64_t raw_end = end_ms;
    if (next_minute + kMinuteMs <= minute_end) {
      raw_end = next_minute;
    } else if (next_hour + kHourMs <= hour_end) {
      raw_end = next_hour;
    }
    raw_end = std::min(raw_end, end_ms);
    raw.clear();
    Pred found;
    RETURN_IF_ERROR(
        ReadRaw(snap, cur, raw_end, raw_cutoff, &raw, pred_known ? nullptr : &found));
    if (!pred_known) pred = found;
    Agg part;
    for (const core::Sample& s : raw) part.Add(s.timestamp_ms, s.value, &pred);
    total.Merge(part);
    pred_known = true;
    cur = raw_end;
  }
  if (fields == Fields::kCounts) {
    total.w.min = total.w.max = std::numeric_limits<double>::quiet_NaN();
  }
  return total.w;
}

core::Result<std::vector<WindowAggregate>> RocksDbStore::MinuteAggregates(
    const core::Labels& series, int64_t start_ms, int64_t end_ms) {
  WindowAggregate none;
  none.min = none.max = std::numeric_limits<double>::quiet_NaN();
  std::vector<WindowAggregate> out(
      static_cast<size_t>(std::max<int64_t>(0, (end_ms - start_ms) / kMinuteMs)), none);
  if (out.empty()) return out;
  uint64_t id = 0;
  int64_t m1_until = INT64_MIN;
  {
    std::shared_lock lock(mu_);
    auto s = LookupLocked(series);
    if (!s) return out;
    id = s->id;
    m1_until = m1_until_;
  }
  // Minutes before m1_until: their rows, in one scan (a minute without a row has no sample, as
  // Aggregate answers). Rows wholly before the tier's cutoff are expired, as ReadRollups says.
  const int64_t rows_end = std::clamp(m1_until, start_ms, end_ms);
  int64_t from = start_ms;
  const int64_t cutoff = m1_filter_.cutoff();
  if (cutoff != INT64_MIN) from = std::max(from, FloorTo(cutoff - kMinuteMs, kMinuteMs) + kMinuteMs);
  if (from < rows_end) {
    std::string lower = TimeKey(id, from);
    std::string upper = TimeKey(id, rows_end);
    rocksdb::Slice lower_slice(lower), upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lower_slice;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kRollup1m]));
    for (it->Seek(lower); it->Valid(); it->Next()) {
      const int64_t t = enc::FromSortableTime(enc::GetBE64(it->key().data() + 8));
      StoredBucket b;
      if (!b.Decode(it->value().ToStringView(), t)) {
        return core::DataLossError("store: corrupt rollup of series {}", id);
      }
      if (t < start_ms || t >= rows_end) continue;
      WindowAggregate& w = out[static_cast<size_t>((t - start_ms) / kMinuteMs)];
      w = b.w;
      w.min = w.max = std::numeric_limits<double>::quiet_NaN();
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "store: read rollups"));
  }
  // The rest (where raw samples exist) minute by minute.
  for (int64_t m = std::max(rows_end, start_ms); m < end_ms; m += kMinuteMs) {
    ASSIGN_OR_RETURN(out[static_cast<size_t>((m - start_ms) / kMinuteMs)],
                     Aggregate(series, m, m + kMinuteMs, Fields::kCounts));
  }
  return out;
}

core::Result<std::vector<core::Labels>> RocksDbStore::Series(const std::vector<Matcher>& matchers,
                                                             int64_t mint_ms, int64_t maxt_ms) {
  std::vector<std::pair<core::Labels, Snapshot>> snaps;
  {
    std::shared_lock lock(mu_);
    for (const auto& s : MatchLocked(matchers)) {
      snaps.emplace_back(s->labels, SnapshotLocked(*s, mint_ms, maxt_ms));
    }
  }
  const int64_t to = maxt_ms == INT64_MAX ? INT64_MAX : maxt_ms + 1;
  std::vector<core::Labels> out;
  for (auto& [labels, snap] : snaps) {
    ASSIGN_OR_RETURN(bool has, HasSample(snap, mint_ms, to));
    if (has) out.push_back(std::move(labels));
  }
  return out;
}

core::Result<bool> RocksDbStore::HasSample(const Snapshot& snap, int64_t from, int64_t to) {
  if (from >= to) return false;
  if (!snap.head.empty()) return true;  // the snapshot holds only head samples in range
  const int64_t cutoff = raw_read_cutoff_.load(std::memory_order_relaxed);
  from = std::max(from, cutoff);
  auto in_chunk = [&](std::string_view bytes) {
    ChunkIterator ci(bytes);
    return ci.Seek(from) && ci.t() < to;
  };
  if (!snap.chunk.empty() && in_chunk(snap.chunk)) return true;
  const int64_t span = options_.chunk_max_span.millis();
  const int64_t first_start = from < std::numeric_limits<int64_t>::min() + span
                                  ? std::numeric_limits<int64_t>::min()
                                  : from - span;
  std::string lower = TimeKey(snap.id, first_start);
  std::string upper = TimeKey(snap.id, to);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kChunks]));
  for (it->Seek(lower); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", snap.id);
    uint64_t max_t;
    std::memcpy(&max_t, v.data(), 8);
    if (static_cast<int64_t>(max_t) < from) continue;  // skipped without decoding
    if (in_chunk(std::string_view(v.data() + 8, v.size() - 8))) return true;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read chunks"));
  return false;
}

core::Result<std::vector<SeriesSamples>> RocksDbStore::Select(const std::vector<Matcher>& matchers,
                                                              int64_t mint_ms, int64_t maxt_ms) {
  std::vector<std::pair<core::Labels, Snapshot>> snaps;
  {
    std::shared_lock lock(mu_);
    for (const auto& s : MatchLocked(matchers)) {
      snaps.emplace_back(s->labels, SnapshotLocked(*s, mint_ms, maxt_ms));
    }
  }
  std::vector<SeriesSamples> out;
  const int64_t to = maxt_ms == INT64_MAX ? INT64_MAX : maxt_ms + 1;
  for (auto& [labels, snap] : snaps) {
    SeriesSamples ss;
    RETURN_IF_ERROR(ReadRaw(snap, mint_ms, to, raw_read_cutoff_.load(std::memory_order_relaxed),
                            &ss.samples, nullptr));
    if (ss.samples.empty()) continue;
    ss.labels = std::move(labels);
    out.push_back(std::move(ss));
  }
  return out;
}

core::Result<std::vector<std::string>> RocksDbStore::LabelNames() {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, values] : postings_) out.push_back(name);
  return out;
}

core::Result<std::vector<std::string>> RocksDbStore::LabelValues(std::string_view name) {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  auto it = postings_.find(name);
  if (it == postings_.end()) return out;
  for (const auto& [value, ids] : it->second) out.push_back(value);
  return out;
}

core::Result<StoreChanges> RocksDbStore::ChangesSince(uint64_t* cursor) {
  std::shared_lock lock(mu_);
  StoreChanges out;
  out.series_generation = series_generation_;
  if (*cursor < appended_known_from_ || *cursor > appended_commits_) {
    out.oldest_appended_ms = StoreChanges::kUnknown;  // before what we remember, or not ours
  } else {
    auto it = std::upper_bound(
        appended_.begin(), appended_.end(), *cursor,
        [](uint64_t c, const std::pair<uint64_t, int64_t>& e) { return c < e.first; });
    if (it != appended_.end()) out.oldest_appended_ms = it->second;
  }
  *cursor = appended_commits_;
  return out;
}

core::Result<std::vector<SeriesRef>> RocksDbStore::ResolveSeries(
    const std::vector<Matcher>& matchers) {
  std::shared_lock lock(mu_);
  std::vector<SeriesRef> out;
  for (const auto& s : MatchLocked(matchers)) out.push_back({s->id, s->labels});
  return out;
}

core::Result<std::vector<std::vector<core::Sample>>> RocksDbStore::SamplesOf(
    const std::vector<uint64_t>& ids, int64_t mint_ms, int64_t maxt_ms) {
  std::vector<std::vector<core::Sample>> out(ids.size());
  const int64_t to = maxt_ms == INT64_MAX ? INT64_MAX : maxt_ms + 1;
  std::vector<std::pair<size_t, Snapshot>> slow;  // series with settled samples in range
  {
    std::shared_lock lock(mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = by_id_.find(ids[i]);
      if (it == by_id_.end()) continue;
      const MemSeries& s = *it->second;
      if (s.has_settled && s.settled_max_t >= mint_ms) {
        slow.emplace_back(i, SnapshotLocked(s, mint_ms, maxt_ms));
        continue;
      }
      // Nothing settled at or after mint: the range is all in the head (the fast path for reads
      // within the out-of-order window). Recent ranges are found by walking back from the newest
      // sample, which touches only the head's last block; longer ones by binary search.
      if (s.head.empty() || s.head.back().timestamp_ms < mint_ms) continue;
      auto lo = s.head.end();
      for (int steps = 0; lo != s.head.begin() && (lo - 1)->timestamp_ms >= mint_ms; --lo) {
        if (++steps > 16) {
          lo = std::lower_bound(s.head.begin(), lo, mint_ms, [](const core::Sample& x, int64_t t) {
            return x.timestamp_ms < t;
          });
          break;
        }
      }
      auto hi = std::upper_bound(lo, s.head.end(), maxt_ms, [](int64_t t, const core::Sample& x) {
        return t < x.timestamp_ms;
      });
      out[i].assign(lo, hi);
    }
  }
  const int64_t cutoff = raw_read_cutoff_.load(std::memory_order_relaxed);
  for (auto& [i, snap] : slow) {
    RETURN_IF_ERROR(ReadRaw(snap, mint_ms, to, cutoff, &out[i], nullptr));
  }
  return out;
}

core::Result<int64_t> RocksDbStore::DeleteSeries(const std::vector<Matcher>& matchers) {
  std::unique_lock lock(mu_);
  auto victims = MatchLocked(matchers);
  if (victims.empty()) return 0;
  rocksdb::WriteBatch batch;
  for (const auto& s : victims) {
    batch.Delete(cfs_[kSeries], SeriesKey(s->id));
    batch.Delete(cfs_[kHeadState], SeriesKey(s->id));
    for (Cf cf : {kChunks, kRollup1m, kRollup1h}) {
      batch.DeleteRange(cfs_[cf], TimeKey(s->id, std::numeric_limits<int64_t>::min()),
                        SeriesKey(s->id + 1) + std::string(8, '\0'));
    }
  }
  RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "store: delete series"));
  for (const auto& s : victims) {
    head_samples_ -= static_cast<int64_t>(s->head.size());
    s->deleted = true;
    UnindexLocked(s);
    deleted_.push_back(s);
  }
  if (metrics_.series) metrics_.series->Set(static_cast<double>(by_id_.size()));
  return static_cast<int64_t>(victims.size());
}

core::Status RocksDbStore::EnforceRetention() {
  {
    std::unique_lock lock(mu_);
    // A settle the background thread has not run yet first (samples still in the head are not
    // subject to the raw cutoff).
    if (SettleDue()) RETURN_IF_ERROR(SettleLocked());
    UpdateCutoffsLocked();
  }
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (Cf cf : {kChunks, kRollup1m, kRollup1h}) {
    RETURN_IF_ERROR(FromRocks(db_->CompactRange(options, cfs_[cf], nullptr, nullptr),
                              "store: retention compaction"));
  }
  return core::Status::Ok();
}

core::Status RocksDbStore::Flush() {
  {
    std::unique_lock lock(mu_);
    if (SettleDue()) RETURN_IF_ERROR(SettleLocked());
    RETURN_IF_ERROR(CheckpointLocked());
  }
  RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions(), cfs_), "store: flush"));
  RefreshMetrics();
  return core::Status::Ok();
}

void RocksDbStore::RefreshMetrics() {
  if (metrics_.series == nullptr) return;
  {
    std::shared_lock lock(mu_);
    metrics_.series->Set(static_cast<double>(by_id_.size()));
    metrics_.head_samples->Set(static_cast<double>(head_samples_));
  }
  for (int cf = 0; cf < kNumCfs; ++cf) {
    uint64_t bytes = 0;
    if (db_->GetIntProperty(cfs_[cf], "rocksdb.total-sst-files-size", &bytes)) {
      metrics_.bytes[cf]->Set(static_cast<double>(bytes));
    }
  }
  rocksdb::VectorLogPtr wal_files;
  if (db_->GetSortedWalFiles(wal_files).ok()) {
    uint64_t total = 0;
    for (const auto& f : wal_files) total += f->SizeFileBytes();
    metrics_.wal_bytes->Set(static_cast<double>(total));
  }
}

void RocksDbStore::BackgroundLoop() {
  core::Duration last_checkpoint = clock_.Monotonic();
  core::Duration last_retention = clock_.Monotonic();
  std::unique_lock<std::mutex> lock(bg_mu_);
  while (!stopping_) {
    bg_cv_.wait_for(lock, std::chrono::seconds(5),
                    [this] { return stopping_ || checkpoint_wanted_ || settle_wanted_; });
    if (stopping_) break;
    const bool wanted = std::exchange(checkpoint_wanted_, false);
    settle_wanted_ = false;
    lock.unlock();
    {
      // Due when a commit found it so, or when the clock moved on without commits.
      std::unique_lock store_lock(mu_);
      if (SettleDue()) {
        core::Status s = SettleLocked();
        if (!s.ok()) LOG_WARNING("store: settle: {}", s.ToString());
      }
    }
    core::Duration now = clock_.Monotonic();
    const bool periodic = now - last_checkpoint >= core::Duration::Minutes(5);
    if (wanted || periodic) {
      std::unique_lock store_lock(mu_);
      if (log_bytes_since_checkpoint_ > 0 && CheckpointDue(periodic)) {
        core::Status s = CheckpointLocked();
        if (!s.ok()) LOG_WARNING("store: checkpoint: {}", s.ToString());
      }
      if (periodic) last_checkpoint = now;
    }
    if (now - last_retention >= core::Duration::Hours(1)) {
      core::Status s = EnforceRetention();
      if (!s.ok()) LOG_WARNING("store: retention: {}", s.ToString());
      last_retention = now;
    }
    RefreshMetrics();
    lock.lock();
  }
}

core::Result<std::unique_ptr<Store>> OpenStore(StoreOptions options, core::Clock& clock) {
  auto store = std::make_unique<RocksDbStore>(std::move(options), clock);
  RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nines::store
