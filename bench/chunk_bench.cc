// Micro-benchmarks of the store's chunk codec: every sample is encoded once on ingest and
// decoded on every query that reads raw data. Reports samples/s (items_per_second) and the
// encoded size as the counter bytes_per_sample, for 120-sample chunks (the store's default).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/labels.h"
#include "store/chunk.h"

namespace nines::store {
namespace {

constexpr int kChunkSamples = 120;
constexpr int kChunks = 64;  // distinct chunks per run, so branch predictors can't memorize one
constexpr int64_t kBase = 1'700'000'000'000;

// probe_success every 15 s, started 0-7 ms late by timer jitter, failing now and then for a
// few probes in a row.
std::vector<core::Sample> ProbeSuccess(std::mt19937_64& rng) {
  std::uniform_int_distribution<int64_t> jitter(0, 7);
  std::bernoulli_distribution outage(0.01);
  std::vector<core::Sample> out;
  int down = 0;
  for (int i = 0; i < kChunkSamples; ++i) {
    if (down == 0 && outage(rng)) down = 3;
    out.push_back({kBase + 15'000 * i + jitter(rng), down > 0 ? 0.0 : 1.0});
    if (down > 0) --down;
  }
  return out;
}

// probe_duration_seconds: lognormal latency around 50 ms at full double precision (a measured
// duration in seconds: the mantissa is noise, which XOR encoding cannot shrink), or, for
// comparison, the same latency as whole milliseconds (few significant bits: compresses well).
std::vector<core::Sample> Latency(std::mt19937_64& rng, bool whole_ms) {
  std::uniform_int_distribution<int64_t> jitter(0, 7);
  std::lognormal_distribution<double> latency(-3, 0.3);
  std::vector<core::Sample> out;
  for (int i = 0; i < kChunkSamples; ++i) {
    const double seconds = latency(rng);
    out.push_back(
        {kBase + 15'000 * i + jitter(rng), whole_ms ? std::round(seconds * 1e3) : seconds});
  }
  return out;
}

enum Shape { kProbeSuccess = 0, kLatencySeconds = 1, kLatencyWholeMs = 2 };
constexpr const char* kShapeNames[] = {"probe_success", "latency_seconds", "latency_whole_ms"};

std::vector<std::vector<core::Sample>> Chunks(int64_t shape) {
  std::mt19937_64 rng(42);
  std::vector<std::vector<core::Sample>> chunks;
  for (int i = 0; i < kChunks; ++i) {
    chunks.push_back(shape == kProbeSuccess ? ProbeSuccess(rng)
                                            : Latency(rng, shape == kLatencyWholeMs));
  }
  return chunks;
}

void BM_Encode(benchmark::State& state) {
  const auto chunks = Chunks(state.range(0));
  size_t bytes = 0, samples = 0, i = 0;
  for (auto _ : state) {
    const auto& chunk = chunks[i++ % chunks.size()];
    ChunkEncoder enc;
    for (const core::Sample& s : chunk) enc.Append(s.timestamp_ms, s.value).IgnoreError();
    benchmark::DoNotOptimize(enc.bytes().data());
    bytes += enc.bytes().size();
    samples += chunk.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
  state.SetLabel(kShapeNames[state.range(0)]);
}
BENCHMARK(BM_Encode)->DenseRange(0, 2);

void BM_DecodeIterator(benchmark::State& state) {
  std::vector<std::string> encoded;
  size_t bytes = 0;
  for (const auto& chunk : Chunks(state.range(0))) {
    ChunkEncoder enc;
    for (const core::Sample& s : chunk) enc.Append(s.timestamp_ms, s.value).IgnoreError();
    encoded.emplace_back(enc.bytes());
    bytes += encoded.back().size();
  }
  size_t samples = 0, i = 0;
  for (auto _ : state) {
    ChunkIterator it(encoded[i++ % encoded.size()]);
    double sum = 0;
    int64_t last = 0;
    while (it.Next()) {
      sum += it.v();
      last = it.t();
    }
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(last);
    samples += kChunkSamples;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.counters["bytes_per_sample"] =
      static_cast<double>(bytes) / static_cast<double>(kChunks * kChunkSamples);
  state.SetLabel(kShapeNames[state.range(0)]);
}
BENCHMARK(BM_DecodeIterator)->DenseRange(0, 2);

void BM_DecodeChunk(benchmark::State& state) {
  std::vector<std::string> encoded;
  for (const auto& chunk : Chunks(state.range(0))) {
    ChunkEncoder enc;
    for (const core::Sample& s : chunk) enc.Append(s.timestamp_ms, s.value).IgnoreError();
    encoded.emplace_back(enc.bytes());
  }
  size_t samples = 0, i = 0;
  for (auto _ : state) {
    auto r = DecodeChunk(encoded[i++ % encoded.size()]);
    benchmark::DoNotOptimize(r);
    samples += kChunkSamples;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetLabel(kShapeNames[state.range(0)]);
}
BENCHMARK(BM_DecodeChunk)->DenseRange(0, 2);

}  // namespace
}  // namespace nines::store
