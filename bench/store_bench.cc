// In-process store benchmarks (issue 3's goals):
//   BM_AppendCommit: samples/s through Appender::Commit, probe-like series (goal: >= 2M/s/core).
//     It first writes 2.5 hours of data untimed, so the timed part is the steady state: every
//     series settles samples into chunks and rollups each minute, as in production.
//     samples_per_cpu_sec divides by the CPU time of the whole process (RocksDB's flush and
//     compaction threads included), which is what "on one core" means.
//   BM_WindowAggregate: one series' exact aggregate over 7d, 30d, 90d (goal: < 100 us, and
//   the same for every window length).
// Each fixture writes to a fresh RocksDB directory under $TMPDIR.
#include <benchmark/benchmark.h>

#include <time.h>

#include <filesystem>
#include <memory>
#include <random>

#include "core/clock.h"
#include "core/labels.h"
#include "store/store.h"

namespace nines::store {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kStep = 15'000;

std::string TempDir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             (std::string("nines-bench-") + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::vector<core::Labels> ProbeSeries(int n) {
  static const char* kRegions[] = {"us-east-1", "eu-west-1", "ap-southeast-2"};
  std::vector<core::Labels> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(*core::Labels::From(
        {{"__name__", i % 2 ? "probe_success" : "probe_duration_seconds"},
         {"probe", "check-" + std::to_string(i / 6)},
         {"target", "https://api-" + std::to_string(i / 6) + ".example.com/healthz"},
         {"region", kRegions[i % 3]},
         {"location", std::string(kRegions[(i / 3) % 3]) + "a"}}));
  }
  return out;
}

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_AppendCommit(benchmark::State& state) {
  const int series_count = static_cast<int>(state.range(0));
  const int batch_series = static_cast<int>(state.range(1));
  core::FakeClock clock;
  std::string dir = TempDir("append");
  StoreOptions options;
  options.dir = dir;
  auto store = std::move(*OpenStore(options, clock));
  std::vector<core::Labels> series = ProbeSeries(series_count);
  std::mt19937_64 rng(1);
  int64_t round = 0;
  int next = 0;
  int64_t samples = 0;
  auto commit_batch = [&] {
    auto app = store->NewAppender();
    for (int i = 0; i < batch_series; ++i) {
      const core::Labels& l = series[static_cast<size_t>(next)];
      double v = (next % 2) ? static_cast<double>(rng() % 100 != 0)
                            : 0.05 + static_cast<double>(rng() % 1000) / 1e4;
      app->Append(l, kStart + round * kStep + next, v).IgnoreError();
      if (++next == series_count) {
        next = 0;
        ++round;
      }
    }
    // The samples arrive at their time: the store measures everything from its clock.
    clock.Set(core::Timestamp::FromUnixMillis(kStart + round * kStep + next));
    return app->Commit();
  };
  // Past the out-of-order window (2 h): from here on every minute settles samples.
  while (round * kStep < 150 * 60'000) {
    if (auto r = commit_batch(); !r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    auto r = commit_batch();
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    samples += batch_series;
  }
  const double cpu = ProcessCpuSeconds() - cpu_start;
  state.counters["samples_per_sec"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["samples_per_cpu_sec"] = static_cast<double>(samples) / cpu;
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendCommit)->Args({3000, 500})->Args({3000, 3000})->UseRealTime();

// One store with 91 days of one probe_success series at a 15 s step, shared by the window
// benchmarks.
class WindowFixture {
 public:
  static WindowFixture& Get() {
    static WindowFixture* f = new WindowFixture();
    return *f;
  }
  Store& store() { return *store_; }
  const core::Labels& series() const { return series_; }
  int64_t end() const { return end_; }

 private:
  WindowFixture() : dir_(TempDir("window")) {
    StoreOptions options;
    options.dir = dir_;
    store_ = std::move(*OpenStore(options, clock_));
    series_ = *core::ParseLabels(R"(probe_success{probe="api",region="eu-west-1",location="a"})");
    std::mt19937_64 rng(2);
    int64_t t = kStart;
    const int64_t stop = kStart + 91LL * 86'400'000;
    while (t < stop) {
      // An hour per commit, the clock at its newest sample: the store takes samples only near
      // its clock's now.
      auto app = store_->NewAppender();
      for (int i = 0; i < 240 && t < stop; ++i, t += kStep) {
        app->Append(series_, t, static_cast<double>(rng() % 500 != 0)).IgnoreError();
      }
      clock_.Set(core::Timestamp::FromUnixMillis(t - kStep));
      app->Commit().status().IgnoreError();
    }
    store_->Flush().IgnoreError();
    end_ = t - 7 * 60'000 - 17'000;  // not aligned: raw edges at both ends
  }
  core::FakeClock clock_;
  std::string dir_;
  std::unique_ptr<Store> store_;
  core::Labels series_;
  int64_t end_ = 0;
};

void BM_WindowAggregate(benchmark::State& state) {
  WindowFixture& f = WindowFixture::Get();
  const int64_t days = state.range(0);
  const int64_t start = f.end() - days * 86'400'000 - 3 * kStep;
  int64_t count = 0;
  for (auto _ : state) {
    auto agg = f.store().Aggregate(f.series(), start, f.end(),
                                   state.range(1) ? Reader::Fields::kAll : Reader::Fields::kCounts);
    if (!agg.ok()) state.SkipWithError(agg.status().ToString().c_str());
    count = agg->count;
    benchmark::DoNotOptimize(agg);
  }
  state.counters["samples_in_window"] = static_cast<double>(count);
}
// Second argument: 0 counts only (count, sum, increase, last), 1 also min and max.
BENCHMARK(BM_WindowAggregate)
    ->ArgsProduct({{7, 30, 90}, {0, 1}})
    ->ArgNames({"days", "min_max"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nines::store
