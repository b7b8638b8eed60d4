// Helpers shared by the rules tests: a real RocksDB store in a temp dir, writing samples through
// the Appender, and SLO rules with their sources.
#ifndef NINES_TESTS_RULES_TEST_UTIL_H_
#define NINES_TESTS_RULES_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/labels.h"
#include "rules/evaluator.h"
#include "rules/rules.h"
#include "store/store.h"
#include "tests/testutil/testutil.h"

namespace nines::rules::testing {

// A whole minute well after the epoch: 2023-11-14T21:20:00Z.
inline constexpr int64_t kBaseMinute = 28'333'280;
inline int64_t MinuteMs(int64_t minute) { return minute * 60'000; }
inline core::Timestamp AtMinute(int64_t minute, int64_t plus_seconds = 0) {
  return core::Timestamp::FromUnixSeconds(minute * 60 + plus_seconds);
}

inline core::Labels L(std::initializer_list<core::Label> pairs) {
  return core::Labels::From(pairs).value();
}

inline std::vector<store::Matcher> Sel(std::string_view text) {
  auto r = store::ParseSelector(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<store::Matcher>{};
}

// The store's clock in these tests: the test's clock, or the newest sample written through
// TestStore::Write when that is later. The store takes samples only near its clock's now, and
// these tests write days of data at once, ahead of their clock, as if it had arrived live.
class StoreClock final : public core::Clock {
 public:
  explicit StoreClock(core::Clock& base) : base_(base) {}
  core::Timestamp Now() const override {
    const core::Timestamp base = base_.Now();
    const int64_t newest = newest_.load();
    return newest > base.UnixMillis() ? core::Timestamp::FromUnixMillis(newest) : base;
  }
  core::Duration Monotonic() const override { return base_.Monotonic(); }
  void Reach(int64_t t_ms) {
    int64_t cur = newest_.load();
    while (t_ms > cur && !newest_.compare_exchange_weak(cur, t_ms)) {
    }
  }

 private:
  core::Clock& base_;
  std::atomic<int64_t> newest_{INT64_MIN / 2};
};

// A store in its own temp dir.
class TestStore {
 public:
  explicit TestStore(core::Clock& clock) : clock_(clock) {
    store::StoreOptions o;
    o.dir = dir_.File("tsdb");
    auto s = store::OpenStore(o, clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) store_ = std::move(*s);
  }
  store::Store& operator*() { return *store_; }
  store::Store* operator->() { return store_.get(); }
  store::Store* get() { return store_.get(); }

  // Writes samples as if each arrived at its time (in time order, a minute at a time, the
  // store's clock moved to each minute's newest sample first) and expects them all stored.
  void Write(std::vector<std::pair<core::Labels, core::Sample>> samples) {
    std::stable_sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) {
      return a.second.timestamp_ms < b.second.timestamp_ms;
    });
    int64_t appended = 0;
    for (size_t i = 0; i < samples.size();) {
      size_t j = i;
      while (j < samples.size() &&
             samples[j].second.timestamp_ms < samples[i].second.timestamp_ms + 60'000) {
        ++j;
      }
      clock_.Reach(samples[j - 1].second.timestamp_ms);
      auto app = store_->NewAppender();
      for (size_t k = i; k < j; ++k) {
        ASSERT_TRUE(app->Append(samples[k].first, samples[k].second.timestamp_ms,
                                samples[k].second.value)
                        .ok());
      }
      auto r = app->Commit();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      appended += r->appended;
      i = j;
    }
    EXPECT_EQ(appended, static_cast<int64_t>(samples.size()));
  }

 private:
  testutil::TempDir dir_;
  StoreClock clock_;
  std::unique_ptr<store::Store> store_;
};

// A Reader over another that forwards every read, for tests that count, fail or hide reads.
// OnRead() runs before each data read (Series, Select, Aggregate, ResolveSeries, SamplesOf); an
// error it returns is that read's result. With `tracked` false the change-tracking methods
// (ChangesSince, ResolveSeries, SamplesOf) are hidden (UNIMPLEMENTED, as for a Reader without
// them), so StoreCounts falls back to re-reading its settle tail.
class WrappingReader : public store::Reader {
 public:
  WrappingReader(store::Reader& r, bool tracked) : r_(r), tracked_(tracked) {}
  virtual core::Status OnRead() { return core::Status::Ok(); }

  core::Result<std::vector<core::Labels>> Series(const std::vector<store::Matcher>& m, int64_t a,
                                                 int64_t b) override {
    RETURN_IF_ERROR(OnRead());
    return r_.Series(m, a, b);
  }
  core::Result<std::vector<store::SeriesSamples>> Select(const std::vector<store::Matcher>& m,
                                                         int64_t a, int64_t b) override {
    RETURN_IF_ERROR(OnRead());
    return r_.Select(m, a, b);
  }
  core::Result<std::vector<std::string>> LabelNames() override { return r_.LabelNames(); }
  core::Result<std::vector<std::string>> LabelValues(std::string_view n) override {
    return r_.LabelValues(n);
  }
  using store::Reader::Aggregate;
  core::Result<store::WindowAggregate> Aggregate(const core::Labels& s, int64_t a, int64_t b,
                                                 Fields f) override {
    RETURN_IF_ERROR(OnRead());
    return r_.Aggregate(s, a, b, f);
  }
  core::Result<store::StoreChanges> ChangesSince(uint64_t* cursor) override {
    return tracked_ ? r_.ChangesSince(cursor) : store::Reader::ChangesSince(cursor);
  }
  core::Result<std::vector<store::SeriesRef>> ResolveSeries(
      const std::vector<store::Matcher>& m) override {
    if (!tracked_) return store::Reader::ResolveSeries(m);
    RETURN_IF_ERROR(OnRead());
    return r_.ResolveSeries(m);
  }
  core::Result<std::vector<std::vector<core::Sample>>> SamplesOf(const std::vector<uint64_t>& ids,
                                                                 int64_t a, int64_t b) override {
    if (!tracked_) return store::Reader::SamplesOf(ids, a, b);
    RETURN_IF_ERROR(OnRead());
    return r_.SamplesOf(ids, a, b);
  }
  core::Result<std::vector<store::WindowAggregate>> MinuteAggregates(const core::Labels& l,
                                                                     int64_t a,
                                                                     int64_t b) override {
    RETURN_IF_ERROR(OnRead());
    return r_.MinuteAggregates(l, a, b);
  }
  int64_t RawHorizonMs() override { return r_.RawHorizonMs(); }

 private:
  store::Reader& r_;
  const bool tracked_;
};

inline SloRule ProbeRule(std::string name, std::string selector, int quorum = 0) {
  SloRule r;
  r.spec.name = std::move(name);
  r.spec.service = "api";
  r.spec.sli = slo::SliKind::kProbeAvailability;
  r.spec.quorum = quorum;
  r.source.selector = Sel(selector);
  return r;
}

// One cycle, then every SLO's active conditions (SloEvaluator::ActiveConditions).
inline core::Result<std::vector<ActiveCondition>> EvaluateConditions(SloEvaluator& ev,
                                                                     core::Timestamp now) {
  RETURN_IF_ERROR(ev.Evaluate(now));
  return ev.ActiveConditions();
}

}  // namespace nines::rules::testing

#endif  // NINES_TESTS_RULES_TEST_UTIL_H_
