#include "slo/buckets.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

namespace nines::slo {
namespace {

using core::Sample;

constexpr int64_t kT0 = 29'000'000;  // a minute index (2025-02-20)

int64_t Ms(int64_t minute, int64_t second = 0) { return minute * 60'000 + second * 1000; }

TEST(MinuteTest, FloorsAlsoBeforeTheEpoch) {
  EXPECT_EQ(MinuteOf(core::Timestamp::FromUnixSeconds(119)), 1);
  EXPECT_EQ(MinuteOf(core::Timestamp::FromUnixSeconds(120)), 2);
  EXPECT_EQ(MinuteOf(core::Timestamp::FromUnixSeconds(-1)), -1);
  EXPECT_EQ(MinuteStart(2), core::Timestamp::FromUnixSeconds(120));
}

// Property: for random buckets (with gaps) and random windows, including windows reaching
// outside the series, prefix-sum counts equal a brute-force sum.
TEST(PrefixCountsTest, RandomWindowsEqualBruteForce) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    BucketSeries s;
    s.first_minute = kT0 + static_cast<int64_t>(rng() % 1000);
    int64_t n = 1 + static_cast<int64_t>(rng() % 3000);
    double target = (rng() % 4 == 0) ? 1.0 : 0.9;
    for (int64_t i = 0; i < n; ++i) {
      if (rng() % 5 == 0) {
        s.buckets.push_back(Bucket::NoData());
        continue;
      }
      // Every third round has bursts of heavy traffic, so that some 64-minute blocks outgrow
      // 16-bit offsets (kept wide) while their neighbours stay narrow.
      const int64_t cap = round % 3 == 2 && rng() % 10 == 0 ? 2'000'000'000 : 50;
      int64_t total = static_cast<int64_t>(rng() % cap);
      int64_t good = total == 0 ? 0 : total - static_cast<int64_t>(rng() % (rng() % 3 == 0 ? total + 1 : 2));
      s.buckets.push_back(Bucket::Events(good, total));
    }
    PrefixCounts p = PrefixCounts::Build(s, target);
    EXPECT_EQ(p.end_minute(), s.end_minute());
    for (int q = 0; q < 200; ++q) {
      int64_t a = s.first_minute - 100 + static_cast<int64_t>(rng() % (n + 200));
      int64_t b = a + static_cast<int64_t>(rng() % (n + 100));
      WindowCounts want;
      want.buckets = want.slices = b - a;
      for (int64_t m = a; m < b; ++m) {
        Bucket x = s.At(m);
        if (!x.has_data) continue;
        want.good += x.good;
        want.total += x.total;
        ++want.covered;
        ++want.slices_covered;
        if (!IsGoodSlice(x, target)) ++want.bad_slices;
      }
      ASSERT_EQ(p.Counts(a, b), want) << "window [" << a << ", " << b << ")";
    }
  }
}

TEST(PrefixCountsTest, AppendEqualsBuild) {
  BucketSeries s{kT0, {Bucket::Events(3, 4), Bucket::NoData(), Bucket::Events(5, 5)}};
  PrefixCounts built = PrefixCounts::Build(s, 0.9);
  PrefixCounts appended(kT0, 0.9);
  for (const Bucket& b : s.buckets) appended.Append(b);
  EXPECT_EQ(built.Counts(kT0 - 5, kT0 + 5), appended.Counts(kT0 - 5, kT0 + 5));
  WindowCounts c = appended.Counts(kT0, kT0 + 3);
  EXPECT_EQ(c.good, 8);
  EXPECT_EQ(c.total, 9);
  EXPECT_EQ(c.covered, 2);
  EXPECT_EQ(c.bad_slices, 1);  // 3/4 < 0.9
}

TEST(PrefixCountsTest, TruncateThenAppendEqualsBuildingTheChangedSeries) {
  BucketSeries s{kT0, {Bucket::Events(3, 4), Bucket::NoData(), Bucket::Events(5, 5),
                       Bucket::Events(1, 2), Bucket::Events(2, 2)}};
  PrefixCounts p = PrefixCounts::Build(s, 0.9);
  // Minutes 2.. change (late samples): truncate back to minute 2 and append them again.
  p.Truncate(kT0 + 2);
  EXPECT_EQ(p.end_minute(), kT0 + 2);
  s.buckets[2] = Bucket::Events(4, 5);
  s.buckets[3] = Bucket::NoData();
  for (size_t i = 2; i < s.buckets.size(); ++i) p.Append(s.buckets[i]);
  PrefixCounts want = PrefixCounts::Build(s, 0.9);
  for (int64_t a = kT0 - 1; a <= kT0 + 6; ++a) {
    for (int64_t b = a; b <= kT0 + 6; ++b) EXPECT_EQ(p.Counts(a, b), want.Counts(a, b));
  }
  p.Truncate(kT0 + 99);  // past the end: nothing changes
  EXPECT_EQ(p.end_minute(), kT0 + 5);
  p.Truncate(kT0);  // everything
  EXPECT_EQ(p.end_minute(), kT0);
  EXPECT_EQ(p.Counts(kT0, kT0 + 5).covered, 0);
}

// Property: truncating anywhere (within narrow and wide blocks, at block boundaries) and
// appending changed minutes equals building the changed series from scratch.
TEST(PrefixCountsTest, RandomTruncationsAcrossNarrowAndWideBlocksEqualBuild) {
  std::mt19937_64 rng(7);
  auto random_bucket = [&rng]() {
    if (rng() % 6 == 0) return Bucket::NoData();
    const int64_t cap = rng() % 8 == 0 ? 100'000 : 3;
    const int64_t total = static_cast<int64_t>(rng() % cap);
    return Bucket::Events(total == 0 ? 0 : static_cast<int64_t>(rng() % (total + 1)), total);
  };
  BucketSeries s;
  s.first_minute = kT0;
  for (int i = 0; i < 700; ++i) s.buckets.push_back(random_bucket());
  PrefixCounts p = PrefixCounts::Build(s, 0.9);
  for (int round = 0; round < 60; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto cut = static_cast<size_t>(rng() % (s.buckets.size() + 1));
    p.Truncate(kT0 + static_cast<int64_t>(cut));
    ASSERT_EQ(p.end_minute(), kT0 + static_cast<int64_t>(cut));
    s.buckets.resize(cut + static_cast<size_t>(rng() % 200));
    for (size_t i = cut; i < s.buckets.size(); ++i) {
      s.buckets[i] = random_bucket();
      p.Append(s.buckets[i]);
    }
    const PrefixCounts want = PrefixCounts::Build(s, 0.9);
    ASSERT_EQ(p.end_minute(), want.end_minute());
    for (int q = 0; q < 100; ++q) {
      const int64_t a = kT0 - 3 + static_cast<int64_t>(rng() % (s.buckets.size() + 6));
      const int64_t b = a + static_cast<int64_t>(rng() % (s.buckets.size() + 6));
      ASSERT_EQ(p.Counts(a, b), want.Counts(a, b)) << "[" << a << ", " << b << ")";
    }
  }
}

TEST(PrefixCountsTest, DroppingOldBlocksKeepsEveryLaterWindowExact) {
  std::mt19937_64 rng(11);
  BucketSeries s;
  s.first_minute = kT0;
  for (int i = 0; i < 1000; ++i) {
    const int64_t total = static_cast<int64_t>(rng() % (i % 200 < 70 ? 100'000 : 3));
    s.buckets.push_back(Bucket::Events(total / 2, total));  // some blocks wide, some narrow
  }
  PrefixCounts p = PrefixCounts::Build(s, 0.9);
  p.DropBefore(kT0 + 300);
  EXPECT_EQ(p.first_minute(), kT0 + 256);  // whole 64-minute blocks only
  EXPECT_EQ(p.end_minute(), kT0 + 1000);
  p.DropBefore(kT0 + 100);  // already gone: nothing changes
  EXPECT_EQ(p.first_minute(), kT0 + 256);
  // Later minutes change and more arrive: still exact from the new first minute on.
  p.Truncate(kT0 + 900);
  s.buckets.resize(900);
  for (int i = 0; i < 300; ++i) {
    s.buckets.push_back(Bucket::Events(i % 5, 100'000 + i));
    p.Append(s.buckets.back());
  }
  const PrefixCounts want = PrefixCounts::Build(s, 0.9);
  for (int q = 0; q < 500; ++q) {
    const int64_t a = kT0 + 256 + static_cast<int64_t>(rng() % 950);
    const int64_t b = a + static_cast<int64_t>(rng() % 1000);
    ASSERT_EQ(p.Counts(a, b), want.Counts(a, b)) << "[" << a << ", " << b << ")";
  }
  // A window from before the first minute counts events from it (its length stays the window's).
  const WindowCounts early = p.Counts(kT0, kT0 + 400);
  const WindowCounts kept = want.Counts(kT0 + 256, kT0 + 400);
  EXPECT_EQ(early.buckets, 400);
  EXPECT_EQ(early.good, kept.good);
  EXPECT_EQ(early.total, kept.total);
  EXPECT_EQ(early.covered, kept.covered);
  EXPECT_EQ(early.bad_slices, kept.bad_slices);
  p.DropBefore(kT0 + 5000);  // past the end: the last block stays
  EXPECT_EQ(p.end_minute(), kT0 + 1200);
  EXPECT_EQ(p.Counts(kT0 + 1152, kT0 + 1200), want.Counts(kT0 + 1152, kT0 + 1200));
}

TEST(PrefixCountsTest, ProbeMinutesCostAboutSixAndAHalfBytesEach) {
  BucketSeries s;
  s.first_minute = kT0;
  for (int i = 0; i < 30 * 1440; ++i) s.buckets.push_back(Bucket::Events(i % 97 != 0, 1));
  const PrefixCounts p = PrefixCounts::Build(s, 1.0);
  EXPECT_LT(p.MemoryBytes(), 7 * s.buckets.size()) << p.MemoryBytes();
  EXPECT_EQ(p.Counts(kT0, s.end_minute()).good, 30 * 1440 - (30 * 1440 + 96) / 97);
}

TEST(PrefixCountsTest, InvalidBucketsAreClampedNotTrusted) {
  PrefixCounts p(kT0, 1.0);
  p.Append(Bucket{7, 5, true});   // good > total
  p.Append(Bucket{2, 3, false});  // counts without data
  WindowCounts c = p.Counts(kT0, kT0 + 2);
  EXPECT_EQ(c.good, 5);
  EXPECT_EQ(c.total, 5);
  EXPECT_EQ(c.covered, 1);
  EXPECT_FALSE(ValidateBucket(Bucket{7, 5, true}).ok());
  EXPECT_FALSE(ValidateBucket(Bucket{2, 3, false}).ok());
  EXPECT_FALSE(ValidateBucket(Bucket{-1, 3, true}).ok());
  EXPECT_TRUE(ValidateBucket(Bucket::Events(3, 3)).ok());
}

TEST(SliceTest, TargetIsMetDespiteBinaryFloatingPoint) {
  EXPECT_TRUE(IsGoodSlice(Bucket::Events(998, 1000), 0.998));
  EXPECT_FALSE(IsGoodSlice(Bucket::Events(997, 1000), 0.998));
  EXPECT_TRUE(IsGoodSlice(Bucket::Events(0, 0), 0.998));  // measured, nothing failed
}

TEST(SumSeriesTest, SumsCountsOverTheUnionOfMinutes) {
  BucketSeries a{kT0, {Bucket::Events(1, 1), Bucket::NoData()}};
  BucketSeries b{kT0 + 1, {Bucket::NoData(), Bucket::Events(0, 1)}};
  BucketSeries sum = SumSeries({&a, &b});
  EXPECT_EQ(sum.first_minute, kT0);
  ASSERT_EQ(sum.buckets.size(), 3u);
  EXPECT_EQ(sum.buckets[0], Bucket::Events(1, 1));
  EXPECT_EQ(sum.buckets[1], Bucket::NoData());
  EXPECT_EQ(sum.buckets[2], Bucket::Events(0, 1));
}

TEST(QuorumTest, MajorityOfReportingLocations) {
  struct Case {
    std::string name;
    std::vector<ProbeMinute> locations;  // one minute per location
    int quorum;
    Bucket want;
  };
  const ProbeMinute ok{4, 0}, fail{0, 4}, blip{3, 1}, silent{0, 0};
  std::vector<Case> cases = {
      {"all ok", {ok, ok, ok}, 0, Bucket::Events(1, 1)},
      {"1 of 3 failing is good", {fail, ok, ok}, 0, Bucket::Events(1, 1)},
      {"2 of 3 failing is bad", {fail, fail, ok}, 0, Bucket::Events(0, 1)},
      {"one failed probe fails a location", {blip, blip, ok}, 0, Bucket::Events(0, 1)},
      {"1 of 2 reporting failing is good", {fail, ok, silent}, 0, Bucket::Events(1, 1)},
      {"2 of 2 reporting failing is bad", {fail, fail, silent}, 0, Bucket::Events(0, 1)},
      {"a single reporter decides", {fail, silent, silent}, 0, Bucket::Events(0, 1)},
      {"nobody reporting is no data", {silent, silent, silent}, 0, Bucket::NoData()},
      {"fixed quorum 1: any failure", {fail, ok, ok}, 1, Bucket::Events(0, 1)},
      {"fixed quorum 3 of 3", {fail, fail, ok}, 3, Bucket::Events(1, 1)},
      {"fewer reporting than quorum is no data", {fail, fail, silent}, 3, Bucket::NoData()},
      {"fewer reporting than quorum, all ok, is no data", {ok, silent, silent}, 2,
       Bucket::NoData()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::vector<ProbeMinute>> locs;
    for (const ProbeMinute& m : c.locations) locs.push_back({m});
    BucketSeries s = QuorumBuckets(locs, kT0, c.quorum);
    ASSERT_EQ(s.buckets.size(), 1u);
    EXPECT_EQ(s.buckets[0], c.want);
  }
}

// Issue 12: a fixed quorum is capped, minute by minute, at the probers still alive.
TEST(QuorumTest, AFixedQuorumIsCappedAtTheLiveProbers) {
  const ProbeMinute ok{4, 0}, fail{0, 4}, silent{0, 0};
  // Minute 0: both alive, only one reports: no data. Minute 1: b lost, a fails alone: bad.
  // Minute 2: b lost, a ok: good. Minute 3: nobody alive or reporting: no data. Minute 4: no
  // prober lost (live unlimited), one reporter: no data. The majority quorum ignores `live`.
  std::vector<std::vector<ProbeMinute>> locs = {{fail, fail, ok, silent, fail},
                                                {silent, silent, silent, silent, silent}};
  const std::vector<int> live = {2, 1, 1, 0, std::numeric_limits<int>::max()};
  BucketSeries s = QuorumBuckets(locs, kT0, 2, &live);
  ASSERT_EQ(s.buckets.size(), 5u);
  EXPECT_EQ(s.buckets[0], Bucket::NoData());
  EXPECT_EQ(s.buckets[1], Bucket::Events(0, 1));
  EXPECT_EQ(s.buckets[2], Bucket::Events(1, 1));
  EXPECT_EQ(s.buckets[3], Bucket::NoData());
  EXPECT_EQ(s.buckets[4], Bucket::NoData());
  BucketSeries majority = QuorumBuckets(locs, kT0, 0, &live);
  EXPECT_EQ(majority.buckets[0], Bucket::Events(0, 1));
}

TEST(ProbeMinutesTest, TalliesPerMinuteAndSkipsStalenessMarkers) {
  std::vector<Sample> s = {{Ms(kT0, 0), 1},  {Ms(kT0, 15), 0},    {Ms(kT0, 30), 1},
                           {Ms(kT0 + 1, 0), std::nan("")},     {Ms(kT0 + 2, 59), 0},
                           {Ms(kT0 + 9, 0), 1}};
  std::vector<ProbeMinute> m = ProbeMinutes(s, kT0, 3);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].successes, 2);
  EXPECT_EQ(m[0].failures, 1);
  EXPECT_FALSE(m[1].reported());
  EXPECT_TRUE(m[2].failed());
}

TEST(CounterIncreasesTest, ResetsCountTheNewValue) {
  // 10 (before the range: predecessor only), 20, 35 | reset to 5 | 7, gap, 17
  std::vector<Sample> s = {{Ms(kT0 - 1), 10}, {Ms(kT0), 20},       {Ms(kT0, 30), 35},
                           {Ms(kT0 + 1), 5},  {Ms(kT0 + 1, 30), 7}, {Ms(kT0 + 3), 17}};
  std::vector<CounterMinute> inc = CounterIncreases(s, kT0, 4);
  ASSERT_EQ(inc.size(), 4u);
  EXPECT_EQ(inc[0].increase, 25);  // 10 -> 20 -> 35
  EXPECT_EQ(inc[1].increase, 7);   // reset: 5, then +2
  EXPECT_FALSE(inc[2].has_data);
  EXPECT_EQ(inc[3].increase, 10);  // 7 -> 17 across the gap, credited to the sample's minute
  // Adjacent ranges add up to the whole (as the store's rollups do).
  int64_t whole = 0;
  for (auto& c : CounterIncreases(s, kT0, 4)) whole += c.increase;
  int64_t split = 0;
  for (auto& c : CounterIncreases(s, kT0, 2)) split += c.increase;
  for (auto& c : CounterIncreases(s, kT0 + 2, 2)) split += c.increase;
  EXPECT_EQ(whole, split);
}

TEST(CounterIncreasesTest, FirstSampleEverAddsNothing) {
  std::vector<CounterMinute> inc = CounterIncreases({{Ms(kT0), 1000}}, kT0, 1);
  EXPECT_TRUE(inc[0].has_data);
  EXPECT_EQ(inc[0].increase, 0);
}

TEST(RequestRatioTest, GoodIsClampedToTotal) {
  std::vector<Sample> good = {{Ms(kT0), 0}, {Ms(kT0 + 1), 12}};
  std::vector<Sample> total = {{Ms(kT0), 0}, {Ms(kT0 + 1), 10}, {Ms(kT0 + 2), 20}};
  BucketSeries b = RequestRatioBuckets(good, total, kT0, 3);
  EXPECT_EQ(b.buckets[1], Bucket::Events(10, 10));
  EXPECT_EQ(b.buckets[2], Bucket::Events(0, 10));  // no good sample: 0 good of 10
}

TEST(LatencyTest, ObservationsAtOrUnderThresholdAreGood) {
  BucketSeries b = LatencyBuckets({{Ms(kT0), 0.1}, {Ms(kT0, 20), 0.5}, {Ms(kT0, 40), 0.51}},
                                  0.5, kT0, 2);
  EXPECT_EQ(b.buckets[0], Bucket::Events(2, 3));
  EXPECT_EQ(b.buckets[1], Bucket::NoData());
}

TEST(FreshnessTest, AgeOfNewestSampleInTheMinute) {
  const double t = static_cast<double>(kT0) * 60;  // seconds
  // Minute 0: last success 59 min ago (fresh under 1h); minute 1: 61 min ago, then refreshed
  // within the minute (the newest sample decides); minute 2: 61 min ago.
  std::vector<Sample> s = {{Ms(kT0), t - 59 * 60},
                           {Ms(kT0 + 1), t - 60 * 60},
                           {Ms(kT0 + 1, 30), t + 60},
                           {Ms(kT0 + 2), t - 59 * 60}};
  BucketSeries b = FreshnessBuckets(s, core::Duration::Hours(1), kT0, 3);
  EXPECT_EQ(b.buckets[0], Bucket::Events(1, 1));
  EXPECT_EQ(b.buckets[1], Bucket::Events(1, 1));
  EXPECT_EQ(b.buckets[2], Bucket::Events(0, 1));
}

}  // namespace
}  // namespace nines::slo
