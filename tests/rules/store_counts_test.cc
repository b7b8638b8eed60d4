#include "rules/store_counts.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/rules/test_util.h"

namespace nines::rules {
namespace {

using core::Duration;
using slo::Bucket;
using testing::AtMinute;
using testing::kBaseMinute;
using testing::L;
using testing::MinuteMs;
using testing::ProbeRule;
using testing::Sel;
using testing::TestStore;

constexpr int64_t M = kBaseMinute;

core::Labels Probe(std::string region, std::string location) {
  return L({{"__name__", "probe_success"}, {"probe", "api"}, {"region", region},
            {"location", location}});
}

// One sample per minute at second 30 of each minute of [from, to), value f(minute).
template <typename F>
std::vector<std::pair<core::Labels, core::Sample>> PerMinute(const core::Labels& l, int64_t from,
                                                             int64_t to, F f) {
  std::vector<std::pair<core::Labels, core::Sample>> out;
  for (int64_t m = from; m < to; ++m) out.push_back({l, {MinuteMs(m) + 30'000, f(m)}});
  return out;
}

class StoreCountsTest : public ::testing::Test {
 protected:
  core::FakeClock clock_{AtMinute(M)};
  TestStore store_{clock_};
};

TEST_F(StoreCountsTest, ProbeQuorumPerRegionFromStore) {
  // eu-west-1: location a fails minutes 10-14, b fails 12-16, c never: 2 of 3 fail in 12-14.
  // us-east-1: one location, fails minute 20 alone: it decides alone.
  store_.Write(PerMinute(Probe("eu-west-1", "a"), M, M + 30,
                         [](int64_t m) { return m >= M + 10 && m < M + 15 ? 0.0 : 1.0; }));
  store_.Write(PerMinute(Probe("eu-west-1", "b"), M, M + 30,
                         [](int64_t m) { return m >= M + 12 && m < M + 17 ? 0.0 : 1.0; }));
  store_.Write(PerMinute(Probe("eu-west-1", "c"), M, M + 30, [](int64_t) { return 1.0; }));
  store_.Write(PerMinute(Probe("us-east-1", "a"), M, M + 30,
                         [](int64_t m) { return m == M + 20 ? 0.0 : 1.0; }));
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  auto read = ReadSloBuckets(*store_, rule, M, M + 30);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  const slo::BucketSeries& eu = read->at("eu-west-1");
  ASSERT_EQ(eu.buckets.size(), 30u);
  for (int64_t i = 0; i < 30; ++i) {
    SCOPED_TRACE(i);
    const bool bad = i >= 12 && i < 15;
    EXPECT_EQ(eu.At(M + i), Bucket::Events(bad ? 0 : 1, 1));
    EXPECT_EQ(read->at("us-east-1").At(M + i), Bucket::Events(i == 20 ? 0 : 1, 1));
  }
  // A fixed quorum of 3: minute 12-14 still only 2 failures: good.
  rule.spec.quorum = 3;
  read = ReadSloBuckets(*store_, rule, M, M + 30);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->at("eu-west-1").At(M + 13), Bucket::Events(1, 1));
  // us-east-1 has one reporting location: too few witnesses for a quorum of 3: no data.
  EXPECT_EQ(read->at("us-east-1").At(M + 13), Bucket::NoData());
}

TEST_F(StoreCountsTest, RegionWithoutDataIsPresentWithoutData) {
  store_.Write(PerMinute(Probe("eu-west-1", "a"), M, M + 10, [](int64_t) { return 1.0; }));
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  rule.spec.regions = {"ap-southeast-2", "eu-west-1"};
  StoreCounts counts(rule, {});
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 10, 5)).ok());
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.region_name(0), "ap-southeast-2");
  slo::WindowCounts ap = counts.region(0).Counts(M, M + 10);
  EXPECT_EQ(ap.buckets, 10);
  EXPECT_EQ(ap.covered, 0);
  EXPECT_EQ(ap.total, 0);
  slo::WindowCounts eu = counts.region(1).Counts(M, M + 10);
  EXPECT_EQ(eu.covered, 10);
  EXPECT_EQ(eu.good, 10);
  slo::WindowCounts g = counts.global().Counts(M, M + 10);
  EXPECT_EQ(g.buckets, 20);  // region-minutes
  EXPECT_EQ(g.covered, 10);
  // An occurrences budget keeps no per-minute sum of the regions: no slices for global...
  EXPECT_EQ(g.slices, 0);
  // ... a time-slice budget does.
  rule.spec.method = slo::BudgetingMethod::kTimeslices;
  StoreCounts sliced(rule, {});
  ASSERT_TRUE(sliced.Update(*store_, AtMinute(M + 10, 5)).ok());
  g = sliced.global().Counts(M, M + 10);
  EXPECT_EQ(g.buckets, 20);
  EXPECT_EQ(g.slices, 10);
  EXPECT_EQ(g.slices_covered, 10);
  EXPECT_LT(counts.MemoryBytes(), sliced.MemoryBytes());
}

TEST_F(StoreCountsTest, CountersAreSummedAsPerSeriesIncreasesWithResets) {
  // Two instances of one region. Instance 1 resets at minute 5 (from 50 to 3); instance 2 has a
  // very different level, so summing raw values would make the reset look like -1000.
  auto total1 = L({{"__name__", "http_requests_total"}, {"instance", "1"}, {"region", "eu"}});
  auto total2 = L({{"__name__", "http_requests_total"}, {"instance", "2"}, {"region", "eu"}});
  auto err1 = L({{"__name__", "http_errors_total"}, {"instance", "1"}, {"region", "eu"}});
  std::vector<double> t1 = {0, 10, 20, 30, 40, 50, 3, 13, 23, 33};
  store_.Write(PerMinute(total1, M, M + 10, [&](int64_t m) { return t1[m - M]; }));
  store_.Write(PerMinute(total2, M, M + 10, [&](int64_t m) { return 1000.0 + 5 * (m - M); }));
  store_.Write(PerMinute(err1, M, M + 10, [&](int64_t m) { return m < M + 7 ? 0.0 : 1.0; }));
  SloRule rule;
  rule.spec.name = "ratio";
  rule.spec.sli = slo::SliKind::kRequestRatio;
  rule.source.total = Sel("http_requests_total");
  rule.source.bad = Sel("http_errors_total");
  for (ReadPath path : {ReadPath::kRaw, ReadPath::kRollups}) {
    SCOPED_TRACE(path == ReadPath::kRaw ? "raw" : "rollups");
    // Starting at minute 2: its increase uses minute 1's sample as the predecessor.
    auto read = ReadSloBuckets(*store_, rule, M + 2, M + 10, path);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    const slo::BucketSeries& eu = read->at("eu");
    EXPECT_EQ(eu.At(M + 2), Bucket::Events(15, 15));
    EXPECT_EQ(eu.At(M + 5), Bucket::Events(15, 15));
    EXPECT_EQ(eu.At(M + 6), Bucket::Events(8, 8));  // the reset counts 3, not 3 - 50
    EXPECT_EQ(eu.At(M + 7), Bucket::Events(14, 15));  // one error
    EXPECT_EQ(eu.At(M + 8), Bucket::Events(15, 15));
  }
  // The very first minute of a series has no predecessor: it counts nothing but has data.
  auto read = ReadSloBuckets(*store_, rule, M, M + 2);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->at("eu").At(M), Bucket::Events(0, 0));
  EXPECT_EQ(read->at("eu").At(M + 1), Bucket::Events(15, 15));
}

// The store's reads without its change tracking and series ids (as a Reader that does not
// implement them): StoreCounts then re-reads a `settle` tail every Update.
class UntrackedReader final : public testing::WrappingReader {
 public:
  explicit UntrackedReader(store::Reader& r) : WrappingReader(r, /*tracked=*/false) {}
};

TEST_F(StoreCountsTest, LateSamplesOfAnyAgeAreCountedAtTheNextUpdate) {
  auto a = Probe("eu-west-1", "a");
  auto b = Probe("eu-west-1", "b");
  store_.Write(PerMinute(a, M, M + 120, [](int64_t) { return 1.0; }));
  store_.Write(PerMinute(b, M, M + 120, [](int64_t) { return 1.0; }));
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  StoreCounts counts(rule, {});
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 120, 1)).ok());
  EXPECT_EQ(counts.region(0).Counts(M, M + 120).good, 120);
  // Each cycle with nothing late reads just the minute that completed.
  store_.Write(PerMinute(a, M + 120, M + 121, [](int64_t) { return 1.0; }));
  store_.Write(PerMinute(b, M + 120, M + 121, [](int64_t) { return 1.0; }));
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 121, 1)).ok());
  EXPECT_EQ(counts.last_read_minutes(), 1);
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 121, 40)).ok());  // same minute: nothing
  EXPECT_EQ(counts.last_read_minutes(), 0);
  // An agent replays an hour of backlog: both locations failed in minute 60, and a third
  // location (a new series) reports minutes 58-62, all failed.
  auto c = Probe("eu-west-1", "c");
  std::vector<std::pair<core::Labels, core::Sample>> late = {
      {a, {MinuteMs(M + 60) + 45'000, 0.0}}, {b, {MinuteMs(M + 60) + 50'000, 0.0}}};
  auto from_c = PerMinute(c, M + 58, M + 63, [](int64_t) { return 0.0; });
  late.insert(late.end(), from_c.begin(), from_c.end());
  store_.Write(late);
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 122, 1)).ok());
  EXPECT_EQ(counts.last_read_minutes(), 122 - 58);  // from the oldest late minute
  // Minute 60: 3 of 3 failed; 58, 59, 61, 62: 1 of 3 (c) failed, a majority is fine.
  EXPECT_EQ(counts.region(0).Counts(M + 60, M + 61), slo::PrefixCounts::Build(
      {M + 60, {Bucket::Events(0, 1)}}, 0.998).Counts(M + 60, M + 61));
  EXPECT_EQ(counts.region(0).Counts(M, M + 121).good, 120);
  EXPECT_EQ(counts.global().Counts(M, M + 121).good, 120);
  EXPECT_EQ(counts.region(0).Counts(M + 121, M + 122).covered, 0);  // minute 121: no sample yet
  // Exactly what a fresh backfill counts.
  StoreCounts fresh(rule, {});
  ASSERT_TRUE(fresh.Update(*store_, AtMinute(M + 122, 1)).ok());
  EXPECT_EQ(counts.region(0).Counts(M, M + 122), fresh.region(0).Counts(M, M + 122));
  EXPECT_EQ(counts.global().Counts(M, M + 122), fresh.global().Counts(M, M + 122));
  // And the next cycle is back to one minute.
  store_.Write(PerMinute(a, M + 121, M + 122, [](int64_t) { return 1.0; }));
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 123, 1)).ok());
  EXPECT_EQ(counts.last_read_minutes(), 2);  // minute 121 got a sample; 122 completed
}

TEST_F(StoreCountsTest, WithoutChangeTrackingTheSettleTailIsReRead) {
  auto a = Probe("eu-west-1", "a");
  auto b = Probe("eu-west-1", "b");
  // Location a reports minutes 0-19 good; b reports 0-19 good except minute 17 arrives late.
  store_.Write(PerMinute(a, M, M + 20, [](int64_t) { return 1.0; }));
  store_.Write(PerMinute(b, M, M + 20, [](int64_t) { return 1.0; }));
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  StoreCountsOptions options;
  options.settle = Duration::Minutes(5);
  StoreCounts counts(rule, options);
  UntrackedReader reader(*store_);
  ASSERT_TRUE(counts.Update(reader, AtMinute(M + 20, 1)).ok());
  EXPECT_EQ(counts.end_minute(), M + 20);
  EXPECT_EQ(counts.region(0).Counts(M, M + 20).good, 20);
  // Late failures: minute 17 (inside the settle tail) and minute 10 (before it). A second
  // failing probe in a minute where a succeeded too: a and b each fail in minute 17 -> 2 of 2.
  store_.Write({{a, {MinuteMs(M + 17) + 45'000, 0.0}}, {b, {MinuteMs(M + 17) + 50'000, 0.0}},
                {a, {MinuteMs(M + 10) + 45'000, 0.0}}, {b, {MinuteMs(M + 10) + 50'000, 0.0}}});
  ASSERT_TRUE(counts.Update(reader, AtMinute(M + 21, 1)).ok());
  EXPECT_EQ(counts.last_read_minutes(), 6);  // the 5-minute tail plus the one new minute
  EXPECT_EQ(counts.region(0).Counts(M + 17, M + 18).good, 0);  // changed: bad now
  EXPECT_EQ(counts.region(0).Counts(M + 10, M + 11).good, 1);  // before the tail: unchanged
  EXPECT_EQ(counts.region(0).Counts(M + 20, M + 21).covered, 0);  // minute 20: no sample yet
  EXPECT_EQ(counts.global().Counts(M, M + 21).good, 19);
  // The read itself sees both (a rebuild counts the late minute 10 too).
  auto read = ReadSloBuckets(*store_, rule, M, M + 21);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->at("eu-west-1").At(M + 10), Bucket::Events(0, 1));
}

TEST_F(StoreCountsTest, IncrementalUpdatesEqualOneBackfill) {
  // Random probe data over 6 hours for two regions with gaps, evaluated every minute. Data for
  // each minute arrives up to `delay` minutes late; without the store's change tracking the
  // settle tail (3 minutes) covers a delay of 2, with it any delay within the store's
  // out-of-order window is exact.
  struct Case {
    const char* name;
    int64_t delay;
    bool tracked;
  };
  for (const Case& c : {Case{"tracked, 2 minutes late", 2, true},
                        Case{"tracked, up to 100 minutes late", 100, true},
                        Case{"untracked, 2 minutes late", 2, false}}) {
    SCOPED_TRACE(c.name);
    TestStore store(clock_);
    std::mt19937 rng(42);
    std::vector<core::Labels> series = {Probe("eu", "a"), Probe("eu", "b"), Probe("eu", "c"),
                                        Probe("us", "a"), Probe("us", "b")};
    const int64_t n = 360;
    std::vector<std::vector<std::pair<core::Labels, core::Sample>>> by_minute(n + c.delay + 1);
    for (int64_t i = 0; i < n; ++i) {
      for (const auto& s : series) {
        if (rng() % 10 == 0) continue;  // a gap
        const double v = rng() % 4 == 0 ? 0.0 : 1.0;
        // Most data is on time; some is late by up to `delay` minutes.
        const int64_t late = rng() % 5 == 0 ? static_cast<int64_t>(rng() % (c.delay + 1)) : 0;
        by_minute[i + late].push_back({s, {MinuteMs(M + i) + 30'000, v}});
      }
    }
    SloRule rule = ProbeRule("api", R"({probe="api"})");
    StoreCountsOptions options;
    options.settle = Duration::Minutes(3);
    StoreCounts counts(rule, options);
    UntrackedReader untracked(*store);
    store::Reader& reader = c.tracked ? static_cast<store::Reader&>(*store) : untracked;
    int64_t max_read = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(by_minute.size()); ++i) {
      if (!by_minute[i].empty()) store.Write(by_minute[i]);
      ASSERT_TRUE(counts.Update(reader, AtMinute(M + i + 1, 0)).ok());
      if (i > 0) max_read = std::max(max_read, counts.last_read_minutes());
    }
    EXPECT_LE(max_read, c.tracked ? c.delay + 1 : 4);
    StoreCounts fresh(rule, options);
    ASSERT_TRUE(fresh.Update(*store, AtMinute(M + static_cast<int64_t>(by_minute.size()), 0)).ok());
    ASSERT_EQ(counts.size(), 2u);
    ASSERT_EQ(fresh.size(), 2u);
    for (int64_t w : {1, 5, 60, 200, 360}) {
      for (int64_t end : {M + 100, M + 300, M + n}) {
        SCOPED_TRACE(fmt::format("window {} ending {}", w, end - M));
        for (size_t r = 0; r < 2; ++r) {
          EXPECT_EQ(counts.region(r).Counts(end - w, end), fresh.region(r).Counts(end - w, end));
        }
        EXPECT_EQ(counts.global().Counts(end - w, end), fresh.global().Counts(end - w, end));
      }
    }
  }
}

TEST_F(StoreCountsTest, ADeletedSeriesIsUncountedAtTheNextUpdate) {
  auto a = Probe("eu", "a");
  auto b = Probe("eu", "b");
  store_.Write(PerMinute(a, M, M + 30, [](int64_t) { return 1.0; }));
  store_.Write(PerMinute(b, M, M + 30, [](int64_t m) { return m < M + 10 ? 0.0 : 1.0; }));
  store_.Write(PerMinute(Probe("eu", "c"), M, M + 30,
                         [](int64_t m) { return m < M + 10 ? 0.0 : 1.0; }));
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  StoreCounts counts(rule, {});
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 30)).ok());
  EXPECT_EQ(counts.region(0).Counts(M, M + 30).good, 20);  // 2 of 3 failed in minutes 0-9
  auto deleted = store_->DeleteSeries(*store::ParseSelector(R"({location="b"})"));
  ASSERT_TRUE(deleted.ok());
  ASSERT_EQ(*deleted, 1);
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 31)).ok());
  EXPECT_EQ(counts.region(0).Counts(M, M + 30).good, 30);  // 1 of 2 failed: good
}

TEST_F(StoreCountsTest, RollupPathAgreesWithRawForSettledData) {
  // 4 hours of data, so the first 2 are settled into the store's minute rollups.
  // (One batch: TestStore writes it minute by minute with the store's clock following; written
  // series by series, the first would move that clock 4 hours ahead and the others would be
  // older than the 2-hour out-of-order window.)
  std::mt19937 rng(7);
  std::vector<std::pair<core::Labels, core::Sample>> batch;
  for (const auto& s : {Probe("eu", "a"), Probe("eu", "b"), Probe("eu", "c")}) {
    auto part = PerMinute(s, M, M + 240, [&](int64_t) { return rng() % 5 == 0 ? 0.0 : 1.0; });
    batch.insert(batch.end(), part.begin(), part.end());
  }
  auto fresh = L({{"__name__", "pipeline_last_success"}, {"region", "eu"}});
  auto part = PerMinute(fresh, M, M + 240, [&](int64_t m) {
    return static_cast<double>((m - (m - M) % 90) * 60);  // succeeds every 90 minutes
  });
  batch.insert(batch.end(), part.begin(), part.end());
  store_.Write(batch);
  SloRule probe = ProbeRule("api", R"({probe="api"})");
  SloRule freshness;
  freshness.spec.name = "fresh";
  freshness.spec.sli = slo::SliKind::kFreshness;
  freshness.source.selector = Sel("pipeline_last_success");
  freshness.source.max_age = Duration::Hours(1);
  for (const SloRule* rule : {&probe, &freshness}) {
    SCOPED_TRACE(rule->spec.name);
    auto raw = ReadSloBuckets(*store_, *rule, M, M + 240, ReadPath::kRaw);
    auto rollups = ReadSloBuckets(*store_, *rule, M, M + 240, ReadPath::kRollups);
    ASSERT_TRUE(raw.ok() && rollups.ok());
    ASSERT_EQ(raw->at("eu").buckets.size(), 240u);
    EXPECT_EQ(raw->at("eu").buckets, rollups->at("eu").buckets);
  }
  auto raw = ReadSloBuckets(*store_, freshness, M, M + 240);
  EXPECT_EQ(raw->at("eu").At(M + 59), Bucket::Events(1, 1));  // 59.5 minutes old
  EXPECT_EQ(raw->at("eu").At(M + 60), Bucket::Events(0, 1));  // 60.5 minutes old
}

TEST_F(StoreCountsTest, LatencyFromObservations) {
  auto d = L({{"__name__", "probe_duration_seconds"}, {"region", "eu"}, {"location", "a"}});
  auto d2 = L({{"__name__", "probe_duration_seconds"}, {"region", "eu"}, {"location", "b"}});
  store_.Write({{d, {MinuteMs(M) + 1'000, 0.1}}, {d, {MinuteMs(M) + 31'000, 0.5}},
                {d2, {MinuteMs(M) + 2'000, 0.3}}, {d, {MinuteMs(M + 2) + 1'000, 0.2}}});
  SloRule rule;
  rule.spec.name = "latency";
  rule.spec.sli = slo::SliKind::kLatency;
  rule.source.selector = Sel("probe_duration_seconds");
  rule.source.threshold = 0.3;
  auto read = ReadSloBuckets(*store_, rule, M, M + 3);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->at("eu").At(M), Bucket::Events(2, 3));
  EXPECT_EQ(read->at("eu").At(M + 1), Bucket::NoData());
  EXPECT_EQ(read->at("eu").At(M + 2), Bucket::Events(1, 1));
}

TEST_F(StoreCountsTest, MemoryStaysProportionalToTheWindow) {
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  rule.spec.window = slo::Window::Rolling(Duration::Days(1));
  rule.spec.alerting.rules = {};  // only the 3-day burn-rate window extends the span
  store_.Write(PerMinute(Probe("eu", "a"), M, M + 10, [](int64_t) { return 1.0; }));
  StoreCounts counts(rule, {});
  ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 10)).ok());
  const size_t first = counts.MemoryBytes();
  // Ten days of hourly cycles (no new data): the span kept stays within the 3-day need plus the
  // trim slack (a day here) and one 64-minute block, and memory at most doubles (one vector
  // growth) from what the backfill took.
  for (int64_t h = 1; h <= 240; ++h) {
    ASSERT_TRUE(counts.Update(*store_, AtMinute(M + 10 + 60 * h)).ok());
  }
  EXPECT_LE(counts.MemoryBytes(), 2 * first);
  EXPECT_LE(counts.end_minute() - counts.first_minute(), 3 * 1440 + 1440 + 64);
}

}  // namespace
}  // namespace nines::rules
