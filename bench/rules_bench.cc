// The SLO evaluation over a real store (rules::SloEvaluator on a RocksDB store in a temp dir).
// A plain main, since its setup (days of probe data written through the Appender) dwarfs what
// Google Benchmark would time. Modes:
//
//   nines_rules_bench cycle [--slos N] [--probes P] [--days D] [--cycles C] [--path raw|rollups]
//                           [--write-back 0|1] [--late-every K] [--declared 0|1]
//     Writes D days (+ 4 h) of one-minute probe data (P probes x 3 regions x 3 locations), then
//     times the first Evaluate (the backfill of N SLOs, SLO i on probe i % P) and C further
//     cycles, each after writing the next minute of data. Prints backfill, per-cycle time and
//     memory. The per-cycle time must not grow with D. A realistic shape has many distinct
//     checks (e.g. P = N / 3: three SLOs per check), not N SLOs on a handful of probes (whose
//     few series stay in cache). --write-back 0 leaves out writing nines_slo_* back (about 60
//     samples per SLO per cycle, a store ingest cost). --late-every K: every K-th cycle one
//     probe sample an hour old arrives too (an agent's replayed backlog); the store reports the
//     oldest minute changed, not which series, so that cycle re-reads an hour for every SLO.
//     Those cycles are timed apart. --declared 1 gives every SLO the three regions as the
//     config's declared regions (as `nines serve` does with a `regions:` section). --data DIR
//     keeps the store in DIR: a later run with the same --probes and --days reuses it (and
//     continues after the minutes earlier runs added), since writing 30 days of 10,000 SLOs'
//     probes takes a quarter of an hour.
//
//   nines_rules_bench gen --dir DIR --days D [--probes P] --openmetrics FILE
//     Writes the same data into a store in DIR and as OpenMetrics into FILE (for promtool), and
//     prints the evaluation instant (Unix seconds). Used by slo_vs_prometheus.sh.
//
//   nines_rules_bench budget --dir DIR --days D [--repeat R]
//     Opens the store in DIR and times the 30-day budget of probe p0 (majority quorum) the way
//     the engine serves it: the first Evaluate (backfill), then R cycles of Evaluate +
//     api::SloJson.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "api/json.h"
#include "core/clock.h"
#include "rules/evaluator.h"
#include "store/store.h"

namespace nines {
namespace {

constexpr int64_t kFirstMinute = 28'333'280;  // 2023-11-14T21:20:00Z
const char* kRegions[] = {"us-east-1", "eu-west-1", "ap-southeast-2"};
const char* kLocations[] = {"a", "b", "c"};

// CPU time of this thread, where Evaluate runs (RocksDB compacts on its own threads, and the
// machine may be shared: wall time then includes waiting for a core).
double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time of the whole process: the evaluating thread plus the store's background thread
// (checkpoints) and RocksDB's (flushes, compactions) while it runs.
double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

struct Args {
  std::string mode;
  int slos = 1000;
  int probes = 4;
  int days = 30;
  int cycles = 30;
  int repeat = 20;
  std::string path = "raw";
  int write_back = 1;
  int late_every = 0;
  int declared = 0;
  std::string dir;
  std::string data;
  std::string openmetrics;
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc > 1) a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--slos") a.slos = std::stoi(v);
    else if (k == "--probes") a.probes = std::stoi(v);
    else if (k == "--days") a.days = std::stoi(v);
    else if (k == "--cycles") a.cycles = std::stoi(v);
    else if (k == "--repeat") a.repeat = std::stoi(v);
    else if (k == "--path") a.path = v;
    else if (k == "--write-back") a.write_back = std::stoi(v);
    else if (k == "--late-every") a.late_every = std::stoi(v);
    else if (k == "--declared") a.declared = std::stoi(v);
    else if (k == "--dir") a.dir = v;
    else if (k == "--data") a.data = v;
    else if (k == "--openmetrics") a.openmetrics = v;
    else {
      fmt::print(stderr, "unknown flag {}\n", k);
      std::exit(2);
    }
  }
  return a;
}

core::Labels ProbeLabels(int p, const char* region, const char* loc) {
  return core::Labels::From({{"__name__", "probe_success"},
                             {"probe", fmt::format("p{}", p)},
                             {"region", region},
                             {"location", loc}})
      .value();
}

// Probe results of minute m (deterministic): ~0.1% of region-minutes are in an incident that
// most locations see; a location alone fails ~0.5% of minutes.
double Value(int p, int r, int l, int64_t m) {
  uint64_t h = static_cast<uint64_t>(m / 7) * 0x9E3779B97F4A7C15ull + p * 131 + r * 17;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  if (h % 1000 == 0 && l != 2) return 0;
  uint64_t k = (static_cast<uint64_t>(m) * 2654435761u) ^ (p * 7919 + r * 131 + l * 31);
  k *= 0x94D049BB133111EBull;
  k ^= k >> 31;
  return k % 200 == 0 ? 0 : 1;
}

void Die(const core::Status& s, const char* what) {
  if (s.ok()) return;
  fmt::print(stderr, "{}: {}\n", what, s.ToString());
  std::exit(1);
}

// Writes minutes [from, to) of every probe, in time order, a day per commit.
// Writes minutes [from, to) an hour per commit, as they would have arrived: `clock` (the
// store's) is moved to each commit's newest sample first, since the store takes samples only
// near its clock's now.
void WriteMinutes(store::Store& store, core::FakeClock& clock, int probes, int64_t from,
                  int64_t to, FILE* om) {
  std::vector<core::Labels> labels;  // [p][r][l]
  for (int p = 0; p < probes; ++p) {
    for (int r = 0; r < 3; ++r) {
      for (int l = 0; l < 3; ++l) labels.push_back(ProbeLabels(p, kRegions[r], kLocations[l]));
    }
  }
  for (int64_t hour = from; hour < to; hour += 60) {
    const int64_t newest = (std::min(to, hour + 60) - 1) * 60'000 + 30'000;
    if (clock.Now().UnixMillis() < newest) clock.Set(core::Timestamp::FromUnixMillis(newest));
    auto app = store.NewAppender();
    for (int64_t m = hour; m < std::min(to, hour + 60); ++m) {
      for (int p = 0; p < probes; ++p) {
        for (int r = 0; r < 3; ++r) {
          for (int l = 0; l < 3; ++l) {
            const int64_t t = m * 60'000 + 30'000;
            const double v = Value(p, r, l, m);
            Die(app->Append(labels[static_cast<size_t>((p * 3 + r) * 3 + l)], t, v), "append");
            if (om != nullptr) {
              fmt::print(om, "probe_success{{probe=\"p{}\",region=\"{}\",location=\"{}\"}} {} {}\n",
                         p, kRegions[r], kLocations[l], v, t / 1000);
            }
          }
        }
      }
    }
    auto c = app->Commit();
    Die(c.status(), "commit");
  }
}

store::StoreOptions Options(const std::string& dir) {
  store::StoreOptions o;
  o.dir = dir;
  o.raw_retention = core::Duration::Days(120);  // so that 90-day windows can be read raw
  return o;
}

rules::SloRule Rule(int i, int probes, int days) {
  rules::SloRule r;
  r.spec.name = fmt::format("slo-{}", i);
  r.spec.service = "bench";
  r.spec.window = slo::Window::Rolling(core::Duration::Days(days));
  r.source.selector = store::ParseSelector(fmt::format(R"({{probe="p{}"}})", i % probes)).value();
  return r;
}

// What a --data directory holds: "probes days end_minute".
std::string MetaPath(const std::string& dir) { return dir + "/rules_bench.meta"; }
int64_t ReadEnd(const Args& a) {
  std::ifstream in(MetaPath(a.data));
  int probes = 0, days = 0;
  int64_t end = 0;
  if (!(in >> probes >> days >> end) || probes != a.probes || days != a.days) return 0;
  return end;
}
void WriteEnd(const Args& a, int64_t end) {
  std::ofstream(MetaPath(a.data)) << a.probes << " " << a.days << " " << end << "\n";
}

int Cycle(const Args& a) {
  const std::string dir =
      !a.data.empty() ? a.data
                      : (std::filesystem::temp_directory_path() /
                         fmt::format("nines_rules_bench_{}", getpid()))
                            .string();
  const int64_t kept_end = a.data.empty() ? 0 : ReadEnd(a);
  if (kept_end == 0) std::filesystem::remove_all(dir);
  // The store's time: where the kept data ends, or where WriteMinutes moves it.
  core::FakeClock clock(kept_end != 0 ? core::Timestamp::FromUnixSeconds(kept_end * 60)
                                      : core::FakeClock::kDefaultStart);
  auto store = store::OpenStore(Options(dir), clock);
  Die(store.status(), "open");
  const int64_t n = kept_end != 0 ? kept_end - kFirstMinute : int64_t{a.days} * 1440 + 240;
  auto t0 = std::chrono::steady_clock::now();
  if (kept_end == 0) {
    WriteMinutes(**store, clock, a.probes, kFirstMinute, kFirstMinute + n, nullptr);
    Die((*store)->Flush(), "flush");
    if (!a.data.empty()) WriteEnd(a, kFirstMinute + n);
  }
  auto t1 = std::chrono::steady_clock::now();
  fmt::print("{} {} days x {} probes x 9 series ({} samples) in {:.1f} s\n",
             kept_end != 0 ? "reopened" : "wrote", n / 1440, a.probes, n * a.probes * 9,
             Seconds(t1 - t0));

  rules::SloEvaluatorOptions o;
  o.backfill = a.path == "rollups" ? rules::ReadPath::kRollups : rules::ReadPath::kRaw;
  o.write_back = a.write_back != 0;
  store::Store& s = **store;
  rules::SloEvaluator ev(s, [&s] { return s.NewAppender(); }, o);
  std::vector<rules::SloRule> rules;
  for (int i = 0; i < a.slos; ++i) {
    rules.push_back(Rule(i, a.probes, a.days));
    if (a.declared != 0) {
      rules.back().declared_regions.assign(std::begin(kRegions), std::end(kRegions));
    }
  }
  ev.SetRules(rules);
  int64_t now_minute = kFirstMinute + n;
  t0 = std::chrono::steady_clock::now();
  core::Status first = ev.Evaluate(core::Timestamp::FromUnixSeconds(now_minute * 60 + 5));
  Die(first, "evaluate");
  t1 = std::chrono::steady_clock::now();
  fmt::print("backfill ({} reads) + first cycle of {} SLOs over {}d: {:.2f} s ({:.1f} ms/SLO)\n",
             a.path, a.slos, a.days, Seconds(t1 - t0), Seconds(t1 - t0) * 1000 / a.slos);
  std::vector<double> cycle_s, write_s, cpu_s, late_cpu_s, process_s;
  for (int c = 0; c < a.cycles; ++c) {
    auto w0 = std::chrono::steady_clock::now();
    WriteMinutes(s, clock, a.probes, now_minute, now_minute + 1, nullptr);
    const bool late = a.late_every > 0 && c % a.late_every == a.late_every - 1;
    if (late) {
      auto app = s.NewAppender();
      Die(app->Append(ProbeLabels(0, kRegions[0], kLocations[0]),
                      (now_minute - 60) * 60'000 + 45'000, 0),
          "append");
      Die(app->Commit().status(), "commit");
    }
    ++now_minute;
    const double c0 = CpuSeconds(), p0 = ProcessCpuSeconds();
    auto e0 = std::chrono::steady_clock::now();
    core::Status r = ev.Evaluate(core::Timestamp::FromUnixSeconds(now_minute * 60 + 5));
    Die(r, "evaluate");
    auto e1 = std::chrono::steady_clock::now();
    (late ? late_cpu_s : cpu_s).push_back(CpuSeconds() - c0);
    if (late) continue;
    process_s.push_back(ProcessCpuSeconds() - p0);
    write_s.push_back(Seconds(e0 - w0));
    cycle_s.push_back(Seconds(e1 - e0));
  }
  std::string in_order;
  for (double x : cpu_s) in_order += fmt::format(" {:.0f}", x * 1e3);
  fmt::print("cycle CPU ms in order:{}\n", in_order);
  std::sort(cycle_s.begin(), cycle_s.end());
  std::sort(cpu_s.begin(), cpu_s.end());
  std::sort(process_s.begin(), process_s.end());
  fmt::print("process CPU during a cycle (all threads): median {:.1f} ms, max {:.1f} ms\n",
             process_s[process_s.size() / 2] * 1e3, process_s.back() * 1e3);
  double sum = 0;
  for (double x : cycle_s) sum += x;
  fmt::print(
      "cycle over {}d, {} SLOs x 3 regions + global (read new minutes, evaluate{}): "
      "wall median {:.1f} ms, mean {:.1f} ms, min {:.1f} ms; CPU median {:.1f} ms "
      "({:.1f} us/SLO), p90 {:.1f} ms, max {:.1f} ms; memory {:.1f} MiB ({} B/SLO)\n",
      a.days, a.slos, a.write_back ? ", write back" : "", cycle_s[cycle_s.size() / 2] * 1e3,
      sum / cycle_s.size() * 1e3, cycle_s.front() * 1e3, cpu_s[cpu_s.size() / 2] * 1e3,
      cpu_s[cpu_s.size() / 2] * 1e6 / a.slos, cpu_s[cpu_s.size() * 9 / 10] * 1e3,
      cpu_s.back() * 1e3,
      ev.MemoryBytes() / 1048576.0, ev.MemoryBytes() / a.slos);
  if (!late_cpu_s.empty()) {
    std::sort(late_cpu_s.begin(), late_cpu_s.end());
    fmt::print("cycles with a sample an hour late ({}): CPU median {:.1f} ms, max {:.1f} ms\n",
               late_cpu_s.size(), late_cpu_s[late_cpu_s.size() / 2] * 1e3,
               late_cpu_s.back() * 1e3);
  }
  store->reset();
  if (a.data.empty()) {
    std::filesystem::remove_all(dir);
  } else {
    WriteEnd(a, now_minute);
  }
  return 0;
}

int Gen(const Args& a) {
  core::FakeClock clock;
  auto store = store::OpenStore(Options(a.dir), clock);
  Die(store.status(), "open");
  FILE* om = std::fopen(a.openmetrics.c_str(), "w");
  if (om == nullptr) {
    fmt::print(stderr, "cannot write {}\n", a.openmetrics);
    return 1;
  }
  std::fputs("# TYPE probe_success gauge\n", om);
  const int64_t n = int64_t{a.days} * 1440 + 60;
  WriteMinutes(**store, clock, a.probes, kFirstMinute, kFirstMinute + n, om);
  std::fputs("# EOF\n", om);
  std::fclose(om);
  Die((*store)->Flush(), "flush");
  fmt::print("{}\n", (kFirstMinute + n) * 60);
  return 0;
}

int Budget(const Args& a) {
  const int64_t n = int64_t{a.days} * 1440 + 60;
  const core::Timestamp now = core::Timestamp::FromUnixSeconds((kFirstMinute + n) * 60);
  core::FakeClock clock(now);  // the store's time is where `gen` left it
  auto t0 = std::chrono::steady_clock::now();
  auto store = store::OpenStore(Options(a.dir), clock);
  Die(store.status(), "open");
  auto t1 = std::chrono::steady_clock::now();
  rules::SloEvaluator ev(**store, nullptr, {.write_back = false});
  rules::SloRule rule = Rule(0, 1, 30);
  rule.spec.name = "p0";
  rule.spec.regions = {"eu-west-1"};
  ev.SetRules({rule});
  auto b0 = std::chrono::steady_clock::now();
  Die(ev.Evaluate(now), "evaluate");
  auto json = api::SloJson(*ev.Snapshot(), "p0");
  Die(json.status(), "json");
  auto b1 = std::chrono::steady_clock::now();
  std::vector<double> warm;
  for (int i = 0; i < a.repeat; ++i) {
    auto w0 = std::chrono::steady_clock::now();
    Die(ev.Evaluate(now), "evaluate");
    json = api::SloJson(*ev.Snapshot(), "p0");
    auto w1 = std::chrono::steady_clock::now();
    warm.push_back(Seconds(w1 - w0));
  }
  std::sort(warm.begin(), warm.end());
  const auto results = ev.Results();
  const slo::SloReport& r = results[0].reports[0];
  fmt::print("nines: open {:.0f} ms; first evaluation (30-day backfill) {:.1f} ms; each cycle "
             "(Evaluate + JSON, incremental) median {:.3f} ms\n",
             Seconds(t1 - t0) * 1e3, Seconds(b1 - b0) * 1e3, warm[warm.size() / 2] * 1e3);
  fmt::print("nines: eu-west-1 30d good={} total={} bad={} budget_remaining={}\n", r.tally.good,
             r.tally.total, r.tally.bad(), r.budget_remaining);
  return 0;
}

}  // namespace
}  // namespace nines

int main(int argc, char** argv) {
  nines::Args a = nines::Parse(argc, argv);
  if (a.mode == "cycle") return nines::Cycle(a);
  if (a.mode == "gen" && !a.dir.empty() && !a.openmetrics.empty()) return nines::Gen(a);
  if (a.mode == "budget" && !a.dir.empty()) return nines::Budget(a);
  std::fprintf(stderr, "usage: see the comment at the top of bench/rules_bench.cc\n");
  return 2;
}
