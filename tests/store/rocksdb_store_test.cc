// The RocksDB store against a brute-force reference: exact read-back, exact window aggregates,
// reopen, deletion, retention, and acknowledged data surviving kill -9.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rocksdb/db.h>

#include <bit>
#include <cmath>
#include <map>
#include <mutex>
#include <random>

#include "core/clock.h"
#include "core/log.h"
#include "store/chunk.h"
#include "store/store.h"
#include "tests/store/head_log_test_util.h"
#include "tests/testutil/testutil.h"

namespace nines::store {
namespace {

using core::Labels;
using core::Sample;

constexpr int64_t kMin = 60'000;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

Labels L(const std::string& text) { return *core::ParseLabels(text); }

// The reference: what the store must hold. First write of a (series, t) wins.
struct Reference {
  std::map<Labels, std::map<int64_t, double>> data;
  int64_t max_t = INT64_MIN;
  int64_t window_ms = 2 * kHour;
  int64_t tolerance_ms = 10 * kMin;

  struct Expect {
    int64_t appended = 0, duplicates = 0, too_old = 0, too_far_in_future = 0;
  };
  // The batch committed when the store's clock reads `now_ms`.
  Expect Apply(const std::vector<std::tuple<Labels, int64_t, double>>& batch, int64_t now_ms) {
    Expect e;
    for (const auto& [l, t, v] : batch) {
      if (t > now_ms + tolerance_ms) {
        ++e.too_far_in_future;
      } else if (t < now_ms - window_ms) {
        ++e.too_old;
      } else if (!data[l].emplace(t, v).second) {
        ++e.duplicates;
      } else {
        ++e.appended;
        max_t = std::max(max_t, t);
      }
    }
    return e;
  }
  // The batch as Feed commits it: every sample arrives in time.
  void Add(const std::vector<std::tuple<Labels, int64_t, double>>& batch) {
    for (const auto& [l, t, v] : batch) {
      if (data[l].emplace(t, v).second) max_t = std::max(max_t, t);
    }
  }
};

bool SameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

void ExpectSeriesEqual(Store& store, const Reference& ref, int64_t mint, int64_t maxt) {
  auto all = store.Select(*ParseSelector(R"({__name__=~".+"})"), mint, maxt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::map<Labels, std::vector<Sample>> got;
  for (auto& s : *all) got[s.labels] = s.samples;
  size_t want_series = 0;
  for (const auto& [labels, samples] : ref.data) {
    std::vector<Sample> want;
    for (auto [t, v] : samples) {
      if (t >= mint && t <= maxt) want.push_back({t, v});
    }
    if (want.empty()) continue;
    ++want_series;
    SCOPED_TRACE(labels.ToString());
    const std::vector<Sample>& have = got[labels];
    ASSERT_EQ(have.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(have[i].timestamp_ms, want[i].timestamp_ms) << i;
      ASSERT_TRUE(SameBits(have[i].value, want[i].value))
          << i << ": " << have[i].value << " vs " << want[i].value;
    }
  }
  EXPECT_EQ(all->size(), want_series);
}

WindowAggregate BruteForce(const std::map<int64_t, double>& samples, int64_t start, int64_t end) {
  WindowAggregate w;
  bool has_pred = false;
  double pred = 0;
  for (auto [t, v] : samples) {
    if (t >= end) break;
    if (t >= start) {
      ++w.count;
      w.sum += v;
      w.min = std::min(w.min, v);
      w.max = std::max(w.max, v);
      w.last = v;
      w.last_timestamp_ms = t;
      if (has_pred) w.increase += v >= pred ? v - pred : v;
    }
    has_pred = true;
    pred = v;
  }
  return w;
}

// The store's RocksDB opened directly (with the store closed), to plant what older builds wrote.
class RawRocks {
 public:
  explicit RawRocks(const std::string& dir) {
    if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names_).ok()) return;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& n : names_) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    if (rocksdb::DB::Open(rocksdb::DBOptions(), dir, descriptors, &handles_, &db).ok()) db_ = db;
  }
  ~RawRocks() { Close(); }
  bool ok() const { return db_ != nullptr; }
  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return handles_[i];
    }
    ADD_FAILURE() << "no column family " << name;
    return handles_.front();
  }
  void Close() {
    if (db_ == nullptr) return;
    for (auto* h : handles_) EXPECT_TRUE(db_->DestroyColumnFamilyHandle(h).ok());
    EXPECT_TRUE(db_->Close().ok());
    delete db_;
    db_ = nullptr;
  }

 private:
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::DB* db_ = nullptr;
};

void PutVarint(std::string* out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>(v | 0x80));
  out->push_back(static_cast<char>(v));
}
// A zigzag varint, as older formats wrote times and time deltas.
void PutVarsint(std::string* out, int64_t v) {
  PutVarint(out, static_cast<uint64_t>((v << 1) ^ (v >> 63)));
}
// A double's 8 bytes, little-endian, as older formats wrote values.
void PutDoubleLE(std::string* out, double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  for (int b = 0; b < 8; ++b) out->push_back(static_cast<char>(bits >> (8 * b)));
}

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(StoreOptions options = {}) {
    options.dir = dir_.File("db");
    auto store = OpenStore(std::move(options), clock_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Commits `batch` at the clock's current time.
  CommitResult Commit(Store& store, const std::vector<std::tuple<Labels, int64_t, double>>& batch) {
    auto app = store.NewAppender();
    for (const auto& [l, t, v] : batch) EXPECT_TRUE(app->Append(l, t, v).ok());
    auto r = app->Commit();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CommitResult{};
  }

  // Commits `batch` as if each sample arrived at its own time: in time order, a minute at a
  // time, the clock moved forward to each minute's newest sample first. For data spanning more
  // than the out-of-order window, which the store accepts only as time passes.
  CommitResult Feed(Store& store, std::vector<std::tuple<Labels, int64_t, double>> batch) {
    std::stable_sort(batch.begin(), batch.end(),
                     [](const auto& a, const auto& b) { return std::get<1>(a) < std::get<1>(b); });
    CommitResult total;
    for (size_t i = 0; i < batch.size();) {
      size_t j = i;
      while (j < batch.size() && std::get<1>(batch[j]) < std::get<1>(batch[i]) + kMin) ++j;
      const int64_t newest = std::get<1>(batch[j - 1]);
      if (clock_.Now().UnixMillis() < newest) clock_.Set(core::Timestamp::FromUnixMillis(newest));
      CommitResult r = Commit(store, {batch.begin() + static_cast<std::ptrdiff_t>(i),
                                      batch.begin() + static_cast<std::ptrdiff_t>(j)});
      total.appended += r.appended;
      total.duplicates += r.duplicates;
      total.too_old += r.too_old;
      total.too_far_in_future += r.too_far_in_future;
      i = j;
    }
    return total;
  }

  testutil::TempDir dir_;
  core::FakeClock clock_;
};

TEST_F(StoreTest, ReadsBackExactlyWhatWasWrittenInAnyOrderAcrossReopen) {
  std::mt19937_64 rng(1);
  std::vector<Labels> series;
  for (int i = 0; i < 20; ++i) {
    series.push_back(L("probe_success{probe=\"p" + std::to_string(i % 7) + "\",region=\"r" +
                       std::to_string(i % 3) + "\",n=\"" + std::to_string(i) + "\"}"));
  }
  const double specials[] = {std::nan(""), std::bit_cast<double>(0x7ff0000000000002ULL),
                             INFINITY, -INFINITY, 0.0, -0.0, 1e308, -1e308, 5e-324, 0.5};
  Reference ref;
  auto store = Open();
  ASSERT_TRUE(store);
  // 12 hours of data in batches; each batch has samples up to 90 minutes out of order,
  // duplicates, and a few samples far too old.
  int64_t now = kT0;
  for (int b = 0; b < 300; ++b) {
    now += 150'000;
    std::vector<std::tuple<Labels, int64_t, double>> batch;
    for (int k = 0; k < 40; ++k) {
      const Labels& l = series[rng() % series.size()];
      int64_t t = now - static_cast<int64_t>(rng() % (90 * kMin));
      if (k % 13 == 0) t = now - 3 * kHour;  // too old
      double v = (k % 5 == 0) ? specials[rng() % 10] : static_cast<double>(rng() % 1000) / 8;
      batch.emplace_back(l, t, v);
      if (k % 9 == 0) batch.emplace_back(l, t, v + 1);  // duplicate timestamp, other value
    }
    clock_.Set(core::Timestamp::FromUnixMillis(now));  // the batch arrives at `now`
    Reference::Expect want = ref.Apply(batch, now);
    CommitResult got = Commit(*store, batch);
    ASSERT_EQ(got.appended, want.appended) << "batch " << b;
    ASSERT_EQ(got.duplicates, want.duplicates) << "batch " << b;
    ASSERT_EQ(got.too_old, want.too_old) << "batch " << b;
  }
  ExpectSeriesEqual(*store, ref, INT64_MIN, INT64_MAX);
  ExpectSeriesEqual(*store, ref, kT0 + 3 * kHour + 17, kT0 + 7 * kHour - 5);
  // From disk: the head log replayed (no clean shutdown flush), then from checkpoints.
  store.reset();
  store = Open();
  ASSERT_TRUE(store);
  ExpectSeriesEqual(*store, ref, INT64_MIN, INT64_MAX);
  ASSERT_TRUE(store->Flush().ok());
  store.reset();
  store = Open();
  ExpectSeriesEqual(*store, ref, INT64_MIN, INT64_MAX);
  // It keeps accepting after a reopen, with the out-of-order window still enforced.
  std::vector<std::tuple<Labels, int64_t, double>> more = {
      {series[0], now + 1000, 1}, {series[0], now - 3 * kHour, 1}, {series[1], now - kHour, 2},
      {series[2], now + 11 * kMin, 3}};
  Reference::Expect want = ref.Apply(more, now);
  EXPECT_EQ(want.too_far_in_future, 1);
  CommitResult got = Commit(*store, more);
  EXPECT_EQ(got.appended, want.appended);
  EXPECT_EQ(got.too_old, want.too_old);
  EXPECT_EQ(got.too_far_in_future, want.too_far_in_future);
  EXPECT_EQ(got.duplicates, want.duplicates);
  ExpectSeriesEqual(*store, ref, INT64_MIN, INT64_MAX);
}

TEST_F(StoreTest, WindowAggregatesEqualBruteForceForRandomWindows) {
  std::mt19937_64 rng(2);
  auto store = Open();
  ASSERT_TRUE(store);
  Reference ref;
  const Labels counter = L(R"(http_requests_total{code="200",region="eu-west-1"})");
  const Labels gauge = L(R"(probe_success{region="eu-west-1",location="a"})");
  // Three days at a 15 s step with jitter, gaps and counter resets; integer values keep sums
  // exact whatever the order of addition.
  double c = 0;
  int64_t t = kT0 + 7 * 1000;
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  while (t < kT0 + 3 * 24 * kHour) {
    t += 15'000 + static_cast<int64_t>(rng() % 400) - 200;
    if (rng() % 500 == 0) t += 40 * kMin;  // a gap
    c = (rng() % 2000 == 0) ? static_cast<double>(rng() % 5) : c + static_cast<double>(rng() % 7);
    batch.emplace_back(counter, t, c);
    batch.emplace_back(gauge, t + 3, static_cast<double>(rng() % 10 != 0));
    if (batch.size() >= 400) {
      ref.Add(batch);
      Feed(*store, batch);
      batch.clear();
    }
  }
  ref.Add(batch);
  Feed(*store, batch);

  auto check = [&](const Labels& l, int64_t start, int64_t end) {
    SCOPED_TRACE(l.ToString() + " [" + std::to_string(start - kT0) + ", " +
                 std::to_string(end - kT0) + ")");
    auto got = store->Aggregate(l, start, end);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    WindowAggregate want = BruteForce(ref.data[l], start, end);
    ASSERT_EQ(got->count, want.count);
    ASSERT_EQ(got->sum, want.sum);
    ASSERT_EQ(got->increase, want.increase);
    auto counts = store->Aggregate(l, start, end, Reader::Fields::kCounts);
    ASSERT_TRUE(counts.ok());
    ASSERT_EQ(counts->count, want.count);
    ASSERT_EQ(counts->sum, want.sum);
    ASSERT_EQ(counts->increase, want.increase);
    ASSERT_TRUE(std::isnan(counts->min) && std::isnan(counts->max));
    if (want.count > 0) {
      ASSERT_EQ(counts->last, want.last);
      ASSERT_EQ(counts->last_timestamp_ms, want.last_timestamp_ms);
      ASSERT_EQ(got->min, want.min);
      ASSERT_EQ(got->max, want.max);
      ASSERT_EQ(got->last, want.last);
      ASSERT_EQ(got->last_timestamp_ms, want.last_timestamp_ms);
    }
  };
  for (int i = 0; i < 400; ++i) {
    int64_t a = kT0 + static_cast<int64_t>(rng() % (3 * 24 * kHour));
    int64_t len = static_cast<int64_t>(rng() % (30 * kHour)) + 1;
    if (i % 4 == 0) a = a / kHour * kHour;  // hour-aligned
    if (i % 4 == 1) a = a / kMin * kMin;    // minute-aligned
    if (i % 3 == 0) len = len / kMin * kMin + kMin;
    check(counter, a, a + len);
    check(gauge, a, a + len);
  }
  check(counter, kT0 - kHour, kT0 + 4 * 24 * kHour);  // everything
  check(counter, kT0 + 2 * 24 * kHour + 23 * kHour, kT0 + 4 * 24 * kHour);  // only the head
  check(L(R"(nope{a="b"})"), kT0, kT0 + kHour);
  // The same after a reopen, when the open buckets come back from the checkpoint.
  store.reset();
  store = Open();
  ASSERT_TRUE(store);
  for (int i = 0; i < 100; ++i) {
    int64_t a = kT0 + static_cast<int64_t>(rng() % (3 * 24 * kHour));
    check(counter, a, a + static_cast<int64_t>(rng() % (40 * kHour)) + 1);
  }
}

// Minute rollups are only written for hours about to leave the raw tier (format 2). Past the
// raw cutoff, minute-aligned windows must still aggregate exactly from them, with the same
// running totals the hour rollups hold, before and after the chunks are compacted away and
// across a reopen (and a reopen in the middle of the ingest, so materialization resumes).
TEST_F(StoreTest, MaterializedMinuteRollupsAreExactAfterRawExpires) {
  std::mt19937_64 rng(7);
  StoreOptions options;
  options.raw_retention = core::Duration::Hours(9);
  auto store = Open(options);
  ASSERT_TRUE(store);
  Reference ref;
  const Labels counter = L(R"(http_requests_total{code="200",region="eu-west-1"})");
  const Labels gauge = L(R"(probe_success{region="eu-west-1",location="a"})");
  double c = 0;
  int64_t t = kT0 + 7 * 1000;
  const int64_t stop = kT0 + 2 * 24 * kHour;
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  bool reopened = false;
  while (t < stop) {
    t += 15'000 + static_cast<int64_t>(rng() % 400) - 200;
    if (rng() % 300 == 0) t += 70 * kMin;  // a gap of more than an hour
    c = (rng() % 1000 == 0) ? static_cast<double>(rng() % 5) : c + static_cast<double>(rng() % 7);
    batch.emplace_back(counter, t, c);
    if (rng() % 50 != 0) batch.emplace_back(gauge, t + 3, static_cast<double>(rng() % 10 != 0));
    if (batch.size() >= 300) {
      ref.Add(batch);
      Feed(*store, batch);
      batch.clear();
      if (!reopened && t > kT0 + 24 * kHour) {
        reopened = true;
        store.reset();
        store = Open(options);
        ASSERT_TRUE(store);
      }
    }
  }
  ref.Add(batch);
  Feed(*store, batch);
  const int64_t raw_cutoff = ref.max_t - 9 * kHour;

  auto check = [&](const Labels& l, int64_t start, int64_t end) {
    SCOPED_TRACE(l.ToString() + " [" + std::to_string(start - kT0) + ", " +
                 std::to_string(end - kT0) + ")");
    WindowAggregate want = BruteForce(ref.data[l], start, end);
    for (auto fields : {Reader::Fields::kAll, Reader::Fields::kCounts}) {
      auto got = store->Aggregate(l, start, end, fields);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->count, want.count);
      ASSERT_EQ(got->sum, want.sum);
      ASSERT_EQ(got->increase, want.increase);
      if (want.count > 0) {
        ASSERT_EQ(got->last, want.last);
        ASSERT_EQ(got->last_timestamp_ms, want.last_timestamp_ms);
      }
      if (fields == Reader::Fields::kAll && want.count > 0) {
        ASSERT_EQ(got->min, want.min);
        ASSERT_EQ(got->max, want.max);
      }
    }
  };
  auto random_windows = [&](int n) {
    for (int i = 0; i < n; ++i) {
      int64_t a = kT0 + static_cast<int64_t>(rng() % (2 * 24 * kHour + kHour));
      int64_t b = a + static_cast<int64_t>(rng() % (30 * kHour)) + 1;
      // Before the raw cutoff only whole minutes are known.
      if (a < raw_cutoff) a = a / kMin * kMin;
      if (b < raw_cutoff) b = b / kMin * kMin + kMin;
      if (i % 5 == 0) a = a / kHour * kHour;
      check(counter, a, b);
      check(gauge, a, b);
      if (HasFatalFailure()) return;
    }
  };
  {
    SCOPED_TRACE("before compaction");
    random_windows(300);
  }
  ASSERT_TRUE(store->EnforceRetention().ok());
  auto sel = store->Select(*ParseSelector("http_requests_total"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  EXPECT_GE((*sel)[0].samples.front().timestamp_ms, raw_cutoff);
  {
    SCOPED_TRACE("after compaction");
    random_windows(300);
  }
  check(counter, kT0 / kMin * kMin, ref.max_t + 1);  // everything
  store.reset();
  store = Open(options);
  ASSERT_TRUE(store);
  {
    SCOPED_TRACE("after reopen");
    random_windows(200);
  }
}

TEST_F(StoreTest, StalenessMarkersAreStoredButNotAggregated) {
  auto store = Open();
  Labels l = L(R"(up{job="x"})");
  double stale = std::bit_cast<double>(0x7ff0000000000002ULL);
  Commit(*store, {{l, kT0, 1}, {l, kT0 + 15'000, stale}, {l, kT0 + 30'000, 3}});
  auto agg = store->Aggregate(l, kT0, kT0 + kMin);
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->count, 2);
  EXPECT_EQ(agg->sum, 4);
  EXPECT_EQ(agg->increase, 2);
  auto sel = store->Select(*ParseSelector("up"), kT0, kT0 + kMin);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  ASSERT_EQ((*sel)[0].samples.size(), 3u);
  EXPECT_TRUE(SameBits((*sel)[0].samples[1].value, stale));
}

TEST_F(StoreTest, IndexAnswersMatchersLabelNamesAndValues) {
  auto store = Open();
  Commit(*store, {{L(R"(probe_success{region="us-east-1",location="a"})"), kT0, 1},
                  {L(R"(probe_success{region="eu-west-1",location="a"})"), kT0, 0},
                  {L(R"(probe_success{region="eu-west-1",location="b"})"), kT0, 1},
                  {L(R"(up{region="eu-west-1"})"), kT0, 1}});
  auto names = store->LabelNames();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "location", "region"}));
  EXPECT_EQ(*store->LabelValues("region"), (std::vector<std::string>{"eu-west-1", "us-east-1"}));
  EXPECT_TRUE(store->LabelValues("nope")->empty());
  auto count = [&](const char* sel) {
    auto r = store->Series(*ParseSelector(sel), kT0, kT0);
    EXPECT_TRUE(r.ok()) << sel;
    return r.ok() ? r->size() : 0;
  };
  EXPECT_EQ(count(R"(probe_success)"), 3u);
  EXPECT_EQ(count(R"(probe_success{region="eu-west-1"})"), 2u);
  EXPECT_EQ(count(R"({region="eu-west-1"})"), 3u);
  EXPECT_EQ(count(R"(probe_success{region!="eu-west-1"})"), 1u);
  EXPECT_EQ(count(R"(probe_success{location=~"a|b",region=~"eu.*"})"), 2u);
  EXPECT_EQ(count(R"({__name__=~"probe_.*",location!~"a"})"), 1u);
  EXPECT_EQ(count(R"(up{location=""})"), 1u);
  EXPECT_EQ(count(R"(probe_success{region="ap-southeast-2"})"), 0u);
  auto none = store->Series(*ParseSelector("up"), kT0 + 1, kT0 + 2);  // no sample in range
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, SeriesRangeIsExactInsideSettledChunks) {
  auto store = Open();
  Labels l = L(R"(probe_success{region="us-east-1"})");
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  for (int i = 0; i < 2000; ++i) batch.emplace_back(l, kT0 + i * 15'000, 1);  // ~8 h: settles
  Feed(*store, batch);
  auto count = [&](int64_t mint, int64_t maxt) {
    auto r = store->Series(*ParseSelector("probe_success"), mint, maxt);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->size() : 99;
  };
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "in memory and chunks" : "after reopen");
    EXPECT_EQ(count(kT0 + 1, kT0 + 14'999), 0u);           // between two samples of a chunk
    EXPECT_EQ(count(kT0 + 15'000, kT0 + 15'000), 1u);      // exactly one sample
    EXPECT_EQ(count(kT0 + 100 * 15'000 + 1, kT0 + 101 * 15'000 - 1), 0u);
    EXPECT_EQ(count(kT0 - 10 * kHour, kT0 - 1), 0u);        // before the first sample
    EXPECT_EQ(count(INT64_MIN, INT64_MAX), 1u);
    store.reset();
    store = Open();
  }
}

TEST_F(StoreTest, ChangesSinceReportsTheOldestMinuteCommittedAfterTheCursor) {
  clock_.Set(core::Timestamp::FromUnixMillis(kT0 + 72 * kMin));  // every sample below is in time
  auto store = Open();
  const Labels a = L(R"(probe_success{region="eu",location="a"})");
  const Labels b = L(R"(probe_success{region="eu",location="b"})");
  uint64_t cursor = 0;
  auto changes = store->ChangesSince(&cursor);
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(changes->oldest_appended_ms, StoreChanges::kNothingAppended);
  const uint64_t empty_generation = changes->series_generation;

  Commit(*store, {{a, kT0 + 10 * kMin + 5'000, 1}});
  changes = store->ChangesSince(&cursor);
  EXPECT_EQ(changes->oldest_appended_ms, kT0 + 10 * kMin - kT0 % kMin);  // floored to the minute
  EXPECT_NE(changes->series_generation, empty_generation);
  const uint64_t generation = changes->series_generation;
  // Nothing since: nothing reported, even though a later commit only repeats a sample.
  EXPECT_EQ(store->ChangesSince(&cursor)->oldest_appended_ms, StoreChanges::kNothingAppended);
  Commit(*store, {{a, kT0 + 10 * kMin + 5'000, 7}});  // a duplicate: nothing stored
  EXPECT_EQ(store->ChangesSince(&cursor)->oldest_appended_ms, StoreChanges::kNothingAppended);

  // In-order data, then an hour-late backlog, then in-order again: the late minute is reported
  // to a cursor from before it, not to one from after it.
  uint64_t before_late = cursor;
  Commit(*store, {{a, kT0 + 70 * kMin, 1}});
  uint64_t after_first = 0;
  (void)store->ChangesSince(&after_first);  // a second reader, now
  Commit(*store, {{b, kT0 + 11 * kMin, 0}, {b, kT0 + 12 * kMin, 1}});  // late, new series
  Commit(*store, {{a, kT0 + 71 * kMin, 1}});
  uint64_t at_first_commit = before_late;
  changes = store->ChangesSince(&before_late);
  EXPECT_EQ(changes->oldest_appended_ms, kT0 + 11 * kMin - kT0 % kMin);
  EXPECT_NE(changes->series_generation, generation);  // b was created
  EXPECT_EQ(store->ChangesSince(&after_first)->oldest_appended_ms,
            kT0 + 11 * kMin - kT0 % kMin);
  EXPECT_EQ(before_late, after_first);
  Commit(*store, {{a, kT0 + 72 * kMin, 1}});
  EXPECT_EQ(store->ChangesSince(&before_late)->oldest_appended_ms, kT0 + 72 * kMin - kT0 % kMin);
  // The cursor from before everything still sees the late minute.
  EXPECT_EQ(store->ChangesSince(&at_first_commit)->oldest_appended_ms,
            kT0 + 11 * kMin - kT0 % kMin);

  // A cursor the store cannot know (from before a reopen) is answered "unknown".
  store.reset();
  store = Open();
  uint64_t stale = 5;
  EXPECT_EQ(store->ChangesSince(&stale)->oldest_appended_ms, StoreChanges::kUnknown);
  EXPECT_EQ(store->ChangesSince(&stale)->oldest_appended_ms, StoreChanges::kNothingAppended);
}

TEST_F(StoreTest, SamplesOfReadsKnownSeriesFromMemoryAndChunksAlike) {
  auto store = Open();
  const Labels a = L(R"(probe_success{region="eu",location="a"})");
  const Labels b = L(R"(probe_success{region="us",location="a"})");
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  for (int i = 0; i < 600; ++i) {  // 10 h a minute apart: most of it settles into chunks
    batch.emplace_back(a, kT0 + i * kMin, i % 3 == 0 ? 0 : 1);
    if (i % 2 == 0) batch.emplace_back(b, kT0 + i * kMin, 1);
  }
  Feed(*store, batch);
  auto refs = store->ResolveSeries(*ParseSelector("probe_success"));
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 2u);
  EXPECT_EQ((*refs)[0].labels, a);  // sorted by labels
  EXPECT_EQ((*refs)[1].labels, b);
  // Ranges in chunks, across the settle point, and in the head only; an unknown id is empty.
  for (auto [mint, maxt] : {std::pair{kT0, kT0 + 100 * kMin}, {kT0 + 400 * kMin, kT0 + 590 * kMin},
                            {kT0 + 590 * kMin, kT0 + 599 * kMin}, {kT0 - kHour, INT64_MAX}}) {
    auto got = store->SamplesOf({(*refs)[1].id, 9999, (*refs)[0].id}, mint, maxt);
    ASSERT_TRUE(got.ok());
    auto want = store->Select(*ParseSelector("probe_success"), mint, maxt);
    ASSERT_TRUE(want.ok());
    ASSERT_EQ(want->size(), 2u);
    auto same = [](const std::vector<Sample>& x, const std::vector<Sample>& y) {
      return x.size() == y.size() &&
             std::equal(x.begin(), x.end(), y.begin(), [](const Sample& p, const Sample& q) {
               return p.timestamp_ms == q.timestamp_ms && SameBits(p.value, q.value);
             });
    };
    EXPECT_TRUE(same((*got)[0], (*want)[1].samples));
    EXPECT_TRUE((*got)[1].empty());
    EXPECT_TRUE(same((*got)[2], (*want)[0].samples));
    EXPECT_FALSE((*got)[0].empty());
  }
}

TEST_F(StoreTest, DeleteSeriesRemovesDataAndSurvivesReopen) {
  auto store = Open();
  Labels keep = L(R"(probe_success{region="us-east-1"})");
  Labels drop = L(R"(probe_success{region="eu-west-1"})");
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  for (int i = 0; i < 2000; ++i) {
    batch.emplace_back(keep, kT0 + i * 15'000, 1);
    batch.emplace_back(drop, kT0 + i * 15'000, 0);
  }
  Feed(*store, batch);
  auto deleted = store->DeleteSeries(*ParseSelector(R"({region="eu-west-1"})"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(store->Aggregate(drop, kT0, kT0 + 24 * kHour)->count, 0);
  EXPECT_EQ(store->Aggregate(keep, kT0, kT0 + 24 * kHour)->count, 2000);
  store.reset();
  store = Open();
  EXPECT_EQ(store->Aggregate(drop, kT0, kT0 + 24 * kHour)->count, 0);
  EXPECT_EQ(store->Aggregate(keep, kT0, kT0 + 24 * kHour)->count, 2000);
  EXPECT_EQ(*store->LabelValues("region"), std::vector<std::string>{"us-east-1"});
  // The name can be written again and starts empty.
  Commit(*store, {{drop, kT0 + 2000 * 15'000, 5}});
  EXPECT_EQ(store->Aggregate(drop, kT0, kT0 + 24 * kHour)->count, 1);
}

// Refs (Appender::AppendWithRef): unknown until the store holds the series, then they write to
// that series without a lookup, from any appender of the store; a ref of a deleted series writes
// the name as a new series, as Append does.
TEST_F(StoreTest, AppendWithRefWritesTheSeriesItNames) {
  auto store = Open();
  Labels a = L(R"(nines_slo_sli{slo="a"})");
  Labels b = L(R"(nines_slo_sli{slo="b"})");
  AppendRef ref_a, ref_b;
  EXPECT_FALSE(ref_a.known());
  auto app = store->NewAppender();
  ASSERT_TRUE(app->AppendWithRef(a, kT0, 1, &ref_a).ok());
  EXPECT_FALSE(ref_a.known());  // created by this batch: no ref yet
  ASSERT_TRUE(app->Commit().ok());
  Commit(*store, {{b, kT0, 10}});
  ASSERT_TRUE(app->AppendWithRef(a, kT0 + kMin, 2, &ref_a).ok());
  ASSERT_TRUE(app->AppendWithRef(b, kT0 + kMin, 20, &ref_b).ok());
  EXPECT_TRUE(ref_a.known());
  EXPECT_TRUE(ref_b.known());
  EXPECT_FALSE(ref_a == ref_b);
  ASSERT_TRUE(app->Commit().ok());
  // A new appender, refs only: each sample lands in its own series.
  auto other = store->NewAppender();
  const AppendRef kept_a = ref_a, kept_b = ref_b;
  ASSERT_TRUE(other->AppendWithRef(a, kT0 + 2 * kMin, 3, &ref_a).ok());
  ASSERT_TRUE(other->AppendWithRef(b, kT0 + 2 * kMin, 30, &ref_b).ok());
  EXPECT_TRUE(ref_a == kept_a);
  EXPECT_TRUE(ref_b == kept_b);
  auto r = other->Commit();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->appended, 2);
  Reference want;
  want.Add({{a, kT0, 1}, {a, kT0 + kMin, 2}, {a, kT0 + 2 * kMin, 3},
            {b, kT0, 10}, {b, kT0 + kMin, 20}, {b, kT0 + 2 * kMin, 30}});
  ExpectSeriesEqual(*store, want, kT0, kT0 + kHour);
  // Deleted: the ref's sample starts the name afresh, as Append would.
  ASSERT_TRUE(store->DeleteSeries(*ParseSelector(R"({slo="b"})")).ok());
  ASSERT_TRUE(other->AppendWithRef(b, kT0 + 3 * kMin, 40, &ref_b).ok());
  ASSERT_TRUE(other->Commit().ok());
  auto agg = store->Aggregate(b, kT0, kT0 + kHour);
  ASSERT_TRUE(agg.ok());
  EXPECT_EQ(agg->count, 1);
  EXPECT_EQ(agg->last, 40);
  store.reset();
  store = Open();  // and it is all durable
  EXPECT_EQ(store->Aggregate(a, kT0, kT0 + kHour)->count, 3);
  EXPECT_EQ(store->Aggregate(b, kT0, kT0 + kHour)->count, 1);
}

// Thousands of series (the series table grows several times), a scattered third deleted (the
// table closes the holes), then every series written again: the kept ones are found, not
// created twice, and the deleted ones start empty.
TEST_F(StoreTest, ManySeriesSurviveScatteredDeletesAndAreFoundAgain) {
  auto store = Open();
  constexpr int kSeries = 5000;
  std::vector<Labels> series;
  for (int i = 0; i < kSeries; ++i) {
    series.push_back(*Labels::From({{"__name__", "probe_success"},
                                    {"probe", "check-" + std::to_string(i)},
                                    {"shard", std::to_string(i % 3)}}));
  }
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  for (const Labels& l : series) batch.emplace_back(l, kT0, 1);
  EXPECT_EQ(Commit(*store, batch).appended, kSeries);
  auto deleted = store->DeleteSeries(*ParseSelector(R"({shard="1"})"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, (kSeries + 1) / 3);
  batch.clear();
  for (const Labels& l : series) {
    batch.emplace_back(l, kT0, 2);  // a duplicate unless the series was deleted
    batch.emplace_back(l, kT0 + 15'000, 3);
  }
  CommitResult r = Commit(*store, batch);
  EXPECT_EQ(r.duplicates, kSeries - *deleted);
  EXPECT_EQ(r.appended, kSeries + *deleted);
  auto all = store->Series(*ParseSelector("probe_success"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kSeries));
  for (int i = 0; i < kSeries; i += 7) {
    SCOPED_TRACE(series[static_cast<size_t>(i)].ToString());
    auto agg = store->Aggregate(series[static_cast<size_t>(i)], kT0, kT0 + kHour);
    ASSERT_TRUE(agg.ok());
    EXPECT_EQ(agg->count, 2);
    EXPECT_EQ(agg->sum, i % 3 == 1 ? 5 : 4);
  }
}

TEST_F(StoreTest, RetentionDropsRawDataButKeepsRollupsMeasuredFromTheClock) {
  StoreOptions options;
  options.raw_retention = core::Duration::Days(2);
  options.rollup_1m_retention = core::Duration::Days(3);
  options.rollup_1h_retention = core::Duration::Days(10);
  auto store = Open(options);
  Labels l = L(R"(probe_success{region="ap-southeast-2"})");
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  const int64_t end = kT0 + 5 * 24 * kHour;
  for (int64_t t = kT0; t < end; t += kMin) {
    batch.emplace_back(l, t, 1);
    if (batch.size() == 1000) {
      Feed(*store, batch);
      batch.clear();
    }
  }
  Feed(*store, batch);
  ASSERT_EQ(clock_.Now().UnixMillis(), end - kMin);
  ASSERT_TRUE(store->EnforceRetention().ok());
  // Raw samples only within 2 days of now.
  auto sel = store->Select({*Matcher::Create(Matcher::Op::kEqual, "__name__", "probe_success")},
                           INT64_MIN, INT64_MAX);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  EXPECT_GE((*sel)[0].samples.front().timestamp_ms, end - kMin - 2 * 24 * kHour);
  // Hour-aligned windows older than that still aggregate exactly from hourly rollups.
  auto old_day = store->Aggregate(l, kT0 + 24 * kHour - (kT0 % kHour), kT0 + 48 * kHour - (kT0 % kHour));
  ASSERT_TRUE(old_day.ok());
  EXPECT_EQ(old_day->count, 24 * 60);
  // Time passes without samples: retention follows the clock, not the newest sample.
  clock_.Advance(core::Duration::Days(1));
  ASSERT_TRUE(store->EnforceRetention().ok());
  sel = store->Select({*Matcher::Create(Matcher::Op::kEqual, "__name__", "probe_success")},
                      INT64_MIN, INT64_MAX);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  EXPECT_GE((*sel)[0].samples.front().timestamp_ms, end - kMin - 24 * kHour);
  EXPECT_EQ(store->Aggregate(l, kT0 + 24 * kHour - (kT0 % kHour), kT0 + 48 * kHour - (kT0 % kHour))
                ->count,
            24 * 60);
}

// MinuteAggregates gives, minute by minute, what Aggregate gives for each minute, whether the
// minute is read from its rollup row (raw samples dropped by retention) or from raw samples.
TEST_F(StoreTest, MinuteAggregatesEqualPerMinuteAggregatesAcrossTheRawHorizon) {
  StoreOptions options;
  options.raw_retention = core::Duration::Days(1);
  auto store = Open(options);
  Labels l = L(R"(http_requests_total{region="eu-west-1"})");
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  const int64_t start = kT0 - kT0 % kMin;
  const int64_t end = start + 3 * 24 * kHour;
  double v = 0;
  for (int64_t t = start; t < end; t += 15'000) {
    if ((t / kMin) % 97 == 5) continue;                       // minutes without a sample
    v = (t / kMin) % 1009 == 0 ? 3 : v + static_cast<double>((t / 15'000) % 7);  // resets too
    batch.emplace_back(l, t + 1'000, v);
    if (batch.size() == 1000) {
      Feed(*store, batch);
      batch.clear();
    }
  }
  Feed(*store, batch);
  ASSERT_TRUE(store->EnforceRetention().ok());
  ASSERT_GT(store->RawHorizonMs(), start + 24 * kHour);  // two of the three days are rollups only
  const int64_t from = start + 10 * kMin, to = end - 7 * kMin;
  auto bulk = store->MinuteAggregates(l, from, to);
  ASSERT_TRUE(bulk.ok()) << bulk.status().ToString();
  ASSERT_EQ(static_cast<int64_t>(bulk->size()), (to - from) / kMin);
  int64_t empty = 0;
  for (int64_t m = from; m < to; m += kMin) {
    auto one = store->Aggregate(l, m, m + kMin, Reader::Fields::kCounts);
    ASSERT_TRUE(one.ok());
    const WindowAggregate& b = (*bulk)[static_cast<size_t>((m - from) / kMin)];
    SCOPED_TRACE(m);
    ASSERT_EQ(b.count, one->count);
    ASSERT_EQ(b.sum, one->sum);
    ASSERT_EQ(b.increase, one->increase);
    if (one->count > 0) {
      ASSERT_EQ(b.last_timestamp_ms, one->last_timestamp_ms);
    }
    empty += b.count == 0;
  }
  EXPECT_GT(empty, 30);
  // An unknown series: every minute empty.
  auto none = store->MinuteAggregates(L(R"(nope{a="b"})"), from, from + 3 * kMin);
  ASSERT_TRUE(none.ok());
  ASSERT_EQ(none->size(), 3u);
  EXPECT_EQ((*none)[0].count, 0);
}

TEST_F(StoreTest, SecondOpenOfTheSameDirectoryFails) {
  auto first = Open();
  ASSERT_TRUE(first);
  StoreOptions options;
  options.dir = dir_.File("db");
  auto second = OpenStore(options, clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), core::StatusCode::kFailedPrecondition)
      << second.status().ToString();
}

// A data directory written by another on-disk format is refused at open with a message that
// says which formats and what to do, and is left as it was. The marker is rewritten with RocksDB
// directly, as an older (or newer) nines would have left it.
TEST_F(StoreTest, OtherFormatVersionIsRefusedWithAClearMessage) {
  const std::string db_dir = dir_.File("db");
  auto set_format = [&db_dir](uint64_t version) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), db_dir, descriptors, &handles, &db).ok());
    std::string value(8, '\0');
    for (int i = 0; i < 8; ++i) value[static_cast<size_t>(i)] = static_cast<char>(version >> (56 - 8 * i));
    EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), "format", value).ok());  // the default family
    for (auto* h : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    EXPECT_TRUE(db->Close().ok());
    delete db;
  };
  Labels l = L(R"(probe_success{region="eu-west-1"})");
  {
    auto store = Open();
    Commit(*store, {{l, kT0, 1}});
  }
  struct Case {
    uint64_t version;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {1, {"on-disk format 1 is not the format 2 this nines reads",
           "format 1 kept a rollup row per minute", "move the directory away"}},
      {3, {"on-disk format 3 is not the format 2 this nines reads", "move the directory away"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.version);
    set_format(c.version);
    StoreOptions options;
    options.dir = db_dir;
    auto refused = OpenStore(options, clock_);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), core::StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find(db_dir), std::string::npos)
        << refused.status().message();
    for (const std::string& w : c.want) {
      EXPECT_NE(refused.status().message().find(w), std::string::npos)
          << refused.status().message();
    }
  }
  // Nothing was changed: with the marker back, the data is all there.
  set_format(2);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Aggregate(l, kT0, kT0 + kHour)->count, 1);
}

// A head log record in the layout older nines wrote (varint n, then varint id, varsint t delta,
// fixed64 value per sample; no leading 0 byte), as a kill -9 of an older version leaves it, is
// replayed after an upgrade.
TEST_F(StoreTest, OldHeadLogRecordsAreReplayed) {
  const std::string db_dir = dir_.File("db");
  Labels l = L(R"(probe_success{region="eu-west-1"})");
  {
    auto store = Open();
    Commit(*store, {{l, kT0, 1}});  // the series gets id 1; Close checkpoints and empties the log
  }
  RawRocks raw(db_dir);
  ASSERT_TRUE(raw.ok());
  // Series 1, two samples.
  const std::string record =
      internal::OldFormatHeadLogRecord({{1, kT0 + 15'000, 0.25}, {1, kT0 + 30'000, 0.0}});
  std::string key(8, '\0');
  key[7] = 100;  // sequence 100, after anything the store wrote
  EXPECT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.cf("head_log"), key, record).ok());
  raw.Close();

  auto store = Open();
  auto got = store->Select(*ParseSelector("probe_success"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  ASSERT_EQ((*got)[0].samples.size(), 3u);
  EXPECT_EQ((*got)[0].samples[1].timestamp_ms, kT0 + 15'000);
  EXPECT_EQ((*got)[0].samples[1].value, 0.25);
  EXPECT_EQ((*got)[0].samples[2].timestamp_ms, kT0 + 30'000);
  EXPECT_TRUE(SameBits((*got)[0].samples[2].value, 0.0));
}

// Head states written by an older build (format 2: each head sample as a varsint time and an
// 8-byte value) are read; the current format keeps the head as chunks.
TEST_F(StoreTest, HeadStateOfTheOlderFormatIsRead) {
  const std::string db_dir = dir_.File("db");
  Labels l = L(R"(nines_slo_sli{slo="a"})");
  const std::vector<Sample> want = {{kT0, 0.25}, {kT0 + kMin, 0.998}, {kT0 + 2 * kMin, 1}};
  {
    auto store = Open();
    std::vector<std::tuple<Labels, int64_t, double>> batch;
    for (const Sample& x : want) batch.emplace_back(l, x.timestamp_ms, x.value);
    Commit(*store, batch);  // series 1; Close checkpoints its head state and empties the log
  }
  RawRocks raw(db_dir);
  ASSERT_TRUE(raw.ok());
  const std::string key("\0\0\0\0\0\0\0\x01", 8);
  std::string state;
  ASSERT_TRUE(raw.db()->Get(rocksdb::ReadOptions(), raw.cf("head_state"), key, &state).ok());
  // Format 3 ends with the head as one chunk.
  ChunkEncoder chunk;
  for (const Sample& x : want) ASSERT_TRUE(chunk.Append(x.timestamp_ms, x.value).ok());
  std::string tail;
  PutVarint(&tail, 1);
  PutVarint(&tail, chunk.bytes().size());
  tail += chunk.bytes();
  ASSERT_EQ(state[0], 3);
  ASSERT_GT(state.size(), tail.size());
  ASSERT_EQ(state.substr(state.size() - tail.size()), tail);
  // Rewritten as format 2.
  state = "\x02" + state.substr(1, state.size() - 1 - tail.size());
  PutVarint(&state, want.size());
  for (const Sample& x : want) {
    PutVarsint(&state, x.timestamp_ms);
    PutDoubleLE(&state, x.value);
  }
  EXPECT_TRUE(raw.db()->Put(rocksdb::WriteOptions(), raw.cf("head_state"), key, state).ok());
  raw.Close();

  auto store = Open();
  auto got = store->Select(*ParseSelector("nines_slo_sli"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  ASSERT_EQ((*got)[0].samples.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*got)[0].samples[i].timestamp_ms, want[i].timestamp_ms);
    EXPECT_TRUE(SameBits((*got)[0].samples[i].value, want[i].value));
  }
}

// A commit that makes settling due only asks; the store's background thread settles (moves
// samples older than the out-of-order window from the head into chunks), and nothing is lost.
TEST_F(StoreTest, TheBackgroundThreadSettlesWhatCommitsLeaveInTheHead) {
  StoreOptions options;
  options.registry = std::make_shared<prometheus::Registry>();
  auto store = Open(options);
  ASSERT_TRUE(store);
  const Labels l = L(R"(probe_success{region="eu-west-1"})");
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  for (int64_t t = kT0; t < kT0 + 2 * kHour; t += kMin) batch.emplace_back(l, t, 1);
  clock_.Set(core::Timestamp::FromUnixMillis(kT0 + 2 * kHour - kMin));
  EXPECT_EQ(Commit(*store, batch).appended, 120);  // all in the window: all in the head
  auto head = [&] {
    return testutil::MetricValue(*options.registry, "nines_store_head_samples");
  };
  // An hour later, one more sample: the 59 samples older than the window (now - 2 h) settle.
  clock_.Advance(core::Duration::Hours(1));
  EXPECT_EQ(Commit(*store, {{l, kT0 + 3 * kHour - kMin, 1}}).appended, 1);
  EXPECT_TRUE(testutil::WaitFor([&] { return head() == 62; })) << "head samples: " << head();
  // Another hour without samples: the clock alone makes 60 more settle.
  clock_.Advance(core::Duration::Hours(1));
  EXPECT_TRUE(testutil::WaitFor([&] { return head() == 2; })) << "head samples: " << head();
  auto got = store->Select(*ParseSelector("probe_success"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].samples.size(), 121u);
}

TEST_F(StoreTest, RejectsSeriesWithoutMetricName) {
  auto store = Open();
  auto app = store->NewAppender();
  EXPECT_EQ(app->Append(L(R"({job="x"})"), kT0, 1).code(), core::StatusCode::kInvalidArgument);
}

// A child process commits numbered batches and reports each acknowledgement on a pipe; the
// parent kills it with SIGKILL at a random point, reopens the store, and checks that every
// acknowledged batch is there and that nothing beyond the batch in flight is.
// Values of every kind the head log encodes apart (0, 1, integers, and raw bits for the rest)
// come back bit for bit from a replay of the log: the writer is a child process that exits
// right after its commit, without closing the store (so without a checkpoint).
TEST_F(StoreTest, HeadLogReplayKeepsEveryValueBitForBit) {
  const std::vector<double> values = {
      0.0, -0.0, 1.0, -1.0, 2.0, 42.0, 200.0, 1.75e9, -123456789.0, 0x1p53, -0x1p53,
      0x1p53 + 2, 1e300, -1e300, 0.1, 5e-324, std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
      std::bit_cast<double>(uint64_t{0x7ff0000000000002}),  // the staleness marker
      std::bit_cast<double>(uint64_t{0xfff8000000000001}),  // a negative NaN with a payload
  };
  const std::string db = dir_.File("replay");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    core::FakeClock clock;
    StoreOptions options;
    options.dir = db;
    auto store = OpenStore(options, clock);
    if (!store.ok()) _exit(3);
    auto app = (*store)->NewAppender();
    for (size_t i = 0; i < values.size(); ++i) {
      (void)app->Append(L("replay_test"), kT0 + static_cast<int64_t>(i) * 1000, values[i]);
      (void)app->Append(L(R"(replay_test{copy="b"})"), kT0 - static_cast<int64_t>(i), values[i]);
    }
    _exit(app->Commit().ok() ? 0 : 4);  // no Close: the head log is all there is
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  StoreOptions options;
  options.dir = db;
  auto store = OpenStore(options, clock_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto got = (*store)->Select(*ParseSelector(R"({__name__="replay_test"})"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  for (const SeriesSamples& ss : *got) {
    SCOPED_TRACE(ss.labels.ToString());
    ASSERT_EQ(ss.samples.size(), values.size());
    const bool reversed = ss.labels.Has("copy");
    for (size_t i = 0; i < values.size(); ++i) {
      const size_t k = reversed ? values.size() - 1 - i : i;
      EXPECT_TRUE(SameBits(ss.samples[k].value, values[i]))
          << i << ": " << ss.samples[k].value << " vs " << values[i];
    }
  }
}

TEST_F(StoreTest, AcknowledgedBatchesSurviveKill9) {
  std::mt19937_64 rng(3);
  const std::string db = dir_.File("crash");
  int64_t expected_next = 0;  // batches [0, expected_next) were acknowledged in earlier rounds
  for (int round = 0; round < 8; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      core::FakeClock clock;
      StoreOptions options;
      options.dir = db;
      auto store = OpenStore(options, clock);
      if (!store.ok()) _exit(3);
      for (int64_t b = expected_next;; ++b) {
        clock.Set(core::Timestamp::FromUnixMillis(kT0 + b * 1000));
        auto app = (*store)->NewAppender();
        for (int s = 0; s < 50; ++s) {
          Labels l = L("crash_test{s=\"" + std::to_string(s) + "\"}");
          (void)app->Append(l, kT0 + b * 1000, static_cast<double>(b));
        }
        if (!app->Commit().ok()) _exit(4);
        if (write(fds[1], &b, sizeof(b)) != sizeof(b)) _exit(5);
      }
    }
    close(fds[1]);
    // Let it acknowledge a random number of batches, then kill it mid-stream.
    int64_t acked = expected_next - 1;
    int want = 20 + static_cast<int>(rng() % 200);
    for (int i = 0; i < want; ++i) {
      int64_t b;
      ASSERT_EQ(read(fds[0], &b, sizeof(b)), static_cast<ssize_t>(sizeof(b)));
      acked = b;
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    // Drain acknowledgements written before the kill landed.
    int64_t b;
    while (read(fds[0], &b, sizeof(b)) == static_cast<ssize_t>(sizeof(b))) acked = b;
    close(fds[0]);

    StoreOptions options;
    options.dir = db;
    auto store = OpenStore(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int s = 0; s < 50; s += 7) {
      auto agg = (*store)->Aggregate(L("crash_test{s=\"" + std::to_string(s) + "\"}"), 0,
                                     kT0 + (acked + 10) * 1000);
      ASSERT_TRUE(agg.ok());
      // Every acknowledged batch, plus at most the one in flight, in order, nothing else.
      ASSERT_GE(agg->count, acked + 1) << "round " << round << " series " << s;
      ASSERT_LE(agg->count, acked + 2) << "round " << round << " series " << s;
      ASSERT_EQ(agg->last_timestamp_ms, kT0 + (agg->count - 1) * 1000);
    }
    auto agg = (*store)->Aggregate(L(R"(crash_test{s="0"})"), 0, INT64_MAX);
    expected_next = agg->count;
  }
}

using testutil::ScopedLogSink;

// Time comes from the clock, not from the data (issue 12): a sample from the future is refused,
// counted and logged (rate-limited), and does not move "now" for the samples after it.
TEST_F(StoreTest, SamplesAheadOfTheClockAreRefusedAndDoNotMoveNow) {
  std::mutex mu;
  std::vector<std::string> lines;
  ScopedLogSink sink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    if (line.find("too_far_in_future") != std::string_view::npos) lines.emplace_back(line);
  });
  StoreOptions options;
  options.registry = std::make_shared<prometheus::Registry>();
  auto store = Open(options);
  ASSERT_TRUE(store);
  const Labels l = L(R"(probe_success{region="eu-west-1"})");
  const Labels fast = L(R"(probe_success{region="eu-west-1",location="fast-clock"})");
  EXPECT_EQ(Commit(*store, {{l, kT0, 1}}).appended, 1);
  // 3 hours ahead (an agent whose clock is fast), and 10 years ahead.
  CommitResult r = Commit(*store, {{fast, kT0 + 3 * kHour, 1},
                                   {fast, kT0 + 10 * 365 * 24 * kHour, 1},
                                   {l, kT0 + 10 * kMin, 1}});  // exactly the tolerance: in
  EXPECT_EQ(r.appended, 1);
  EXPECT_EQ(r.too_far_in_future, 2);
  EXPECT_EQ(r.too_old, 0);
  EXPECT_EQ(r.max_time_ms, kT0 + 10 * kMin);
  EXPECT_EQ(r.min_time_ms, kT0 - 2 * kHour);
  EXPECT_EQ(r.first_too_far_in_future.series, fast);
  EXPECT_EQ(r.first_too_far_in_future.timestamp_ms, kT0 + 3 * kHour);
  EXPECT_EQ(testutil::MetricValue(*options.registry, "nines_store_samples_rejected_total",
                                  {{"reason", "too_far_in_future"}}),
            2);
  // Samples at the real time are still accepted (they were refused as too_old when the newest
  // sample was "now"), and the refused series was never created.
  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(core::Duration::Seconds(15));
    EXPECT_EQ(Commit(*store, {{l, kT0 + i * 15'000, 1}}).appended, 1) << i;
  }
  EXPECT_EQ(store->Series(*ParseSelector(R"({location="fast-clock"})"), INT64_MIN, INT64_MAX)
                ->size(),
            0u);
  // Retention does not expire what is there.
  ASSERT_TRUE(store->EnforceRetention().ok());
  auto sel = store->Select(*ParseSelector("probe_success"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  EXPECT_EQ((*sel)[0].samples.size(), 5u);
  // One line per interval: the refusals 45 s after the first line are only counted; the next
  // line, a minute after the first, reports them with its own.
  EXPECT_EQ(Commit(*store, {{fast, kT0 + 4 * kHour, 1}}).too_far_in_future, 1);
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("refused 2 sample(s) as too_far_in_future"), std::string::npos)
        << lines[0];
    EXPECT_NE(lines[0].find("location=\"fast-clock\""), std::string::npos) << lines[0];
  }
  clock_.Advance(core::Duration::Seconds(15));
  EXPECT_EQ(Commit(*store, {{fast, kT0 + 5 * kHour, 1}}).too_far_in_future, 1);
  core::SetLogSink(nullptr);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("refused 2 sample(s) as too_far_in_future"), std::string::npos)
      << lines[1];
}

// The out-of-order window and retention are measured back from the clock: time passing without
// samples makes late samples too old and old data expire.
TEST_F(StoreTest, OutOfOrderWindowAndRetentionAreMeasuredFromTheClock) {
  StoreOptions options;
  options.raw_retention = core::Duration::Days(2);
  auto store = Open(options);
  ASSERT_TRUE(store);
  const Labels l = L(R"(probe_success{region="eu-west-1"})");
  EXPECT_EQ(Commit(*store, {{l, kT0, 1}, {l, kT0 - 90 * kMin, 1}}).appended, 2);
  CommitResult r = Commit(*store, {{l, kT0 - 3 * kHour, 1}});
  EXPECT_EQ(r.too_old, 1);
  EXPECT_EQ(r.first_too_old.series, l);
  clock_.Advance(core::Duration::Hours(3));
  // Newer than every stored sample, but 2 h 59 min behind the clock.
  EXPECT_EQ(Commit(*store, {{l, kT0 + kMin, 1}}).too_old, 1);
  EXPECT_EQ(Commit(*store, {{l, kT0 + 3 * kHour, 1}}).appended, 1);
  clock_.Advance(core::Duration::Days(2));
  ASSERT_TRUE(store->EnforceRetention().ok());
  auto sel = store->Select(*ParseSelector("probe_success"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 1u);
  ASSERT_EQ((*sel)[0].samples.size(), 1u);  // only the sample from the last 2 days
  EXPECT_EQ((*sel)[0].samples[0].timestamp_ms, kT0 + 3 * kHour);
}

// What an older nines did with a sample from the future, undone by deleting its series: normal
// samples are accepted again at once and nothing comes back on reopen.
TEST_F(StoreTest, DeletingAFutureSeriesLeavesNothingBehind) {
  auto store = Open();
  ASSERT_TRUE(store);
  const Labels l = L(R"(probe_success{region="eu-west-1"})");
  const Labels bad = L(R"(probe_success{region="eu-west-1",location="fast-clock"})");
  EXPECT_EQ(Commit(*store, {{l, kT0, 1}, {bad, kT0 + 5 * kMin, 1}}).appended, 2);
  EXPECT_EQ(Commit(*store, {{bad, kT0 + 3 * kHour, 1}}).too_far_in_future, 1);
  ASSERT_EQ(*store->DeleteSeries(*ParseSelector(R"({location="fast-clock"})")), 1);
  clock_.Advance(core::Duration::Seconds(15));
  EXPECT_EQ(Commit(*store, {{l, kT0 + 15'000, 1}}).appended, 1);
  store.reset();
  store = Open();
  EXPECT_TRUE(store->Series(*ParseSelector(R"({location="fast-clock"})"), INT64_MIN, INT64_MAX)
                  ->empty());
  EXPECT_EQ(*store->LabelValues("location"), std::vector<std::string>{});
  EXPECT_EQ(store->Aggregate(l, kT0, kT0 + kHour)->count, 2);
  // The name starts afresh.
  EXPECT_EQ(Commit(*store, {{bad, kT0 + 30'000, 1}}).appended, 1);
  EXPECT_EQ(store->Aggregate(bad, kT0, kT0 + kHour)->count, 1);
}

// A data directory that a sample from the future damaged under an older nines, which took the
// newest sample as "now": everything else was settled, minute rollups were materialized up to
// 35 days (the raw retention) before that "now", and the cutoffs hid every real sample. It is
// written here by the store itself with its clock at that "now", which is exactly what the
// older code did with the future sample as its time (compaction has not run yet: what it
// dropped would be gone for good). It opens and recovers: the series is named in a warning,
// normal samples are accepted again, every window reads exactly (recent ones not from minute
// rollups that cannot hold them), retention keeps everything, and deleting the series removes
// it for good.
TEST_F(StoreTest, DirectoryDamagedByAFutureSampleOpensAndRecovers) {
  const Labels l = L(R"(probe_success{region="eu-west-1"})");
  const Labels bad = L(R"(probe_success{region="eu-west-1",location="fast-clock"})");
  std::vector<std::tuple<Labels, int64_t, double>> batch;
  for (int64_t t = kT0; t < kT0 + 3 * kHour; t += kMin) batch.emplace_back(l, t, 1);
  {
    auto store = Open();
    ASSERT_TRUE(store);
    Feed(*store, batch);  // 180 samples
  }
  const int64_t future = kT0 + 10 * 365 * 24 * kHour;
  {
    core::FakeClock old_now(core::Timestamp::FromUnixMillis(future));
    StoreOptions options;
    options.dir = dir_.File("db");
    auto store = OpenStore(options, old_now);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(Commit(**store, {{bad, future, 1}}).appended, 1);
    ASSERT_TRUE((*store)->Flush().ok());
    // What the damage looked like: every real sample hidden.
    EXPECT_EQ((*store)->Aggregate(l, kT0, kT0 + 3 * kHour)->count, 0);
  }
  std::mutex mu;
  std::string warnings;
  ScopedLogSink sink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    warnings += line;
  });
  clock_.Advance(core::Duration::Minutes(1));
  const int64_t now = clock_.Now().UnixMillis();
  auto store = Open();
  core::SetLogSink(nullptr);
  ASSERT_TRUE(store);
  EXPECT_NE(warnings.find("1 series hold samples more than 10m ahead of the clock"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("fast-clock"), std::string::npos) << warnings;
  // Normal samples at the real time are accepted, and every window reads exactly.
  EXPECT_EQ(Commit(*store, {{l, now, 1}}).appended, 1);
  const int64_t hour = (now - kHour) / kHour * kHour;
  EXPECT_EQ(store->Aggregate(l, hour, hour + kHour)->count, 60);
  EXPECT_EQ(store->Aggregate(l, kT0, now + 1)->count, 181);
  // Retention does not expire everything.
  ASSERT_TRUE(store->EnforceRetention().ok());
  auto sel = store->Select(*ParseSelector(R"({region="eu-west-1"})"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->size(), 2u);
  EXPECT_EQ((*sel)[0].labels, bad);
  EXPECT_EQ((*sel)[1].samples.size(), 181u);
  // The same across a reopen, and once the future series is deleted it stays gone.
  store.reset();
  store = Open();
  EXPECT_EQ(store->Aggregate(l, kT0, now + 1)->count, 181);
  ASSERT_EQ(*store->DeleteSeries(*ParseSelector(R"({location="fast-clock"})")), 1);
  clock_.Advance(core::Duration::Seconds(15));
  EXPECT_EQ(Commit(*store, {{l, now + 15'000, 1}}).appended, 1);
  store.reset();
  store = Open();
  EXPECT_EQ(store->Series(*ParseSelector(R"({location="fast-clock"})"), INT64_MIN, INT64_MAX)
                ->size(),
            0u);
  EXPECT_EQ(store->Aggregate(l, kT0, now + kMin)->count, 182);
}

}  // namespace
}  // namespace nines::store
