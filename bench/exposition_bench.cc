// Parsing speed of the text exposition format (collector/exposition.h): every scrape of every
// target goes through it, so bytes/s and samples/s here bound how many targets one agent serves.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "collector/exposition.h"

namespace nines::collector {
namespace {

// A node_exporter-like page: typed families of counters and gauges with a few labels each, and
// histograms with 12 buckets.
std::string SyntheticPage(int families) {
  std::string out;
  for (int f = 0; f < families; ++f) {
    switch (f % 3) {
      case 0:
        out += fmt::format("# HELP node_cpu_seconds_{}_total Seconds the CPUs spent in each mode.\n"
                           "# TYPE node_cpu_seconds_{}_total counter\n", f, f);
        for (int cpu = 0; cpu < 8; ++cpu) {
          for (const char* mode : {"idle", "iowait", "system", "user"}) {
            out += fmt::format("node_cpu_seconds_{}_total{{cpu=\"{}\",mode=\"{}\"}} {}.{}\n", f,
                               cpu, mode, 123456 + cpu * 7 + f, 17 + cpu);
          }
        }
        break;
      case 1:
        out += fmt::format("# HELP node_filesystem_avail_bytes_{} Filesystem space available.\n"
                           "# TYPE node_filesystem_avail_bytes_{} gauge\n", f, f);
        for (int fs = 0; fs < 8; ++fs) {
          out += fmt::format("node_filesystem_avail_bytes_{}{{device=\"/dev/sda{}\",fstype=\"ext4\","
                             "mountpoint=\"/mnt/data{}\"}} {}e+09\n", f, fs, fs, 1.5 + fs);
        }
        break;
      case 2:
        out += fmt::format("# HELP http_request_duration_seconds_{} Request latency.\n"
                           "# TYPE http_request_duration_seconds_{} histogram\n", f, f);
        for (const char* handler : {"/api/v1/query", "/api/v1/write"}) {
          int cumulative = 0;
          for (const char* le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
                                 "2.5", "5", "10", "+Inf"}) {
            cumulative += 17;
            out += fmt::format("http_request_duration_seconds_{}_bucket{{handler=\"{}\",le=\"{}\"}} "
                               "{}\n", f, handler, le, cumulative);
          }
          out += fmt::format("http_request_duration_seconds_{}_sum{{handler=\"{}\"}} 12.75\n", f,
                             handler);
          out += fmt::format("http_request_duration_seconds_{}_count{{handler=\"{}\"}} {}\n", f,
                             handler, cumulative);
        }
        break;
    }
  }
  return out;
}

void Run(benchmark::State& state, const std::string& page) {
  size_t samples = 0;
  for (auto _ : state) {
    core::Result<Exposition> e = ParseExposition(page);
    if (!e.ok()) {
      state.SkipWithError(e.status().ToString().c_str());
      return;
    }
    samples = e->samples.size();
    benchmark::DoNotOptimize(e);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * page.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples));
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["bytes"] = static_cast<double>(page.size());
}

void BM_ParseExpositionSynthetic(benchmark::State& state) {
  Run(state, SyntheticPage(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_ParseExpositionSynthetic)->Arg(30)->Arg(300);

// The real /metrics page of Debian's Prometheus 2.42 from the test corpus.
void BM_ParseExpositionPrometheusPage(benchmark::State& state) {
  std::ifstream in(std::string(NINES_COLLECTOR_TESTDATA) + "/exposition/valid/prometheus_2_42.prom");
  std::stringstream ss;
  ss << in.rdbuf();
  Run(state, ss.str());
}
BENCHMARK(BM_ParseExpositionPrometheusPage);

void BM_ParsePrometheusFloat(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParsePrometheusFloat("1.7560473e+07"));
    benchmark::DoNotOptimize(ParsePrometheusFloat("144320"));
  }
}
BENCHMARK(BM_ParsePrometheusFloat);

}  // namespace
}  // namespace nines::collector
