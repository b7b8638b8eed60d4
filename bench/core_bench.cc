// Micro-benchmarks of core's hot paths: series hashing and parsing are on every ingest.
#include <benchmark/benchmark.h>

#include "core/labels.h"
#include "core/time.h"

namespace nines::core {
namespace {

Labels ProbeSeries() {
  return *Labels::From({{"__name__", "probe_success"}, {"probe", "api-availability"},
                        {"target", "https://api.eu-west-1.example.com/healthz"},
                        {"region", "eu-west-1"}, {"location", "eu-west-1a"}});
}

void BM_Hash64(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Hash64(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Hash64)->Arg(16)->Arg(128)->Arg(1024);

void BM_LabelsFromPairs(benchmark::State& state) {
  Labels l = ProbeSeries();
  std::vector<Label> pairs(l.begin(), l.end());
  for (auto _ : state) benchmark::DoNotOptimize(Labels::FromPairs(pairs));
}
BENCHMARK(BM_LabelsFromPairs);

void BM_ParseLabels(benchmark::State& state) {
  std::string text = ProbeSeries().ToString();
  for (auto _ : state) benchmark::DoNotOptimize(ParseLabels(text));
}
BENCHMARK(BM_ParseLabels);

void BM_ParseDuration(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ParseDuration("1h30m15s"));
}
BENCHMARK(BM_ParseDuration);

}  // namespace
}  // namespace nines::core
