// SLO evaluation cost per cycle: 10,000 SLOs x 3 regions (+ global), with 7, 30 and 90 days of
// one-minute buckets prebuilt in memory as prefix counts. The cost must not grow with the window.
//
// Memory: prefix counts take 24 bytes per minute per series, so 30,000 distinct 90-day series
// would need ~93 GB. The bench keeps kPools distinct SLOs' data (each 3 regions + their sum) and
// points SLO i at pool i % kPools, evaluated at `now` shifted back by (i / kPools) % 240 minutes
// so that SLOs sharing a pool still read different cache lines (the working set per cycle is
// tens of MB, well past L2). Evaluation is the real EvaluateAll: budget window, 7 burn-rate
// windows, 4 alert rules, forecasts, status, per region and global.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>

#include "slo/slo.h"

namespace nines::slo {
namespace {

constexpr int kSlos = 10'000;
constexpr int kPools = 32;
constexpr int64_t kFirstMinute = 29'000'000;
const char* kRegions[] = {"us-east-1", "eu-west-1", "ap-southeast-2"};

struct Pools {
  std::vector<std::unique_ptr<SloCounts>> counts;
  int64_t end_minute = 0;
};

// Builds (once per window length) kPools SLOs of `days` days + 4 hours of minutes: probe-like
// data, ~0.1% bad minutes in short incidents, ~0.05% minutes without data.
const Pools& PoolsFor(int days) {
  static std::map<int, std::unique_ptr<Pools>> cache;
  auto it = cache.find(days);
  if (it != cache.end()) return *it->second;
  cache.clear();  // one window length in memory at a time
  auto pools = std::make_unique<Pools>();
  const int64_t n = int64_t{days} * 1440 + 240;
  pools->end_minute = kFirstMinute + n;
  std::mt19937_64 rng(7);
  for (int p = 0; p < kPools; ++p) {
    std::vector<std::pair<std::string, BucketSeries>> regions;
    for (const char* r : kRegions) {
      BucketSeries s{kFirstMinute, std::vector<Bucket>(n, Bucket::Events(1, 1))};
      for (int64_t m = 0; m < n; ++m) {
        uint64_t x = rng() % 10'000;
        if (x < 2) {  // an incident of up to 10 minutes
          int64_t len = 1 + static_cast<int64_t>(rng() % 10);
          for (int64_t k = m; k < std::min(n, m + len); ++k) s.buckets[k] = Bucket::Events(0, 1);
          m += len;
        } else if (x < 7) {
          s.buckets[m] = Bucket::NoData();
        }
      }
      regions.emplace_back(r, std::move(s));
    }
    pools->counts.push_back(std::make_unique<SloCounts>(std::move(regions), 0.998));
  }
  return *cache.emplace(days, std::move(pools)).first->second;
}

void EvaluateCycle(benchmark::State& state, const SloSpec& spec, int days) {
  const Pools& pools = PoolsFor(days);
  core::Timestamp now = MinuteStart(pools.end_minute) + core::Duration::Seconds(30);
  int64_t reports = 0;
  for (auto _ : state) {
    double checksum = 0;
    for (int i = 0; i < kSlos; ++i) {
      core::Timestamp at = now - core::Duration::Minutes((i / kPools) % 240);
      auto r = EvaluateAll(spec, *pools.counts[i % kPools], at);
      if (!r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        return;
      }
      checksum += r->back().budget_remaining;
      reports += static_cast<int64_t>(r->size());
    }
    benchmark::DoNotOptimize(checksum);
  }
  state.counters["slo_regions_per_s"] =
      benchmark::Counter(static_cast<double>(reports), benchmark::Counter::kIsRate);
}

// One cycle = 10,000 SLOs x (3 regions + global), rolling window of `days` days.
void BM_EvaluateCycleRolling(benchmark::State& state) {
  int days = static_cast<int>(state.range(0));
  SloSpec spec;
  spec.name = "bench";
  spec.window = Window::Rolling(core::Duration::Days(days));
  EvaluateCycle(state, spec, days);
}
BENCHMARK(BM_EvaluateCycleRolling)->Arg(7)->Arg(30)->Arg(90)->Unit(benchmark::kMillisecond);

// The same with time slices (slice counts come from the same prefix arrays).
void BM_EvaluateCycleTimeslices(benchmark::State& state) {
  SloSpec spec;
  spec.name = "bench";
  spec.method = BudgetingMethod::kTimeslices;
  EvaluateCycle(state, spec, 30);
}
BENCHMARK(BM_EvaluateCycleTimeslices)->Unit(benchmark::kMillisecond);

// A calendar quarter in Europe/Berlin over 90 days of data: adds the time-zone arithmetic.
void BM_EvaluateCycleCalendarQuarter(benchmark::State& state) {
  SloSpec spec;
  spec.name = "bench";
  spec.window = Window::Calendar(CalendarUnit::kQuarter, "Europe/Berlin");
  EvaluateCycle(state, spec, 90);
}
BENCHMARK(BM_EvaluateCycleCalendarQuarter)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nines::slo
