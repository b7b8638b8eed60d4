// The tests' one in-memory store::Appender: RecordingStore keeps what its appenders committed, in
// commit order, with the store's commit semantics where tests rely on them (a series without a
// metric name is refused by Append as INVALID_ARGUMENT; a (series, timestamp) committed before is
// a duplicate and kept once; samples outside an accepted range are counted too_old or
// too_far_in_future, with the first example of each, and not kept; a commit can be made to fail
// once). RecordingAppender is one appender: it stages, and commits into its store.
//
// Tests wait for what other threads commit with RecordingStore::WaitFor, a condition-variable
// wait woken by every commit (no polling).
//
// Thread-safety: RecordingStore is thread-safe. A RecordingAppender is used by one thread at a
// time, as any store::Appender; its store must outlive it.
#ifndef NINES_TESTS_TESTUTIL_RECORDING_APPENDER_H_
#define NINES_TESTS_TESTUTIL_RECORDING_APPENDER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace nines::testutil {

// One sample as an appender was given it.
struct RecordedSample {
  core::Labels labels;
  std::string series;  // labels.ToString(), for lookups by text
  int64_t timestamp_ms = 0;
  double value = 0;
};

class RecordingStore {
 public:
  RecordingStore() = default;
  RecordingStore(const RecordingStore&) = delete;
  RecordingStore& operator=(const RecordingStore&) = delete;

  // A new RecordingAppender committing here. The store must outlive it.
  std::unique_ptr<store::Appender> NewAppender();

  // What was committed (and kept: not duplicates or refused samples), in commit order.
  std::vector<RecordedSample> committed() const;
  // The committed samples of the series whose text form is `series`, in commit order.
  std::vector<RecordedSample> Committed(std::string_view series) const;
  // Successful commits so far.
  int commits() const;

  // Waits until `condition(committed())` is true, checking it now and after every commit, or
  // until `timeout` passes. Returns its last value. `condition` runs under the store's lock: it
  // must not call back into the store.
  bool WaitFor(const std::function<bool(const std::vector<RecordedSample>&)>& condition,
               core::Duration timeout = core::Duration::Seconds(10)) const;

  // The next Commit fails with `status` (once) and keeps nothing.
  void FailNextCommit(core::Status status);
  // Samples with a timestamp below `min_ms` are refused as too_old, above `max_ms` as
  // too_far_in_future (CommitResult's min_time_ms and max_time_ms report the bounds).
  void SetAcceptedRange(int64_t min_ms, int64_t max_ms);

 private:
  friend class RecordingAppender;
  // Commits `staged` as the RocksDB store would (see the file comment).
  core::Result<store::CommitResult> Commit(std::vector<RecordedSample> staged);

  mutable std::mutex mu_;
  mutable std::condition_variable committed_cv_;
  std::vector<RecordedSample> committed_;              // guarded by mu_
  std::set<std::pair<std::string, int64_t>> keys_;     // guarded by mu_: (series, t) committed
  core::Status fail_next_;                             // guarded by mu_
  int64_t min_ms_ = std::numeric_limits<int64_t>::min();  // guarded by mu_
  int64_t max_ms_ = std::numeric_limits<int64_t>::max();  // guarded by mu_
  int commits_ = 0;                                    // guarded by mu_
};

class RecordingAppender : public store::Appender {
 public:
  // An appender with a store of its own (see store()).
  RecordingAppender();
  // An appender committing into `store`, which must outlive it.
  explicit RecordingAppender(RecordingStore* store);

  // INVALID_ARGUMENT for a series without a metric name; otherwise stages the sample.
  core::Status Append(const core::Labels& series, int64_t timestamp_ms, double value) override;
  core::Result<store::CommitResult> Commit() override;
  void Rollback() override;

  // What was appended since the last Commit or Rollback, in order.
  const std::vector<RecordedSample>& staged() const { return staged_; }
  // The staged sample of the series whose text form is `series`; fails the test (and returns
  // null when there is none) unless exactly one is staged.
  const RecordedSample* Find(std::string_view series) const;

  RecordingStore& store() { return *store_; }

 private:
  std::unique_ptr<RecordingStore> own_store_;
  RecordingStore* store_;
  std::vector<RecordedSample> staged_;
};

}  // namespace nines::testutil

#endif  // NINES_TESTS_TESTUTIL_RECORDING_APPENDER_H_
