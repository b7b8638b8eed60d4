#include "tests/testutil/recording_appender.h"

#include <gtest/gtest.h>

namespace nines::testutil {

std::unique_ptr<store::Appender> RecordingStore::NewAppender() {
  return std::make_unique<RecordingAppender>(this);
}

std::vector<RecordedSample> RecordingStore::committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_;
}

std::vector<RecordedSample> RecordingStore::Committed(std::string_view series) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RecordedSample> out;
  for (const RecordedSample& s : committed_) {
    if (s.series == series) out.push_back(s);
  }
  return out;
}

int RecordingStore::commits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commits_;
}

bool RecordingStore::WaitFor(
    const std::function<bool(const std::vector<RecordedSample>&)>& condition,
    core::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return committed_cv_.wait_for(lock, timeout.ToChrono(),
                                [&] { return condition(committed_); });
}

void RecordingStore::FailNextCommit(core::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_next_ = std::move(status);
}

void RecordingStore::SetAcceptedRange(int64_t min_ms, int64_t max_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  min_ms_ = min_ms;
  max_ms_ = max_ms;
}

core::Result<store::CommitResult> RecordingStore::Commit(std::vector<RecordedSample> staged) {
  store::CommitResult r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_next_.ok()) {
      core::Status s = std::move(fail_next_);
      fail_next_ = core::Status::Ok();
      return s;
    }
    ++commits_;
    r.min_time_ms = min_ms_;
    r.max_time_ms = max_ms_;
    for (RecordedSample& s : staged) {
      if (s.timestamp_ms > max_ms_) {
        if (r.too_far_in_future++ == 0) r.first_too_far_in_future = {s.labels, s.timestamp_ms};
      } else if (s.timestamp_ms < min_ms_) {
        if (r.too_old++ == 0) r.first_too_old = {s.labels, s.timestamp_ms};
      } else if (!keys_.insert({s.series, s.timestamp_ms}).second) {
        ++r.duplicates;
      } else {
        ++r.appended;
        committed_.push_back(std::move(s));
      }
    }
  }
  committed_cv_.notify_all();
  return r;
}

RecordingAppender::RecordingAppender()
    : own_store_(std::make_unique<RecordingStore>()), store_(own_store_.get()) {}

RecordingAppender::RecordingAppender(RecordingStore* store) : store_(store) {}

core::Status RecordingAppender::Append(const core::Labels& series, int64_t timestamp_ms,
                                       double value) {
  if (series.MetricName().empty()) {
    return core::InvalidArgumentError("series {} has no metric name", series.ToString());
  }
  staged_.push_back({.labels = series,
                     .series = series.ToString(),
                     .timestamp_ms = timestamp_ms,
                     .value = value});
  return core::Status::Ok();
}

core::Result<store::CommitResult> RecordingAppender::Commit() {
  std::vector<RecordedSample> staged = std::move(staged_);
  staged_.clear();
  return store_->Commit(std::move(staged));
}

void RecordingAppender::Rollback() { staged_.clear(); }

const RecordedSample* RecordingAppender::Find(std::string_view series) const {
  const RecordedSample* found = nullptr;
  for (const RecordedSample& s : staged_) {
    if (s.series != series) continue;
    EXPECT_EQ(found, nullptr) << "twice: " << series;
    found = &s;
  }
  EXPECT_NE(found, nullptr) << "missing: " << series;
  return found;
}

}  // namespace nines::testutil
