// Disk cost of probe-like data: writes N probe checks' probe_success (0/1) and
// probe_duration_seconds (full-precision floats) every 15 s (with scrape jitter) for D days into a
// fresh nines store, flushes and compacts it, and prints bytes per sample per tier. With --om it
// also writes the same samples as OpenMetrics text, which bench/disk_compare.sh turns into a
// Prometheus block with promtool for the side-by-side figure.
//
// Usage: nines_disk_bench --dir DIR [--checks 100] [--days 7] [--om FILE]
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <string>

#include "core/clock.h"
#include "core/labels.h"
#include "store/store.h"

namespace nines {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kStep = 15'000;

struct Flags {
  std::string dir;
  std::string om;
  int checks = 100;
  int days = 7;
};

bool Parse(int argc, char** argv, Flags* f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") f->dir = v;
    else if (k == "--om") f->om = v;
    else if (k == "--checks") f->checks = std::stoi(v);
    else if (k == "--days") f->days = std::stoi(v);
    else return false;
  }
  return !f->dir.empty() && f->checks > 0 && f->days > 0;
}

// The value of every gauge sample line `name{tier="x"} v` in the registry's text output.
double Gauge(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

int Run(const Flags& f) {
  static const char* kRegions[] = {"us-east-1", "eu-west-1", "ap-southeast-2"};
  std::vector<core::Labels> success, duration;
  for (int c = 0; c < f.checks; ++c) {
    auto make = [&](const char* name) {
      return *core::Labels::From({{"__name__", name},
                                  {"probe", "check-" + std::to_string(c)},
                                  {"target", "https://api" + std::to_string(c) + ".example.com/"},
                                  {"region", kRegions[c % 3]},
                                  {"location", std::string(kRegions[(c / 3) % 3]) + "a"}});
    };
    success.push_back(make("probe_success"));
    duration.push_back(make("probe_duration_seconds"));
  }
  std::filesystem::remove_all(f.dir);
  core::FakeClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  store::StoreOptions options;
  options.dir = f.dir;
  options.registry = registry;
  auto opened = store::OpenStore(options, clock);
  if (!opened.ok()) {
    std::cerr << opened.status().ToString() << "\n";
    return 1;
  }
  store::Store& db = **opened;

  // Every series' samples, generated once (deterministically) and written to both outputs.
  const int64_t steps = static_cast<int64_t>(f.days) * 86'400'000 / kStep;
  std::vector<std::vector<core::Sample>> data(2 * static_cast<size_t>(f.checks));
  std::mt19937_64 rng(1);
  std::normal_distribution<double> latency(0.08, 0.03);
  for (int64_t k = 0; k < steps; ++k) {
    for (int c = 0; c < f.checks; ++c) {
      int64_t t = kStart + k * kStep + static_cast<int64_t>(rng() % 40);  // scrape jitter, ms
      data[2 * static_cast<size_t>(c)].push_back({t, rng() % 400 == 0 ? 0.0 : 1.0});
      data[2 * static_cast<size_t>(c) + 1].push_back({t, 0.04 + std::fabs(latency(rng))});
    }
  }
  int64_t samples = 0;
  for (int64_t k = 0; k < steps; k += 40) {
    // The store takes samples near its clock's now: move it to the batch's newest first.
    clock.Set(core::Timestamp::FromUnixMillis(kStart + (std::min(steps, k + 40) - 1) * kStep + 40));
    auto app = db.NewAppender();
    for (int64_t j = k; j < std::min(steps, k + 40); ++j) {
      for (int c = 0; c < f.checks; ++c) {
        for (int kind = 0; kind < 2; ++kind) {
          const core::Sample& x = data[2 * static_cast<size_t>(c) + kind][static_cast<size_t>(j)];
          app->Append(kind == 0 ? success[static_cast<size_t>(c)]
                                : duration[static_cast<size_t>(c)],
                      x.timestamp_ms, x.value)
              .IgnoreError();
          ++samples;
        }
      }
    }
    if (!app->Commit().ok()) return 1;
  }
  if (!db.Flush().ok() || !db.EnforceRetention().ok() || !db.Flush().ok()) return 1;
  std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  double chunks = Gauge(text, R"(nines_store_disk_bytes{tier="chunks"})");
  double m1 = Gauge(text, R"(nines_store_disk_bytes{tier="rollup_1m"})");
  double h1 = Gauge(text, R"(nines_store_disk_bytes{tier="rollup_1h"})");
  double series = Gauge(text, R"(nines_store_disk_bytes{tier="series"})");
  double state = Gauge(text, R"(nines_store_disk_bytes{tier="head_state"})");
  uint64_t dir_bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(f.dir)) {
    if (e.is_regular_file()) dir_bytes += e.file_size();
  }
  std::printf("samples=%lld series=%d days=%d\n", static_cast<long long>(samples),
              2 * f.checks, f.days);
  std::printf("nines raw chunks      %10.0f bytes  %.3f bytes/sample\n", chunks, chunks / samples);
  std::printf("nines rollup_1m       %10.0f bytes  %.3f bytes/sample\n", m1, m1 / samples);
  std::printf("nines rollup_1h       %10.0f bytes  %.3f bytes/sample\n", h1, h1 / samples);
  std::printf("nines index+state     %10.0f bytes\n", series + state);
  std::printf("nines directory       %10llu bytes  %.3f bytes/sample (incl. WAL, manifest)\n",
              static_cast<unsigned long long>(dir_bytes), static_cast<double>(dir_bytes) / samples);
  opened->reset();

  if (!f.om.empty()) {
    std::ofstream om(f.om);
    for (int kind = 0; kind < 2; ++kind) {
      om << "# TYPE " << (kind == 0 ? "probe_success" : "probe_duration_seconds") << " gauge\n";
      for (int c = 0; c < f.checks; ++c) {
        std::string series_text =
            (kind == 0 ? success : duration)[static_cast<size_t>(c)].ToString();
        for (const core::Sample& x : data[2 * static_cast<size_t>(c) + kind]) {
          om << series_text << ' ' << fmt::format("{}", x.value) << ' '
             << fmt::format("{}.{:03}", x.timestamp_ms / 1000, x.timestamp_ms % 1000) << '\n';
        }
      }
    }
    om << "# EOF\n";
  }
  return 0;
}

}  // namespace
}  // namespace nines

int main(int argc, char** argv) {
  nines::Flags f;
  if (!nines::Parse(argc, argv, &f)) {
    std::cerr << "usage: nines_disk_bench --dir DIR [--checks N] [--days D] [--om FILE]\n";
    return 2;
  }
  return nines::Run(f);
}
