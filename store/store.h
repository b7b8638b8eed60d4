// store: nines' time-series store, as the rest of nines sees it.
//
// Modules write through an Appender (a batch of samples committed atomically and durably) and
// read through a Reader (series by label matchers, raw samples, label names and values, and
// exact window aggregates served from rollups). The concrete RocksDB-backed store is created by
// OpenStore(); nothing outside store/ sees RocksDB.
//
// Thread-safety: a Store is thread-safe. An Appender is used by one thread at a time; many
// Appenders may commit concurrently.
//
// Semantics every implementation keeps:
// - Samples are (timestamp in ms, double). A series is identified by its Labels.
// - Writing the same (series, timestamp) again is idempotent: the first value is kept and the
//   repeat counted as a duplicate (a different value for the same timestamp is counted too).
// - Time comes from the store's Clock, never from the data: samples may arrive in any order
//   from StoreOptions::out_of_order_window behind the clock's now to future_tolerance ahead of
//   it; others are refused and counted by reason (too_old, too_far_in_future), never silently
//   dropped. Retention is measured from the clock's now too, so no sample can move "now".
// - What Commit() acknowledged survives kill -9 (and, with sync on, power loss).
#ifndef NINES_STORE_STORE_H_
#define NINES_STORE_STORE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/labels.h"
#include "core/regex.h"
#include "core/status.h"
#include "core/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::store {

// A label matcher as in PromQL: =, !=, =~, !~. Regexes are RE2 syntax (Go's, as Prometheus'),
// fully anchored, and `.` matches a newline too (Prometheus 3's "^(?s:...)$"). A label that is
// absent has the value "" (so `{region=""}` selects series without a region).
class Matcher {
 public:
  enum class Op { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

  // Errors: INVALID_ARGUMENT for an invalid label name or regex (naming both).
  static core::Result<Matcher> Create(Op op, std::string name, std::string value);

  bool Matches(std::string_view value) const;
  // Whether the empty string matches (then series without the label match too).
  bool MatchesEmpty() const { return matches_empty_; }

  Op op() const { return op_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // `name="value"`, `name=~"value"`, ...
  std::string ToString() const;

 private:
  Matcher() = default;
  Op op_ = Op::kEqual;
  std::string name_;
  std::string value_;
  std::optional<core::Regex> regex_;  // for =~ and !~
  bool matches_empty_ = false;
};

// Parses a series selector: `up`, `up{job="api"}`, `{__name__=~"probe_.*",region!="us-east-1"}`.
// Errors: INVALID_ARGUMENT with the column of the problem. An empty selector, or one whose every
// matcher matches the empty string, is rejected (it would select every series).
core::Result<std::vector<Matcher>> ParseSelector(std::string_view text);

// A sample a commit refused, to name in answers and logs.
struct RefusedSample {
  core::Labels series;  // empty when nothing was refused for the reason
  int64_t timestamp_ms = 0;
};

// Statistics of one Commit(). Refused samples are not errors: the rest of the batch commits.
struct CommitResult {
  int64_t appended = 0;    // new samples stored
  int64_t duplicates = 0;  // (series, timestamp) already stored; the stored value is kept
  // Refused: older than the out-of-order window (before min_time_ms), or not after the newest
  // sample its series already settled (which never changes again).
  int64_t too_old = 0;
  // Refused: more than future_tolerance ahead of the store's clock (after max_time_ms).
  int64_t too_far_in_future = 0;
  // Every double, NaN and +-Inf included, is a valid value, so nothing is refused for it.

  // The range the store accepted samples in when it judged the batch: [now - out_of_order_window,
  // now + future_tolerance] by its clock. 0 when the batch was empty.
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;
  // The first sample refused for each reason.
  RefusedSample first_too_old;
  RefusedSample first_too_far_in_future;

  int64_t refused() const { return too_old + too_far_in_future; }
};

// An appender's handle on a series, for Appender::AppendWithRef (as Prometheus' series refs).
// Opaque: it is not a series id (SeriesRef::id) and cannot be mistaken for one or made from
// one; only the store's appenders set it. A default-constructed AppendRef is unknown.
class AppendRef {
 public:
  AppendRef() = default;
  // Whether a store set it; an unknown ref makes AppendWithRef look the labels up.
  bool known() const { return value_ != 0; }
  friend bool operator==(const AppendRef&, const AppendRef&) = default;

 private:
  friend class Appender;
  explicit AppendRef(uint64_t value) : value_(value) {}
  uint64_t value_ = 0;  // 0: unknown; else what the store's appender put there
};

class Appender {
 public:
  virtual ~Appender() = default;
  // Stages one sample. Errors: INVALID_ARGUMENT for labels without a metric name; the staged
  // batch is unaffected.
  virtual core::Status Append(const core::Labels& series, int64_t timestamp_ms, double value) = 0;
  // Append with a shortcut for a caller that appends to the same series again and again (as
  // Prometheus' series refs): when `*ref` is known it names the series and `series` is not
  // looked up; when it is unknown the labels are looked up as by Append and `*ref` is set once
  // the store holds the series (a series this batch creates gets its ref on an Append after the
  // Commit). A ref is only valid with the labels it was set for, with appenders of the store
  // that set it, while that store is open. The default ignores refs (leaves `*ref` unknown).
  virtual core::Status AppendWithRef(const core::Labels& series, int64_t timestamp_ms,
                                     double value, AppendRef* ref) {
    (void)ref;
    return Append(series, timestamp_ms, value);
  }
  // Writes every staged sample atomically: after it returns OK, all of them are readable and
  // durable; on error, none is. The appender is empty afterwards either way.
  // Errors: UNAVAILABLE / DATA_LOSS / INTERNAL from the disk.
  virtual core::Result<CommitResult> Commit() = 0;
  // Discards what was staged.
  virtual void Rollback() = 0;

 protected:
  // For implementations of AppendWithRef: a ref that holds `value` (0: unknown), and the value
  // a ref holds.
  static AppendRef MakeRef(uint64_t value) { return AppendRef(value); }
  static uint64_t RefValue(const AppendRef& ref) { return ref.value_; }
};

// The aggregate of one series' samples over a half-open window [start, end).
struct WindowAggregate {
  int64_t count = 0;  // samples in the window
  double sum = 0;     // of their values
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double last = std::numeric_limits<double>::quiet_NaN();  // value of the newest sample
  int64_t last_timestamp_ms = 0;                           // 0 when count == 0
  // Counter increase, exact (no extrapolation): the sum, over every sample q in the window that
  // has a predecessor p (the series' previous sample, which may lie before the window), of
  // q - p, or of q when q < p (a counter reset). Adjacent windows therefore add up exactly.
  double increase = 0;
};

struct SeriesSamples {
  core::Labels labels;
  std::vector<core::Sample> samples;  // ascending by timestamp
};

// A series with its id in the store (Reader::ResolveSeries). The id is assigned when the series
// is created and never reused; it names the series until DeleteSeries removes it.
struct SeriesRef {
  uint64_t id = 0;
  core::Labels labels;
};

// What changed in the store since a reader's cursor (Reader::ChangesSince).
struct StoreChanges {
  // Changes whenever a series is created or deleted: while it stays the same, ResolveSeries
  // returns the same series for the same matchers.
  uint64_t series_generation = 0;
  // The start of the minute holding the oldest sample committed after the cursor (duplicates
  // and rejected samples are not committed): every sample stored since is at or after it.
  // kNothingAppended when no sample was committed since; kUnknown when the store no longer
  // remembers that far back (a cursor from before the store opened, or one so old that the
  // store dropped its record): then any sample may have changed.
  int64_t oldest_appended_ms = kNothingAppended;
  static constexpr int64_t kNothingAppended = std::numeric_limits<int64_t>::max();
  static constexpr int64_t kUnknown = std::numeric_limits<int64_t>::min();
};

class Reader {
 public:
  virtual ~Reader() = default;

  // The series matching every matcher that have a sample in [mint_ms, maxt_ms] (inclusive),
  // sorted by labels.
  virtual core::Result<std::vector<core::Labels>> Series(const std::vector<Matcher>& matchers,
                                                         int64_t mint_ms, int64_t maxt_ms) = 0;
  // The matching series with their samples in [mint_ms, maxt_ms], sorted by labels.
  virtual core::Result<std::vector<SeriesSamples>> Select(const std::vector<Matcher>& matchers,
                                                          int64_t mint_ms, int64_t maxt_ms) = 0;
  // Every label name in use, sorted.
  virtual core::Result<std::vector<std::string>> LabelNames() = 0;
  // Every value of `name` in use, sorted.
  virtual core::Result<std::vector<std::string>> LabelValues(std::string_view name) = 0;

  // Which fields Aggregate computes. kCounts leaves min and max as NaN and in exchange costs
  // the same for any window length (count, sum, increase come from running totals kept in the
  // rollups); kAll also scans the rollups for min and max, so its cost grows with buckets.
  enum class Fields { kAll, kCounts };

  // The aggregate of `series` over [start_ms, end_ms), exact, computed from the coarsest rollups
  // that tile the window plus raw samples at its edges. A series that does not exist yields an
  // empty aggregate (count 0). Sums of non-integer values may differ from a sample-by-sample
  // sum in the last bits (they are differences of running totals).
  virtual core::Result<WindowAggregate> Aggregate(const core::Labels& series, int64_t start_ms,
                                                  int64_t end_ms, Fields fields) = 0;
  core::Result<WindowAggregate> Aggregate(const core::Labels& series, int64_t start_ms,
                                          int64_t end_ms) {
    return Aggregate(series, start_ms, end_ms, Fields::kAll);
  }

  // Incremental reads, for readers that keep state derived from the store across calls (the SLO
  // evaluator): resolve matchers to series ids once, read known ids directly, and learn which
  // past minutes changed since the last call. A Reader that does not support them returns
  // UNIMPLEMENTED from each (the default), and callers fall back to Select.

  // What changed since `*cursor` (0 at first), and moves `*cursor` to now. Call it before the
  // reads it guards: a commit racing with them is then reported again by the next call.
  // Example:
  //   uint64_t cursor = 0;
  //   ... each cycle:
  //   ASSIGN_OR_RETURN(StoreChanges c, reader.ChangesSince(&cursor));
  //   if (c.series_generation != generation) { re-resolve with ResolveSeries }
  //   re-read from min(c.oldest_appended_ms, the end of the last read) with SamplesOf
  virtual core::Result<StoreChanges> ChangesSince(uint64_t* cursor);
  // Every series matching all `matchers`, with or without samples, sorted by labels.
  virtual core::Result<std::vector<SeriesRef>> ResolveSeries(const std::vector<Matcher>& matchers);
  // The samples of each series in `ids` in [mint_ms, maxt_ms] (inclusive), ascending by time:
  // one vector per id, in the order of `ids` (empty for an id that no longer exists). Cheaper
  // than Select: no matching, no labels, and a range within the out-of-order window is read from
  // memory only.
  virtual core::Result<std::vector<std::vector<core::Sample>>> SamplesOf(
      const std::vector<uint64_t>& ids, int64_t mint_ms, int64_t maxt_ms);

  // Aggregate(series, m, m + 1 min, Fields::kCounts) for each whole minute m of
  // [start_ms, end_ms), in order, at the cost of one scan of the store's minute rollups where it
  // has them (the default calls Aggregate per minute). For readers that need a long range minute
  // by minute where raw samples are gone (Reader::RawHorizonMs).
  // REQUIRES: start_ms and end_ms are whole minutes, start_ms <= end_ms.
  virtual core::Result<std::vector<WindowAggregate>> MinuteAggregates(const core::Labels& series,
                                                                      int64_t start_ms,
                                                                      int64_t end_ms);

  // Where the raw tier begins (ms): Select, Series and SamplesOf see every sample stored at or
  // after this time; before it, raw retention may have dropped samples that Aggregate still
  // counts exactly from the rollups (one-minute rollups are kept far longer: 400 days by
  // default). A reader that keeps derived state over long windows (the SLO evaluator's backfill)
  // reads per-minute Aggregates before it and raw samples after it. It moves forward with the
  // store's data. The default: nothing was dropped (the minimum int64).
  virtual int64_t RawHorizonMs() { return std::numeric_limits<int64_t>::min(); }
};

// Every span here is measured from the store's clock (OpenStore's `clock`), never from the data.
struct StoreOptions {
  std::string dir;  // REQUIRED: created if missing
  // How far behind the clock's now a sample may arrive and still be accepted. Samples settle
  // into chunks and rollups (and can no longer change) once they are this far behind.
  core::Duration out_of_order_window = core::Duration::Hours(2);
  // How far ahead of the clock's now a sample may be and still be accepted (clock skew between
  // a sender and the store). Later ones are refused as too_far_in_future. REQUIRES: >= 0.
  core::Duration future_tolerance = core::Duration::Minutes(10);
  // Refused samples are logged at most once per reason per this interval, with counts.
  core::Duration refusal_log_interval = core::Duration::Minutes(1);
  core::Duration raw_retention = core::Duration::Days(35);
  core::Duration rollup_1m_retention = core::Duration::Days(400);
  core::Duration rollup_1h_retention = core::Duration::Days(5 * 365);
  // true: fsync the write-ahead log on every Commit (survives power loss). false: the log is
  // written to the OS on every Commit (survives kill -9), and synced in the background.
  bool sync = false;
  // A series' open chunk is cut when it has this many samples or spans this long.
  int chunk_max_samples = 120;
  core::Duration chunk_max_span = core::Duration::Hours(2);
  // Where the store registers its metrics; may be null.
  std::shared_ptr<prometheus::Registry> registry;
};

class Store : public Reader {
 public:
  // A new, empty appender. It must not outlive the store.
  virtual std::unique_ptr<Appender> NewAppender() = 0;
  // Deletes every series matching all `matchers`, with its samples and rollups, for good (it
  // does not come back on reopen; samples appended later with the same labels start a new
  // series). Returns how many series were deleted.
  virtual core::Result<int64_t> DeleteSeries(const std::vector<Matcher>& matchers) = 0;
  // Applies retention now (it also runs in the background). For tests and the admin API.
  virtual core::Status EnforceRetention() = 0;
  // Writes a checkpoint of the in-memory head and flushes RocksDB's memtables, so that reopening
  // replays nothing. Close does the same. For tests, benchmarks and the admin API.
  virtual core::Status Flush() = 0;
};

// `ms` (since the Unix epoch) as RFC 3339 in UTC, as a store names a sample's time in messages;
// "<ms>ms" outside the years Timestamp can hold.
std::string FormatTimestampMs(int64_t ms);

// Opens (creating if needed) the RocksDB-backed store in options.dir. `clock` is the store's
// time: what it accepts, when samples settle, what retention expires (see StoreOptions); it must
// outlive the store. A directory that holds samples ahead of the clock (written by an older
// nines, which let them move its time) opens normally; such series are named in a warning.
// Errors: FAILED_PRECONDITION when the directory is in use or unusable, DATA_LOSS when it is
// corrupt.
core::Result<std::unique_ptr<Store>> OpenStore(StoreOptions options, core::Clock& clock);

}  // namespace nines::store

#endif  // NINES_STORE_STORE_H_
