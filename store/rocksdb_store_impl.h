// RocksDbStore: the Store behind OpenStore(), shared by the .cc files that implement it (private
// to store/; leveldb's db_impl.h is the model). Who does what:
//   rocksdb_store.cc            open, close, flush, metrics, the background thread
//   rocksdb_store_recover.cc    loading the series, the checkpoint and the head log at open
//   rocksdb_store_commit.cc     the write path: appenders and Commit
//   rocksdb_store_settle.cc     settling the head into chunks and rollups; minute rollups;
//                               checkpoints
//   rocksdb_store_read.cc       the read path: raw samples, rollups, window aggregates
//   rocksdb_store_retention.cc  retention cutoffs and compaction; DeleteSeries
//   series_index.cc             labels -> series, postings, label names and values
//   changes.cc                  ChangesSince
// and, below them: keys.h (the on-disk key layout), head_log.h (the head_log record codec),
// mem_series.h (a series in memory and its head_state codec), rollup.h (rollup math).
//
// Time: "now" is the store's Clock, never the data. Commit() accepts a sample in
// [now - out_of_order_window, now + future_tolerance] (and after what its series settled), so
// no sample, however far in the future, can move "now": before, the newest sample was "now",
// and one sample stamped years ahead made every later sample too old and retention expire
// everything.
//
// Life of a sample: Commit() checks it against that range, writes it to head_log and inserts it
// into the series' sorted in-memory head. Once a sample falls out of the window behind the clock
// it can never change again ("settled"): it is appended to the series' open Gorilla chunk
// (closed and written to `chunks` at 120 samples or 2 h) and folded into an exact per-hour
// rollup, written as each hour completes. Minute rollups are not written at settle time: while
// the raw chunks exist they hold the same information at a fraction of the size (a minute row
// costs about what 4 probe samples do), so window reads aggregate raw samples below the hour.
// Only when an hour is about to leave the raw tier are its minute rollups computed from its
// chunks ("materialized"), with the same running totals the hour rollups carry; "m1_until"
// records how far that went, and the raw tier's compaction filter never drops a chunk at or
// after it. A checkpoint writes every changed series' state to head_state and deletes the
// head_log records it covers, in one atomic batch; recovery loads the checkpoint and replays the
// rest of head_log. Chunk boundaries depend only on the settled samples, so a replay rewrites
// exactly what it had written before.
//
// Retention is a compaction filter per tier whose cutoff is the clock's now minus that tier's
// retention; reads apply the same cutoff, so expired data disappears at once and its space is
// reclaimed as RocksDB compacts (EnforceRetention() compacts right away).
//
// Thread-safety: as Store. `mu_` guards the in-memory state (shared for reads, exclusive for
// commits, settles, checkpoints and deletes); `bg_mu_` the background thread's wake-ups, taken
// after `mu_` when both are held, never before.
#ifndef NINES_STORE_ROCKSDB_STORE_IMPL_H_
#define NINES_STORE_ROCKSDB_STORE_IMPL_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "store/changes.h"
#include "store/head_log.h"
#include "store/keys.h"
#include "store/mem_series.h"
#include "store/rollup.h"
#include "store/series_appender.h"
#include "store/series_index.h"
#include "store/store.h"

namespace nines::store::internal {

// How often (by the clock) samples that left the out-of-order window are settled into chunks
// and rollups. Settling visits every series with something to settle, a handful of cache misses
// each; every minute that fixed cost was shared by 4 samples of a 15 s series and was a sixth of
// remote-write ingest. Every 5 minutes it is shared by 20; reads are unaffected (they merge the
// head), the head holds 5 minutes more.
inline constexpr int64_t kSettleEveryMs = 5 * 60'000;

// Drops chunks and rollup buckets older than a tier's cutoff during compaction
// (rocksdb_store_retention.cc).
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  // `bucket_ms` 0: values are chunks (fixed64 max t first); else rollups of that bucket length.
  RetentionFilter(const char* name, int64_t bucket_ms) : name_(name), bucket_ms_(bucket_ms) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
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

// The store's metrics; all null when the store has no registry.
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

  void Register(prometheus::Registry& r);
};

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
  // A sample an appender staged.
  struct Staged {
    MemSeries* series = nullptr;  // null: pending_series[pending]
    int pending = -1;
    int64_t t = 0;
    double v = 0;
  };
  // Commits `staged`, whose series are either known or in `pending_series` (not in the store
  // when staged), atomically and durably (Appender::Commit).
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
  // A sample CommitBatch accepted.
  struct Accepted {
    MemSeries* series;
    int64_t t;
    double v;
  };
  // What CommitBatch decided for a batch before writing it (DecideLocked).
  struct Decision {
    // The series of pending_series[i] (null: not in the store, or not created yet).
    std::vector<MemSeries*> resolved;
    // Series deleted after Append resolved them, and what this batch writes for them instead.
    std::vector<std::pair<MemSeries*, MemSeries*>> recreated;
    std::vector<std::shared_ptr<MemSeries>> created;  // new series, not indexed yet
    uint64_t next_id = 0;  // next_series_id_ once the batch is written
  };

  // series_index.cc
  MemSeries* LookupLocked(const core::Labels& labels) const {
    return by_hash_.Find(labels.Hash(), [&labels](std::string_view encoded) {
      return EncodedLabelsEqual(labels, encoded);
    });
  }
  void IndexLocked(const std::shared_ptr<MemSeries>& s);
  void UnindexLocked(const std::shared_ptr<MemSeries>& s);
  std::vector<std::shared_ptr<MemSeries>> MatchLocked(const std::vector<Matcher>& matchers) const;

  // rocksdb_store_commit.cc: CommitBatch's steps, under the exclusive lock.
  // Checks every staged sample against the clock, its series and the batch; fills accepted_
  // (sorted by series and time when the batch was not in order) and stages new series in
  // `batch`.
  Decision DecideLocked(std::vector<Staged>& staged, std::vector<core::Labels>& pending_series,
                        rocksdb::WriteBatch& batch, CommitResult* result);
  // The series `st` goes to now (null: none yet): a series deleted since Append resolved it is
  // looked up again, or is the one this batch recreated.
  MemSeries* SeriesOfLocked(const Staged& st, const Decision& d) const;
  // Creates the series `labels` for `st` (written with `batch`, indexed once it is durable).
  MemSeries* CreateLocked(const core::Labels& labels, const Staged& st, Decision& d,
                          rocksdb::WriteBatch& batch);
  // Adds accepted_'s head_log record to `batch` (in record_).
  void LogAcceptedLocked(rocksdb::WriteBatch& batch);
  // After the batch is durable: indexes new series, inserts accepted_ into the heads.
  void ApplyAcceptedLocked(Decision& decision, CommitResult* result);
  void CountCommitLocked(const CommitResult& result);
  // Asks the background thread to settle or checkpoint when due.
  void RequestBackgroundWorkLocked();
  // Logs what `result` refused, rate-limited per reason. Takes no lock of the store's.
  void LogRefusals(const CommitResult& result);

  // rocksdb_store_settle.cc
  // Moves samples that left the out-of-order window into chunks and rollups.
  core::Status SettleLocked();
  void SettleSeries(MemSeries& s, int64_t point, rocksdb::WriteBatch* batch);
  // Adds settled sample `x` of series `id` to the open bucket `b` of tier `cf` (writing `b`
  // first when `x` starts a new one) and to the series' running `totals` and `pred`. Settling
  // (hours) and minute materialization share it, so both tiers carry bit-identical totals.
  void FoldIntoBucket(uint64_t id, const core::Sample& x, Cf cf, Bucket* b, Totals* totals,
                      Pred* pred, rocksdb::WriteBatch* batch);
  // Writes `b`, which ended just now: `after` and `pred_after` are the series' totals and
  // predecessor after it.
  void EmitBucket(uint64_t id, const Bucket& b, Cf cf, const Totals& after,
                  const Pred& pred_after, rocksdb::WriteBatch* batch);
  // Writes the minute rollups of the hours in [m1_until_, the hour that is about to leave the
  // raw tier], from the chunks, and advances m1_until_.
  core::Status MaterializeMinutesLocked();
  core::Status MaterializeSeries(const MemSeries& s, int64_t from, int64_t to,
                                 rocksdb::WriteBatch* batch);
  // The settled samples of `s` in [from, to), from its closed chunks and its open one.
  core::Status SettledSamples(const MemSeries& s, int64_t from, int64_t to,
                              std::vector<core::Sample>* out);
  // The running totals and the predecessor that the hour rollups hold for the start of `hour`.
  core::Status TotalsAtHour(const MemSeries& s, int64_t hour, Totals* totals, Pred* pred);
  void CloseChunk(MemSeries& s, rocksdb::WriteBatch* batch);
  core::Status CheckpointLocked();

  // rocksdb_store_recover.cc
  core::Status Recover();
  core::Status LoadSeriesLocked();
  core::Status LoadHeadStatesLocked();
  core::Status ReplayHeadLogLocked();
  // Part of Recover: a directory in which a sample from the future moved the store's time.
  core::Status RecoverFromFutureLocked();

  // rocksdb_store_retention.cc
  void UpdateCutoffsLocked();

  // rocksdb_store_read.cc
  Snapshot SnapshotLocked(const MemSeries& s, int64_t mint, int64_t maxt) const;
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
  // The first chunk key of `id` that can hold a sample at or after `from`: a chunk spans at most
  // chunk_max_span, so none starting earlier reaches `from`.
  std::string FirstChunkKey(uint64_t id, int64_t from) const;

  // rocksdb_store.cc
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
  std::vector<Accepted> accepted_;
  std::vector<HeadLogSample> log_samples_;
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
  ChangeLog changes_;               // for ChangesSince
  uint64_t series_generation_ = 0;  // bumped by every series created or deleted

  std::mutex bg_mu_;  // taken after mu_ when both are held, never before
  std::condition_variable bg_cv_;
  bool stopping_ = false;
  bool checkpoint_wanted_ = false;  // a commit found a checkpoint due (CheckpointDue)
  bool settle_wanted_ = false;      // a commit found a settle due (SettleDue)
  std::thread background_;
};

}  // namespace nines::store::internal

#endif  // NINES_STORE_ROCKSDB_STORE_IMPL_H_
