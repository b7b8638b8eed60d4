// Rollup math of the RocksDB store (private to store/): exact window aggregates that can be
// continued and differenced, and the rollup bucket as stored in rollup_1m / rollup_1h.
//
// Every aggregate over a run of buckets is exact because each bucket stores the series' running
// totals (count, sum, counter increase) before and after it: the aggregate of buckets i..j is
// after(j) - before(i). Sums stay exact under subtraction with NaN and infinities because those
// are counted, not summed (PrefixSum).
//
// Thread-safety: plain values; no shared state.
#ifndef NINES_STORE_ROLLUP_H_
#define NINES_STORE_ROLLUP_H_

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "store/encoding.h"
#include "store/keys.h"
#include "store/store.h"

namespace nines::store::internal {

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
  void Encode(std::string* out) const;
  bool Decode(enc::Decoder* d);
};

// Running totals of a series' settled samples (the ones aggregates count), so that the aggregate
// of any run of rollup buckets is the difference of two totals.
struct Totals {
  int64_t count = 0;
  PrefixSum sum;
  PrefixSum increase;

  // Counts settled sample `v` whose predecessor is `*pred`, and makes it the predecessor.
  void Add(double v, Pred* pred) {
    if (std::bit_cast<uint64_t>(v) == kStaleNaNBits) return;
    ++count;
    sum.Add(v);
    if (!std::isnan(v)) {
      if (pred->has) increase.Add(v >= pred->v ? v - pred->v : v);
      *pred = {true, v};
    }
  }
  void Encode(std::string* out) const;
  bool Decode(enc::Decoder* d);
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

  std::string Encode() const;
  bool Decode(enc::Decoder* d);
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

  static std::string Encode(const Agg& agg, int64_t start, const Totals& before,
                            const Totals& after, const Pred& pred_after);
  // False when `data` is not a bucket that Encode wrote for `start`.
  bool Decode(std::string_view data, int64_t start);
};

}  // namespace nines::store::internal

#endif  // NINES_STORE_ROLLUP_H_
