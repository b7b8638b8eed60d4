// The oracle: random probe scenarios go both into nines' store and into Debian's Prometheus
// (2.42, blocks written by `promtool tsdb create-blocks-from openmetrics`, then served by
// /usr/bin/prometheus on loopback), and the SLO counts over each window are queried with PromQL
// functions that do not extrapolate (count_over_time, sum_over_time, min_over_time over
// one-minute subquery steps). nines' good/total counts, budgets and burn rates must equal them
// exactly.
//
// Why promtool and not remote write: the scenarios are days of history, older than what
// Prometheus' head accepts through remote write without an out-of-order window; blocks load any
// history deterministically.
//
// The PromQL of one region-minute (probe availability with a location quorum), at a step t on a
// whole minute, covering (t - 1m, t] (samples never fall on a whole minute, so either range-end
// convention gives the same minute):
//   R = count by (region) (count_over_time(probe_success{probe="P"}[1m]))      locations reporting
//   F = count by (region) (min_over_time(probe_success{probe="P"}[1m]) == 0)   locations failing
//   majority: bad = 2 F > R;  fixed quorum Q: counted when R >= Q, bad = F >= Q
// and a window of D minutes ending at t is the subquery [D*60-1 s : 1m], whose steps are the D
// whole minutes in (t - D, t]: exactly nines' minutes [t/60 - D, t/60).
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "net/http_client.h"
#include "rules/evaluator.h"
#include "tests/rules/test_util.h"

namespace nines::rules {
namespace {

using core::Duration;
using testing::AtMinute;
using testing::EvaluateConditions;
using testing::kBaseMinute;
using testing::L;
using testing::MinuteMs;
using testing::ProbeRule;
using testing::TestStore;

std::string PrometheusBinary() {
  const char* env = std::getenv("NINES_PROMETHEUS");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/prometheus";
}
std::string PromtoolBinary() {
  const char* env = std::getenv("NINES_PROMTOOL");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/promtool";
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

struct Scenario {
  std::string probe;
  // region -> location -> samples
  std::map<std::string, std::map<std::string, std::vector<core::Sample>>> samples;
};

// Random probe results over `minutes` minutes: 2-3 regions of 1-3 locations, 1-2 probes per
// location-minute at random seconds (never on a whole minute), gaps, independent failures and
// region-wide outages that most locations see.
Scenario RandomScenario(uint32_t seed, int64_t first_minute, int64_t minutes) {
  std::mt19937 rng(seed);
  Scenario s;
  s.probe = fmt::format("p{}", seed);
  const int regions = 2 + static_cast<int>(rng() % 2);
  for (int r = 0; r < regions; ++r) {
    const std::string region = fmt::format("region-{}", r);
    const int locations = 1 + static_cast<int>(rng() % 3);
    // Outages: a few intervals per region.
    std::vector<std::pair<int64_t, int64_t>> outages;
    for (int i = 0; i < 4; ++i) {
      int64_t start = rng() % minutes;
      outages.push_back({start, start + 5 + rng() % 90});
    }
    const int64_t dead_from = rng() % 3 == 0 ? minutes - 20 - rng() % 60 : minutes;
    for (int l = 0; l < locations; ++l) {
      auto& v = s.samples[region][std::string(1, static_cast<char>('a' + l))];
      for (int64_t m = 0; m < minutes; ++m) {
        if (m >= dead_from || rng() % 20 == 0) continue;  // gap
        bool out = false;
        for (auto [a, b] : outages) out |= m >= a && m < b;
        const int probes = rng() % 3 == 0 ? 2 : 1;
        std::vector<int64_t> secs;
        for (int p = 0; p < probes; ++p) secs.push_back(1 + rng() % 58);
        std::sort(secs.begin(), secs.end());
        secs.erase(std::unique(secs.begin(), secs.end()), secs.end());
        for (int64_t sec : secs) {
          const bool fail = out ? rng() % 5 != 0 : rng() % 25 == 0;
          v.push_back({MinuteMs(first_minute + m) + sec * 1000 + 500, fail ? 0.0 : 1.0});
        }
      }
    }
  }
  return s;
}

class PrometheusOracle {
 public:
  // Writes `scenarios` as OpenMetrics, builds blocks with promtool and starts Prometheus.
  PrometheusOracle(const testutil::TempDir& dir, const std::vector<Scenario>& scenarios) {
    std::string om = "# TYPE probe_success gauge\n";
    for (const Scenario& s : scenarios) {
      for (const auto& [region, locs] : s.samples) {
        for (const auto& [loc, samples] : locs) {
          for (const core::Sample& x : samples) {
            om += fmt::format(
                "probe_success{{probe=\"{}\",region=\"{}\",location=\"{}\"}} {} {}.{:03d}\n",
                s.probe, region, loc, x.value, x.timestamp_ms / 1000, x.timestamp_ms % 1000);
          }
        }
      }
    }
    om += "# EOF\n";
    const std::string file = dir.Write("data.om", om);
    const std::string tsdb = dir.File("tsdb");
    std::filesystem::create_directories(tsdb);
    {
      testutil::ChildProcess promtool(
          {PromtoolBinary(), "tsdb", "create-blocks-from", "openmetrics", file, tsdb});
      auto code = promtool.Wait(std::chrono::seconds(120));
      ok_ = code.has_value() && *code == 0;
      if (!ok_) {
        error_ = "promtool failed: " + promtool.output();
        return;
      }
    }
    port_ = testutil::UnusedPort();
    const std::string config = dir.Write("prometheus.yml", "global:\n  scrape_interval: 1m\n");
    process_ = std::make_unique<testutil::ChildProcess>(std::vector<std::string>{
        PrometheusBinary(), "--config.file=" + config, "--storage.tsdb.path=" + tsdb,
        "--storage.tsdb.retention.time=3650d",
        "--web.listen-address=127.0.0.1:" + std::to_string(port_)});
    ok_ = process_->WaitForOutput("Server is ready to receive web requests",
                                  std::chrono::seconds(60));
    if (!ok_) error_ = "prometheus did not start: " + process_->output();
  }
  ~PrometheusOracle() {
    if (process_) {
      process_->Signal(SIGTERM);
      if (!process_->Wait(std::chrono::seconds(20))) process_->Signal(SIGKILL);
    }
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  // The instant query `q` at `t`: label value of `by` (or "" without one) -> value.
  std::map<std::string, double> Query(const std::string& q, core::Timestamp t,
                                      const std::string& by) {
    std::map<std::string, double> out;
    auto res = http_.Do({.method = "GET",
                         .url = fmt::format("http://127.0.0.1:{}/api/v1/query?query={}&time={}",
                                            port_, UrlEncode(q), t.UnixSeconds())});
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    if (!res.ok()) return out;
    EXPECT_EQ(res->status, 200) << q << ": " << res->body;
    // Each result item's labels and value (the test reads Prometheus' JSON with RE2, as nines
    // reads every regex; captures are only needed here, so it uses RE2 directly).
    static const RE2 kItem(R"re(\{"metric":\{([^}]*)\},"value":\[[0-9.]+,"([^"]+)"\]\})re");
    const RE2 by_label("\"" + RE2::QuoteMeta(by) + "\":\"([^\"]*)\"");
    re2::StringPiece input(res->body);
    std::string labels, value;
    while (RE2::FindAndConsume(&input, kItem, &labels, &value)) {
      std::string key;
      if (!by.empty()) RE2::PartialMatch(labels, by_label, &key);
      out[key] = std::stod(value);
    }
    return out;
  }

 private:
  bool ok_ = false;
  std::string error_;
  int port_ = 0;
  std::unique_ptr<testutil::ChildProcess> process_;
  net::HttpClient http_;
};

// PromQL for the (total, bad) region-minutes of one SLO over `minutes` ending at the query time.
std::pair<std::string, std::string> Queries(const std::string& probe, int quorum, int64_t minutes,
                                            bool global) {
  const std::string sel = fmt::format("probe_success{{probe=\"{}\"}}", probe);
  const std::string r = fmt::format("count by (region) (count_over_time({}[1m]))", sel);
  const std::string f = fmt::format(
      "(count by (region) (min_over_time({}[1m]) == 0) or ({}) * 0)", sel, r);
  std::string counted, bad;
  if (quorum == 0) {
    counted = r;
    bad = fmt::format("(2 * {} > bool {})", f, r);
  } else {
    counted = fmt::format("({} >= {})", r, quorum);
    bad = fmt::format("(({} >= bool {}) and {})", f, quorum, counted);
  }
  const std::string range = fmt::format("[{}s:1m]", minutes * 60 - 1);
  std::string total_q = fmt::format("count_over_time({}{})", counted, range);
  std::string bad_q = fmt::format("sum_over_time({}{})", bad, range);
  if (global) {
    total_q = "sum(" + total_q + ")";
    bad_q = "sum(" + bad_q + ")";
  } else {
    total_q = "sum by (region) (" + total_q + ")";
    bad_q = "sum by (region) (" + bad_q + ")";
  }
  return {total_q, bad_q};
}

TEST(OracleTest, CountsBudgetsAndBurnRatesEqualPrometheus) {
  ASSERT_TRUE(std::filesystem::exists(PrometheusBinary()))
      << PrometheusBinary() << " is not installed: run scripts/install-deps.sh (Debian's "
      << "prometheus package, which also provides promtool)";
  ASSERT_TRUE(std::filesystem::exists(PromtoolBinary()))
      << PromtoolBinary() << " is not installed: run scripts/install-deps.sh";
  constexpr int64_t kMinutes = 2 * 1440;  // two days of history per scenario
  const int64_t first = kBaseMinute;
  std::vector<Scenario> scenarios;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    scenarios.push_back(RandomScenario(seed, first, kMinutes));
  }
  core::FakeClock clock(AtMinute(first));
  TestStore store(clock);
  // In time order, as agents send them (the store refuses what is older than its clock minus
  // the 2-hour out-of-order window; TestStore's clock follows what it wrote).
  std::vector<std::pair<core::Labels, core::Sample>> all;
  for (const Scenario& s : scenarios) {
    for (const auto& [region, locs] : s.samples) {
      for (const auto& [loc, samples] : locs) {
        const core::Labels labels = L({{"__name__", "probe_success"}, {"probe", s.probe},
                                       {"region", region}, {"location", loc}});
        for (const core::Sample& x : samples) all.push_back({labels, x});
      }
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second.timestamp_ms < b.second.timestamp_ms;
  });
  for (size_t i = 0; i < all.size(); i += 10'000) {
    store.Write({all.begin() + static_cast<ptrdiff_t>(i),
                 all.begin() + static_cast<ptrdiff_t>(std::min(all.size(), i + 10'000))});
  }
  testutil::TempDir dir;
  PrometheusOracle prom(dir, scenarios);
  ASSERT_TRUE(prom.ok()) << prom.error();

  // Two SLOs per scenario: majority quorum with a 1-day window, a fixed quorum of 2 with 12h.
  std::vector<SloRule> rules;
  for (const Scenario& s : scenarios) {
    SloRule majority = ProbeRule(s.probe + "-majority", fmt::format(R"({{probe="{}"}})", s.probe));
    majority.spec.window = slo::Window::Rolling(Duration::Days(1));
    SloRule fixed = ProbeRule(s.probe + "-q2", fmt::format(R"({{probe="{}"}})", s.probe), 2);
    fixed.spec.window = slo::Window::Rolling(Duration::Hours(12));
    rules.push_back(majority);
    rules.push_back(fixed);
  }
  SloEvaluator ev(*store, nullptr, {.write_back = false});
  ev.SetRules(rules);

  int checked = 0;
  // Evaluate at several whole minutes, in order (the first backfills, later ones are incremental).
  for (int64_t at : {int64_t{1440} + 7, int64_t{2000}, int64_t{2500}, kMinutes}) {
    const core::Timestamp now = AtMinute(first + at);
    auto conds = EvaluateConditions(ev, now);
    ASSERT_TRUE(conds.ok()) << conds.status().ToString();
    const std::vector<SloEvaluation> results = ev.Results();
    for (size_t k = 0; k < rules.size(); ++k) {
      const Scenario& s = scenarios[k / 2];
      const SloEvaluation& e = results[k];
      const int quorum = e.rule.spec.quorum;
      const double ratio = e.rule.spec.BudgetRatio();
      const int64_t window_minutes = e.rule.spec.window.rolling.nanos() / Duration::Minutes(1).nanos();
      std::vector<std::pair<int64_t, int>> windows = {{window_minutes, -1}};
      for (size_t w = 0; w < std::size(slo::kBurnRateWindows); ++w) {
        const int64_t wm = slo::kBurnRateWindows[w].nanos() / Duration::Minutes(1).nanos();
        if (wm <= at) windows.push_back({wm, static_cast<int>(w)});
      }
      for (auto [wm, burn_index] : windows) {
        for (bool global : {false, true}) {
          SCOPED_TRACE(fmt::format("{} at minute {} over {} minutes{}", e.rule.spec.name, at, wm,
                                   global ? " (global)" : ""));
          auto [total_q, bad_q] = Queries(s.probe, quorum, wm, global);
          std::map<std::string, double> total = prom.Query(total_q, now, global ? "" : "region");
          std::map<std::string, double> bad = prom.Query(bad_q, now, global ? "" : "region");
          for (const slo::SloReport& r : e.reports) {
            if ((r.region == "global") != global) continue;
            const std::string key = global ? "" : r.region;
            const int64_t want_total = total.contains(key) ? std::llround(total[key]) : 0;
            const int64_t want_bad = bad.contains(key) ? std::llround(bad[key]) : 0;
            if (burn_index < 0) {
              EXPECT_EQ(r.tally.total, want_total) << r.region;
              EXPECT_EQ(r.tally.bad(), want_bad) << r.region;
              // Budgets: a probe SLI's is the whole window's, one event per minute and region
              // (whatever share of it has data); consumed from the oracle's counts.
              const double regions = global ? static_cast<double>(e.reports.size() - 1) : 1.0;
              const double budget = ratio * static_cast<double>(window_minutes) * regions;
              EXPECT_DOUBLE_EQ(r.budget_total, budget);
              EXPECT_DOUBLE_EQ(r.budget_consumed, static_cast<double>(want_bad));
              EXPECT_DOUBLE_EQ(r.budget_remaining, budget - static_cast<double>(want_bad));
            } else {
              const slo::BurnRate& b = r.burn_rates[static_cast<size_t>(burn_index)];
              EXPECT_EQ(b.tally.total, want_total) << r.region;
              EXPECT_EQ(b.tally.bad(), want_bad) << r.region;
              if (want_total > 0) {
                ASSERT_TRUE(b.rate.has_value());
                EXPECT_DOUBLE_EQ(*b.rate, static_cast<double>(want_bad) /
                                              static_cast<double>(want_total) / ratio);
              }
            }
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 400);
}

}  // namespace
}  // namespace nines::rules
