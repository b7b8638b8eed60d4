// slo/buckets.h: the input of the SLO math. One-minute buckets of exact integer good/total
// counts, their prefix sums (any window in O(1)), and the pure conversions from raw samples
// (probe results with a location quorum, counters with resets, latencies, freshness) to buckets.
//
// Time is cut into minutes of the Unix time line: minute m is [m*60s, (m+1)*60s). A bucket is
// either "no data" (nothing was measured in that minute: unknown, never good or bad) or holds
// `good <= total` events; a bucket with data and total == 0 is a measured minute without events
// (a scraped counter that did not move).
//
// Thread-safety: every type here is a value, thread-compatible (const access from many threads
// is safe; mutation needs exclusive access). The functions are pure: no clock reads, no I/O.
#ifndef NINES_SLO_BUCKETS_H_
#define NINES_SLO_BUCKETS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"

namespace nines::slo {

// The minute that contains `t` (floored, also before the epoch).
int64_t MinuteOf(core::Timestamp t);
// The start of minute `minute`.
core::Timestamp MinuteStart(int64_t minute);

// One minute of one SLI. Events are exact integers: requests, probe verdicts or minutes.
struct Bucket {
  int64_t good = 0;
  int64_t total = 0;
  bool has_data = false;  // false: nothing measured; good and total are then 0

  static Bucket NoData() { return Bucket{}; }
  static Bucket Events(int64_t good, int64_t total) { return Bucket{good, total, true}; }
  friend bool operator==(const Bucket&, const Bucket&) = default;
};

// Consecutive buckets starting at `first_minute`: buckets[i] is minute first_minute + i.
struct BucketSeries {
  int64_t first_minute = 0;
  std::vector<Bucket> buckets;

  int64_t end_minute() const { return first_minute + static_cast<int64_t>(buckets.size()); }
  // The bucket of `minute`; NoData outside the series.
  Bucket At(int64_t minute) const;
};

// Counts over a window of buckets, before any no-data policy is applied.
//
// For one region `buckets == slices` and `covered == slices_covered`. For region="global"
// (see GlobalCounts) events and buckets are summed over the regions (a bucket is one
// region-minute) while slices are minutes of the summed per-minute series.
struct WindowCounts {
  int64_t good = 0;            // good events in buckets with data
  int64_t total = 0;           // events in buckets with data
  int64_t buckets = 0;         // buckets in the window, with or without data
  int64_t covered = 0;         // of those, buckets with data
  int64_t slices = 0;          // minutes in the window
  int64_t slices_covered = 0;  // minutes with data
  int64_t bad_slices = 0;      // minutes with data whose good/total is under the slice target

  WindowCounts& operator+=(const WindowCounts& o);
  friend bool operator==(const WindowCounts&, const WindowCounts&) = default;
};

// Whether a minute with data is a good time slice: good/total >= target, compared with a
// tolerance of 1e-12 so that 998/1000 meets 0.998 despite binary floating point. A minute with
// data and no events is good (nothing failed).
bool IsGoodSlice(const Bucket& b, double slice_target);

// Something that answers WindowCounts for any window of whole minutes in O(1). PrefixCounts
// is the in-memory implementation; the rule engine may implement it over the store's window
// aggregates (whose counts also come from running totals).
class CountSource {
 public:
  virtual ~CountSource() = default;
  // Counts over minutes [begin_minute, end_minute). Minutes the source knows nothing about are
  // buckets without data. REQUIRES: begin_minute <= end_minute.
  virtual WindowCounts Counts(int64_t begin_minute, int64_t end_minute) const = 0;
};

// Prefix sums over a BucketSeries: Counts() of any window costs a few array reads, whatever the
// window's length. Minutes are appended as they complete, so an evaluation loop never rebuilds.
// Memory: the running totals are kept every 64 minutes (24 bytes), and each minute stores its
// offset from them in 6 bytes while a 64-minute block's events fit in 16 bits (probe verdicts,
// time slices, up to ~1000 requests a minute), else 24 bytes for that block: about 6.5 bytes per
// minute for probe SLIs (30 days: ~280 KiB per SLO and region).
class PrefixCounts final : public CountSource {
 public:
  // An empty series whose first minute is `first_minute`. `slice_target` in [0, 1] classifies
  // time slices (IsGoodSlice) as minutes are appended.
  PrefixCounts(int64_t first_minute, double slice_target);
  // Builds from a whole series in O(buckets).
  static PrefixCounts Build(const BucketSeries& series, double slice_target);

  // Appends the next minute (end_minute()). REQUIRES: b.good <= b.total, b.good >= 0, and
  // no counts when !b.has_data (checked by ValidateBucket; violations are clamped).
  void Append(const Bucket& b);
  // Drops the minutes at and after `end_minute`, so that they can be appended again (a minute
  // whose samples changed after it was counted). O(1) amortized. REQUIRES: first_minute() <=
  // end_minute. An end_minute at or after end_minute() changes nothing.
  void Truncate(int64_t end_minute);

  WindowCounts Counts(int64_t begin_minute, int64_t end_minute) const override;

  int64_t first_minute() const { return first_minute_; }
  int64_t end_minute() const { return first_minute_ + size_ - 1; }
  double slice_target() const { return slice_target_; }
  // Forgets whole 64-minute blocks before `minute` (first_minute() moves forward to a block
  // start at or before it; windows starting earlier count from there). A memmove, no
  // recomputation.
  void DropBefore(int64_t minute);
  // Reserves room for `minutes` minutes in all, so appending up to that many never reallocates.
  void Reserve(int64_t minutes);
  // Heap bytes in use.
  size_t MemoryBytes() const;

  // DropBefore forgets whole blocks of this many minutes.
  static constexpr int64_t kBlockMinutes = 64;

 private:
  static constexpr int kBlockBits = 6;  // 64 prefix entries per block
  static constexpr int64_t kBlock = int64_t{1} << kBlockBits;
  static_assert(kBlock == kBlockMinutes);
  struct Cumulative {
    int64_t good = 0;
    int64_t total = 0;
    int32_t covered = 0;
    int32_t bad_slices = 0;
  };
  // An entry's offset from its block's base, when the block's events fit in 16 bits.
  struct Narrow {
    uint16_t good = 0;
    uint16_t total = 0;
    uint8_t covered = 0;
    uint8_t bad_slices = 0;
  };
  // The running totals before minute first_minute_ + i (entry 0 is all zero).
  Cumulative Entry(int64_t i) const;
  Cumulative At(int64_t minute) const;
  // Moves block k's offsets into wide_ (its events outgrew 16 bits).
  void Widen(int64_t k);

  int64_t first_minute_;
  double slice_target_;
  int64_t size_ = 0;                // entries: minutes + 1
  Cumulative last_;                 // Entry(size_ - 1)
  std::vector<Cumulative> base_;    // base_[k] = Entry(k * kBlock)
  std::vector<Narrow> narrow_;      // narrow_[i]: Entry(i) - base_[i / kBlock] (narrow blocks)
  std::vector<int32_t> wide_at_;    // per block: its first index in wide_, or -1 when narrow
  std::vector<Cumulative> wide_;    // kBlock offsets per wide block
};

// Errors: INVALID_ARGUMENT when good < 0, good > total, or a no-data bucket has counts.
core::Status ValidateBucket(const Bucket& b);

// The per-minute sum of several regions' series (for region="global": summed counts, never
// averaged ratios). A minute has data when at least one region has data in it; the result spans
// the union of the inputs. An empty input gives an empty series.
BucketSeries SumSeries(const std::vector<const BucketSeries*>& regions);

// The counts for region="global": events, buckets and coverage are the sums over the regions'
// sources (so global budgets in events are exactly the regions' budgets added up), time slices
// come from `summed` (the PrefixCounts of SumSeries of the regions). `summed` may be null when
// only events are needed (an occurrences budget never reads time slices): the slice fields are
// then 0. The pointers must outlive this object.
class GlobalCounts final : public CountSource {
 public:
  GlobalCounts(std::vector<const CountSource*> regions, const CountSource* summed)
      : regions_(std::move(regions)), summed_(summed) {}
  WindowCounts Counts(int64_t begin_minute, int64_t end_minute) const override;

 private:
  std::vector<const CountSource*> regions_;
  const CountSource* summed_;
};

// ---------------------------------------------------------------------------------------------
// Conversions from raw samples to buckets. Samples are (timestamp ms, value) ascending by time;
// a sample belongs to the minute that contains its timestamp. NaN values (Prometheus staleness
// markers) are ignored. Each returns the buckets of minutes [first_minute, first_minute + n).

// One probe location's minute: how many of its probes succeeded and failed.
struct ProbeMinute {
  int32_t successes = 0;
  int32_t failures = 0;
  bool reported() const { return successes + failures > 0; }
  // A location failed a minute when at least one of its probes in that minute failed: the
  // service was unreachable from there for part of the minute. Quorum, not this rule, is what
  // keeps one prober's network blip from counting.
  bool failed() const { return failures > 0; }
};

// Tallies probe_success samples (1 success, 0 failure; any other value > 0.5 counts as success)
// per minute.
std::vector<ProbeMinute> ProbeMinutes(const std::vector<core::Sample>& samples,
                                      int64_t first_minute, int64_t n);

// Combines a region's locations into one bucket per minute with a location quorum. Each minute
// with data is one event (total 1): good unless at least Q of the locations that reported in it
// failed.
// - `quorum` 0 (the default) means a majority of the locations that reported in that minute:
//   Q = floor(reported / 2) + 1. So 1 of 3 failing is good, 2 of 3 bad; 1 of 2 good, 2 of 2
//   bad; a single reporting location decides alone.
// - A fixed `quorum` Q > 0 needs at least Q reporting locations to decide: a minute in which
//   fewer than Q locations reported is no data (the witnesses are too few to call the region
//   either up or down; it shows in coverage and the no-data policy decides), even if all of
//   those that reported failed.
// - A minute in which no location reported is no data.
// - `live` (optional, n entries): the number of the region's probers alive in each minute (the
//   rule engine knows from agents' heartbeats). A fixed quorum is capped at it: Q = min(quorum,
//   live[m]) (at least 1), so when probers are lost the minute is decided by those that remain
//   instead of being no data; the default majority quorum is unaffected.
// REQUIRES: every element of `locations` has the same length n; quorum >= 0.
BucketSeries QuorumBuckets(const std::vector<std::vector<ProbeMinute>>& locations,
                           int64_t first_minute, int quorum,
                           const std::vector<int>* live = nullptr);

// Per-minute increases of a counter, exact and without extrapolation, with resets handled the
// way the store's rollups do: each sample q with a predecessor p (the previous non-NaN sample,
// which may lie before first_minute) adds q - p to q's minute, or q when q < p (the counter
// reset to zero and counted up to q). The very first sample has no predecessor and adds nothing.
// A minute has data when it holds at least one sample. Values are rounded to integers (counters
// count events). Samples before first_minute only serve as predecessors.
struct CounterMinute {
  int64_t increase = 0;
  bool has_data = false;
};
std::vector<CounterMinute> CounterIncreases(const std::vector<core::Sample>& samples,
                                            int64_t first_minute, int64_t n);

// Request ratio: good and total counters (e.g. http_requests_total{code!~"5.."} and
// http_requests_total) into buckets via CounterIncreases. A minute has data when the total
// counter has a sample in it. Counters scraped at slightly different moments can make a
// minute's good increase exceed its total; good is then clamped to total (the surplus shows in
// the next minute's total), so a bucket never claims more good than total events.
BucketSeries RequestRatioBuckets(const std::vector<core::Sample>& good_counter,
                                 const std::vector<core::Sample>& total_counter,
                                 int64_t first_minute, int64_t n);

// Latency from individual observations (e.g. probe_duration_seconds): each sample is one event,
// good when its value <= threshold (same unit as the samples). Histogram-based latency SLIs use
// RequestRatioBuckets with the `le` bucket counter as good and the `_count` counter as total.
BucketSeries LatencyBuckets(const std::vector<core::Sample>& observations, double threshold,
                            int64_t first_minute, int64_t n);

// Freshness from a "last success" timestamp metric (value: Unix seconds of the last success,
// e.g. a nightly pipeline's completion time). Each minute with a sample is one event, good when
// the age of its newest sample's value, measured at that sample's timestamp, is <= max_age.
BucketSeries FreshnessBuckets(const std::vector<core::Sample>& last_success_seconds,
                              core::Duration max_age, int64_t first_minute, int64_t n);

}  // namespace nines::slo

#endif  // NINES_SLO_BUCKETS_H_
