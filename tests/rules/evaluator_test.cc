#include "rules/evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "rules/alerts.h"
#include "tests/rules/test_util.h"

namespace nines::rules {
namespace {

using core::Duration;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::AtMinute;
using testing::EvaluateConditions;
using testing::kBaseMinute;
using testing::L;
using testing::MinuteMs;
using testing::ProbeRule;
using testing::Sel;
using testing::TestStore;

constexpr int64_t S = kBaseMinute;  // minute 0 of the scenario
constexpr int64_t kDay = 1440;
constexpr int64_t k30d = 30 * kDay;

const slo::SloReport* Report(const std::vector<SloEvaluation>& results, std::string_view slo,
                             std::string_view region) {
  for (const auto& e : results) {
    if (e.rule.spec.name != slo) continue;
    for (const auto& r : e.reports) {
      if (r.region == region) return &r;
    }
  }
  return nullptr;
}
// A pointer into a temporary would dangle: keep the results in a variable.
const slo::SloReport* Report(std::vector<SloEvaluation>&& results, std::string_view slo,
                             std::string_view region) = delete;

const ActiveCondition* Find(const std::vector<ActiveCondition>& cs, std::string_view alertname,
                            std::string_view region, std::string_view severity = "") {
  for (const auto& c : cs) {
    if (c.labels.Get("alertname") == alertname && c.labels.Get("region") == region &&
        (severity.empty() || c.labels.Get("severity") == severity)) {
      return &c;
    }
  }
  return nullptr;
}

double Rate(const slo::SloReport& r, Duration w) {
  const slo::BurnRate* b = r.BurnRateOver(w);
  return b != nullptr && b->rate ? *b->rate : -1;
}

// The 30-day scenario: three regions with locations a, b, c probing every minute (at second 30)
// over minutes [0, 30d + 60):
//  - eu-west-1: a and b fail for 40 minutes on day 10 (2 of 3: 40 bad minutes); c alone fails for
//    30 minutes on day 12 (a prober's blip: good); a, b and c all fail in the last 30 minutes
//    [30d + 30, 30d + 60) (the current outage).
//  - us-east-1: a alone fails for 15 minutes on day 5 (good); every location stops reporting at
//    minute 30d + 50 (the last 10 minutes have no data).
//  - ap-southeast-2: no location reports for 120 minutes on day 20 (unknown minutes); b and c
//    fail for 10 minutes on day 25 (10 bad minutes).
class EvaluatorScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* regions[] = {"us-east-1", "eu-west-1", "ap-southeast-2"};
    const char* locations[] = {"a", "b", "c"};
    for (int64_t day = 0; day * kDay < k30d + 60; ++day) {
      std::vector<std::pair<core::Labels, core::Sample>> samples;
      for (int64_t m = day * kDay; m < std::min((day + 1) * kDay, k30d + 60); ++m) {
        for (const char* region : regions) {
          for (const char* loc : locations) {
            std::string_view r = region, l = loc;
            double v = 1;
            if (r == "eu-west-1") {
              if (m >= 10 * kDay + 100 && m < 10 * kDay + 140 && l != "c") v = 0;
              if (m >= 12 * kDay + 300 && m < 12 * kDay + 330 && l == "c") v = 0;
              if (m >= k30d + 30) v = 0;
            } else if (r == "us-east-1") {
              if (m >= 5 * kDay && m < 5 * kDay + 15 && l == "a") v = 0;
              if (m >= k30d + 50) continue;
            } else {
              if (m >= 20 * kDay && m < 20 * kDay + 120) continue;
              if (m >= 25 * kDay && m < 25 * kDay + 10 && l != "a") v = 0;
            }
            samples.push_back({L({{"__name__", "probe_success"}, {"probe", "api"},
                                  {"region", region}, {"location", loc}}),
                               core::Sample{MinuteMs(S + m) + 30'000, v}});
          }
        }
      }
      store_.Write(std::move(samples));  // as it arrived, minute by minute
    }
  }

  std::unique_ptr<SloEvaluator> NewEvaluator(SloEvaluatorOptions options = {}) {
    return std::make_unique<SloEvaluator>(
        *store_, [this] { return store_->NewAppender(); }, options);
  }

  core::FakeClock clock_{AtMinute(S)};
  TestStore store_{clock_};
};

TEST_F(EvaluatorScenarioTest, ThirtyDaysOfProbesGiveHandDerivedBudgetsBurnRatesAndAlerts) {
  auto ev = NewEvaluator();
  SloRule rule = ProbeRule("api-availability", R"({probe="api"})");
  rule.spec.labels = L({{"team", "platform"}});
  ev->SetRules({rule});

  // Before the current outage: 10 s into minute 30d + 30, the window is [30, 30d + 30).
  clock_.Set(AtMinute(S + k30d + 30, 10));
  auto conds = EvaluateConditions(*ev, clock_.Now());
  ASSERT_TRUE(conds.ok()) << conds.status().ToString();
  auto results = ev->Results();
  const slo::SloReport* eu = Report(results, "api-availability", "eu-west-1");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, k30d);
  EXPECT_EQ(eu->tally.bad(), 40);  // day 10; c's lone blip on day 12 is not a quorum
  EXPECT_NEAR(eu->budget_total, 0.002 * k30d, 1e-9);  // 86.4 minutes
  EXPECT_NEAR(eu->budget_remaining, 86.4 - 40, 1e-9);
  EXPECT_EQ(eu->status, slo::SloStatus::kHealthy);
  EXPECT_EQ(Rate(*eu, Duration::Hours(1)), 0);
  EXPECT_EQ(Find(*conds, "SloBurnRate", "eu-west-1"), nullptr);
  const slo::SloReport* ap = Report(results, "api-availability", "ap-southeast-2");
  ASSERT_NE(ap, nullptr);
  EXPECT_EQ(ap->tally.total, k30d - 120);
  EXPECT_EQ(ap->tally.bad(), 10);
  EXPECT_DOUBLE_EQ(ap->coverage, (k30d - 120.0) / k30d);
  EXPECT_TRUE(conds->empty());

  // Then every minute for 30 minutes through the current outage (incremental cycles).
  for (int64_t m = 31; m <= 60; ++m) {
    clock_.Set(AtMinute(S + k30d + m, 10));
    conds = EvaluateConditions(*ev, clock_.Now());
    ASSERT_TRUE(conds.ok()) << conds.status().ToString();
  }
  // At 30d + 60 (+10 s): window [60, 30d + 60); eu's last 30 minutes are all bad.
  results = ev->Results();
  eu = Report(results, "api-availability", "eu-west-1");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, k30d);
  EXPECT_EQ(eu->tally.bad(), 70);
  ASSERT_TRUE(eu->sli.has_value());
  EXPECT_DOUBLE_EQ(*eu->sli, (k30d - 70.0) / k30d);
  EXPECT_NEAR(eu->budget_remaining, 86.4 - 70, 1e-9);
  ASSERT_TRUE(eu->budget_remaining_ratio.has_value());
  EXPECT_NEAR(*eu->budget_remaining_ratio, 16.4 / 86.4, 1e-12);
  // Burn rates: (bad / total) / 0.002.
  EXPECT_NEAR(Rate(*eu, Duration::Minutes(5)), 1 / 0.002, 1e-9);           // 5 of 5
  EXPECT_NEAR(Rate(*eu, Duration::Minutes(30)), 1 / 0.002, 1e-9);          // 30 of 30
  EXPECT_NEAR(Rate(*eu, Duration::Hours(1)), 30.0 / 60 / 0.002, 1e-9);     // 250
  EXPECT_NEAR(Rate(*eu, Duration::Hours(6)), 30.0 / 360 / 0.002, 1e-9);    // 41.67
  EXPECT_NEAR(Rate(*eu, Duration::Days(1)), 30.0 / 1440 / 0.002, 1e-9);    // 10.42
  EXPECT_NEAR(Rate(*eu, Duration::Days(3)), 30.0 / 4320 / 0.002, 1e-9);    // 3.47
  EXPECT_EQ(eu->status, slo::SloStatus::kBurning);
  // Exhaustion at the 1h burn: now + remaining_ratio * 30d / 250 = now + 32.8 minutes.
  ASSERT_TRUE(eu->exhaustion_at_1h.has_value());
  EXPECT_NEAR((*eu->exhaustion_at_1h - clock_.Now()).SecondsDouble(),
              16.4 / 86.4 * k30d * 60 / 250, 1e-3);
  // All four burn-rate rules fire for eu (14.4x, 6x, 3x, 1x are all exceeded on both windows):
  // one condition per severity, the fastest pair speaking for it, and the ticket is not raised
  // while the page of the same SLO and region fires (one outage, one alert per region).
  int burn_conditions = 0;
  for (const ActiveCondition& c : *conds) {
    burn_conditions += c.labels.Get("alertname") == "SloBurnRate" &&
                       c.labels.Get("region") == "eu-west-1";
  }
  EXPECT_EQ(burn_conditions, 1);
  EXPECT_EQ(Find(*conds, "SloBurnRate", "eu-west-1", "ticket"), nullptr);
  for (const slo::AlertCondition& a : eu->alerts) EXPECT_TRUE(a.firing);  // the report says so
  {
    const ActiveCondition* c = Find(*conds, "SloBurnRate", "eu-west-1", "page");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->labels.Get("slo"), "api-availability");
    EXPECT_EQ(c->labels.Get("service"), "api");
    EXPECT_EQ(c->labels.Get("team"), "platform");
    EXPECT_FALSE(c->labels.Has("long_window"));
  }
  const ActiveCondition* page = Find(*conds, "SloBurnRate", "eu-west-1", "page");
  EXPECT_EQ(page->annotations.at("firing_window_pairs"), "1h/5m, 6h/30m");
  EXPECT_NEAR(page->value, 250, 1e-9);
  EXPECT_EQ(page->annotations.at("long_burn_rate"), "250");
  EXPECT_EQ(page->annotations.at("short_burn_rate"), "500");
  EXPECT_EQ(page->annotations.at("factor"), "14.4");
  EXPECT_EQ(page->annotations.at("budget_remaining"), "16.4");
  EXPECT_EQ(page->annotations.at("window_pair"), "1h/5m");
  EXPECT_NE(page->annotations.at("exhaustion_at_1h_burn"), "never");
  EXPECT_EQ(Find(*conds, "SloErrorBudgetExhausted", "eu-west-1"), nullptr);

  // us-east-1: 10 minutes without data: SloNoData, 10 minutes since its last data.
  const ActiveCondition* nodata = Find(*conds, "SloNoData", "us-east-1");
  ASSERT_NE(nodata, nullptr);
  EXPECT_DOUBLE_EQ(nodata->value, 10);
  EXPECT_EQ(Find(*conds, "SloNoData", "eu-west-1"), nullptr);
  const slo::SloReport* us = Report(results, "api-availability", "us-east-1");
  EXPECT_EQ(us->tally.total, k30d - 10);
  EXPECT_EQ(us->tally.bad(), 0);

  // Global: summed counts. total = us 30d-10 + eu 30d + ap 30d-120; bad = 70 + 10.
  const slo::SloReport* global = Report(results, "api-availability", "global");
  ASSERT_NE(global, nullptr);
  EXPECT_EQ(global->tally.total, 3 * k30d - 130);
  EXPECT_EQ(global->tally.bad(), 80);
  EXPECT_NEAR(global->budget_total, 0.002 * 3 * k30d, 1e-9);  // a minute of each region is one
  // Last hour: eu 60 covered (30 bad), ap 60, us 50.
  EXPECT_NEAR(Rate(*global, Duration::Hours(1)), 30.0 / 170 / 0.002, 1e-9);
  EXPECT_NEAR(Rate(*global, Duration::Minutes(5)), 5.0 / 10 / 0.002, 1e-9);  // us has none
  // Global burns at 14.4x only because eu does: eu's page covers it, so global raises nothing.
  EXPECT_EQ(global->status, slo::SloStatus::kBurning);
  EXPECT_EQ(Find(*conds, "SloBurnRate", "global"), nullptr);

  // The state was written back to the store at `now`.
  const int64_t now_ms = clock_.Now().UnixMillis();
  auto read = store_->Select(
      Sel(R"(nines_slo_burn_rate{slo="api-availability",region="eu-west-1",window="1h"})"),
      now_ms, now_ms);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  ASSERT_EQ((*read)[0].samples.size(), 1u);
  EXPECT_NEAR((*read)[0].samples[0].value, 250, 1e-9);
  read = store_->Select(Sel(R"(nines_slo_sli{slo="api-availability",region="global"})"), now_ms,
                        now_ms);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].labels.Get("window"), "30d");
  EXPECT_DOUBLE_EQ((*read)[0].samples[0].value, (3.0 * k30d - 210) / (3 * k30d - 130));
  read = store_->Select(
      Sel(R"(nines_slo_error_budget_remaining_events{slo="api-availability",region="eu-west-1"})"),
      now_ms, now_ms);
  ASSERT_TRUE(read.ok() && read->size() == 1u);
  EXPECT_NEAR((*read)[0].samples[0].value, 16.4, 1e-9);
  // 31 cycles wrote 31 samples of each series.
  read = store_->Select(
      Sel(R"(nines_slo_coverage{slo="api-availability",region="ap-southeast-2"})"), 0, now_ms);
  ASSERT_TRUE(read.ok() && read->size() == 1u);
  EXPECT_EQ((*read)[0].samples.size(), 31u);

  // A rebuilt evaluator (a restart) computes the same from the store in one backfill.
  auto again = NewEvaluator({.write_back = false});
  again->SetRules({rule});
  auto conds2 = EvaluateConditions(*again, clock_.Now());
  ASSERT_TRUE(conds2.ok());
  EXPECT_EQ(conds2->size(), conds->size());
  const std::vector<SloEvaluation> results2 = again->Results();
  const slo::SloReport* eu2 = Report(results2, "api-availability", "eu-west-1");
  ASSERT_NE(eu2, nullptr);
  EXPECT_EQ(eu2->tally.good, eu->tally.good);
  EXPECT_EQ(eu2->tally.total, eu->tally.total);

  // 20 more minutes: eu's outage goes on in the store; 86.4 - 70 - 16 = 0.4 left ... and at 17
  // more bad minutes the budget is spent.
  clock_.Set(AtMinute(S + k30d + 80, 10));  // they have arrived by now
  {
    auto app = store_->NewAppender();
    for (int64_t m = k30d + 60; m < k30d + 80; ++m) {
      for (const char* loc : {"a", "b", "c"}) {
        ASSERT_TRUE(app->Append(L({{"__name__", "probe_success"}, {"probe", "api"},
                                   {"region", "eu-west-1"}, {"location", loc}}),
                                MinuteMs(S + m) + 30'000, 0)
                        .ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  conds = EvaluateConditions(*ev, clock_.Now());
  ASSERT_TRUE(conds.ok());
  results = ev->Results();
  eu = Report(results, "api-availability", "eu-west-1");
  EXPECT_EQ(eu->tally.bad(), 90);
  EXPECT_EQ(eu->status, slo::SloStatus::kExhausted);
  const ActiveCondition* exhausted = Find(*conds, "SloErrorBudgetExhausted", "eu-west-1");
  ASSERT_NE(exhausted, nullptr);
  EXPECT_NEAR(exhausted->value, (86.4 - 90) / 86.4, 1e-12);
  EXPECT_EQ(exhausted->annotations.at("exhaustion_at_1h_burn"), clock_.Now().ToRfc3339());
  // Everyone else stopped reporting 20 minutes ago, so now ap has no data too.
  EXPECT_NE(Find(*conds, "SloNoData", "ap-southeast-2"), nullptr);
}

class EvaluatorTest : public ::testing::Test {
 protected:
  void WriteMinutes(std::string region, std::string loc, int64_t from, int64_t to, double v) {
    std::vector<std::pair<core::Labels, core::Sample>> batch;
    for (int64_t m = from; m < to; ++m) {
      batch.push_back({L({{"__name__", "probe_success"}, {"probe", "api"}, {"region", region},
                          {"location", loc}}),
                       {MinuteMs(m) + 30'000, v}});
    }
    store_.Write(batch);
  }
  core::FakeClock clock_{AtMinute(S)};
  TestStore store_{clock_};
};

TEST_F(EvaluatorTest, ReloadKeepsUnchangedCountsRebuildsChangedAndDropsRemoved) {
  // The store, counting the series resolutions and reads made through it.
  class CountingReader final : public testing::WrappingReader {
   public:
    explicit CountingReader(store::Reader& r) : WrappingReader(r, /*tracked=*/true) {}
    int reads = 0;
    core::Status OnRead() override {
      ++reads;
      return core::Status::Ok();
    }
  };
  WriteMinutes("eu", "a", S, S + 60, 1);
  WriteMinutes("us", "a", S, S + 60, 1);
  CountingReader reader(*store_);
  SloEvaluator ev(reader, nullptr, {.write_back = false});
  SloRule a = ProbeRule("a", R"({probe="api"})");
  SloRule b = ProbeRule("b", R"({probe="api"})");
  SloRule c = ProbeRule("c", R"({probe="api"})");
  ev.SetRules({a, b, c});
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 60)).ok());
  SloRule a2 = a;
  a2.spec.objective = 99;  // not data-defining: kept, new objective applied
  a2.spec.description = "changed";
  SloRule b2 = b;
  b2.source.selector = Sel(R"({probe="api",region="us"})");  // data-defining: rebuilt
  // A kept SLO reads nothing when nothing changed in the store.
  ev.SetRules({a2});
  reader.reads = 0;
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 60, 20)).ok());
  EXPECT_EQ(reader.reads, 0);
  ev.SetRules({b2, a2});  // b back, changed; c removed
  auto results = ev.Results();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].rule.spec.name, "b");
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 60, 30)).ok());
  results = ev.Results();
  ASSERT_EQ(results.size(), 2u);
  const slo::SloReport* a_eu = Report(results, "a", "eu");
  ASSERT_NE(a_eu, nullptr);
  EXPECT_EQ(a_eu->tally.total, 60);  // kept from memory
  EXPECT_NEAR(a_eu->budget_total, 0.01 * k30d, 1e-9);  // the new objective
  EXPECT_EQ(results[1].rule.spec.description, "changed");
  EXPECT_EQ(Report(results, "b", "eu"), nullptr);  // rebuilt with the new selector: no eu
  const slo::SloReport* b_us = Report(results, "b", "us");
  ASSERT_NE(b_us, nullptr);
  EXPECT_EQ(b_us->tally.total, 60);
  EXPECT_EQ(Report(results, "c", "us"), nullptr);
  EXPECT_TRUE(std::none_of(results.begin(), results.end(),
                           [](const SloEvaluation& e) { return e.rule.spec.name == "c"; }));
}

// Issue 12: eu is probed from a and b (agents with heartbeats), quorum 2, and both see it
// failing from minute 10. Agent b (its probes and its heartbeats) dies at minute 20. The SLO
// must keep counting with a alone (reduced coverage), never go "no data", and keep its page.
TEST_F(EvaluatorTest, ALostProberCapsTheQuorumAndThePageStaysFiring) {
  auto heartbeat = [](std::string loc, int64_t from, int64_t to) {
    std::vector<std::pair<core::Labels, core::Sample>> batch;
    for (int64_t m = from; m < to; ++m) {
      for (int64_t sec : {0, 15, 30, 45}) {
        batch.push_back({L({{"__name__", "nines_agent_heartbeat"}, {"region", "eu"},
                            {"location", loc}}),
                         {MinuteMs(m) + sec * 1000, 1}});
      }
    }
    return batch;
  };
  WriteMinutes("eu", "a", S, S + 10, 1);
  WriteMinutes("eu", "b", S, S + 10, 1);
  WriteMinutes("eu", "a", S + 10, S + 40, 0);
  WriteMinutes("eu", "b", S + 10, S + 20, 0);
  store_.Write(heartbeat("a", S, S + 40));
  store_.Write(heartbeat("b", S, S + 20));  // last heartbeat 19:45
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  SloRule rule = ProbeRule("api", R"({probe="api"})", /*quorum=*/2);
  ev.SetRules({rule});
  for (int64_t m = S + 11; m <= S + 40; ++m) {
    SCOPED_TRACE(m - S);
    auto conds = EvaluateConditions(ev, AtMinute(m, 5));
    ASSERT_TRUE(conds.ok());
    EXPECT_NE(Find(*conds, "SloBurnRate", "eu", "page"), nullptr);
    EXPECT_EQ(Find(*conds, "SloNoData", "eu"), nullptr);
  }
  auto results = ev.Results();
  const slo::SloReport* eu = Report(results, "api", "eu");
  ASSERT_NE(eu, nullptr);
  // Minutes 20 and 21: b's last heartbeat (19:45) is under 2 minutes old, so b still counts as
  // alive and the quorum of 2 is not met: no data. From minute 22 a decides alone: bad.
  EXPECT_EQ(eu->tally.total, 38);
  EXPECT_EQ(eu->tally.bad(), 28);
  ASSERT_EQ(results[0].reduced_coverage.count("eu"), 1u);
  const ReducedCoverage& rc = results[0].reduced_coverage.at("eu");
  EXPECT_EQ(rc.quorum, 2);
  EXPECT_EQ(rc.live, 1);
  EXPECT_EQ(rc.lost, std::vector<std::string>{"b"});
  EXPECT_EQ(results[0].reduced_coverage.size(), 1u);  // eu only (the API shows it per region)
  // A backfill of the same minutes (a restart) counts exactly the same.
  SloEvaluator rebuilt(*store_, nullptr, {.write_back = false});
  rebuilt.SetRules({rule});
  ASSERT_TRUE(rebuilt.Evaluate(AtMinute(S + 40, 5)).ok());
  auto rebuilt_results = rebuilt.Results();
  const slo::SloReport* again = Report(rebuilt_results, "api", "eu");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->tally.total, 38);
  EXPECT_EQ(again->tally.bad(), 28);
  EXPECT_EQ(rebuilt.Results()[0].reduced_coverage.at("eu").lost, std::vector<std::string>{"b"});
  // b comes back: full coverage again.
  WriteMinutes("eu", "b", S + 40, S + 45, 0);
  WriteMinutes("eu", "a", S + 40, S + 45, 0);
  store_.Write(heartbeat("b", S + 40, S + 45));
  store_.Write(heartbeat("a", S + 40, S + 45));
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 45, 5)).ok());
  EXPECT_TRUE(ev.Results()[0].reduced_coverage.empty());
}

// A prober without heartbeats (the engine's own, a Prometheus) is never counted lost: a fixed
// quorum it misses stays no data, as before.
TEST_F(EvaluatorTest, AQuorumIsNotCappedWithoutHeartbeats) {
  WriteMinutes("eu", "a", S, S + 30, 0);
  WriteMinutes("eu", "b", S, S + 10, 0);
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  ev.SetRules({ProbeRule("api", R"({probe="api"})", /*quorum=*/2)});
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 30)).ok());
  auto results = ev.Results();
  const slo::SloReport* eu = Report(results, "api", "eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, 10);
  EXPECT_TRUE(ev.Results()[0].reduced_coverage.empty());
}

// A region that goes dark leaves its burn-rate alerts (and global's) undecided, so the tracker
// keeps them instead of resolving them by silence.
TEST_F(EvaluatorTest, BurnRateAlertsOfADarkRegionAreUndecided) {
  WriteMinutes("eu", "a", S, S + 20, 0);
  WriteMinutes("us", "a", S, S + 60, 1);
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  ev.SetRules({ProbeRule("api", R"({probe="api"})")});
  AlertTracker tracker;
  auto run = [&](int64_t minute) {
    ASSERT_TRUE(ev.Evaluate(AtMinute(minute, 5)).ok());
    tracker.Update("slo:api", Duration::Zero(), Duration::Zero(), ev.Results()[0].conditions,
                   AtMinute(minute, 5));
  };
  auto page = [&](std::string_view region) -> std::optional<Alert> {
    for (const Alert& a : tracker.Alerts()) {
      if (a.labels.Get("alertname") == "SloBurnRate" && a.labels.Get("region") == region &&
          a.labels.Get("severity") == "page") {
        return a;
      }
    }
    return std::nullopt;
  };
  run(S + 19);
  ASSERT_TRUE(page("eu").has_value());
  EXPECT_EQ(page("eu")->state, AlertState::kFiring);
  // Minute 55: eu has had no data for 35 minutes: even the 6h/30m page's short window is empty.
  for (int64_t m = S + 20; m <= S + 55; ++m) run(m);
  ASSERT_TRUE(page("eu").has_value());
  EXPECT_EQ(page("eu")->state, AlertState::kFiring);
  std::optional<Alert> held = page("eu");
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->annotations["no_data"], "true");
  // Only active conditions are listed as such.
  for (const ActiveCondition& c : ev.ActiveConditions()) EXPECT_FALSE(c.no_data);
}

// Issue 12: an SLO without its own regions counts only the declared ones; a typo'd region is
// counted apart, named as a warning, written as a metric, and never added to global.
TEST_F(EvaluatorTest, UndeclaredRegionsAreCountedApartAndNeverInGlobal) {
  WriteMinutes("eu", "a", S, S + 10, 1);
  WriteMinutes("eu-wset", "a", S, S + 10, 0);  // an agent's typo
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  rule.declared_regions = {"eu", "us"};
  SloEvaluator ev(*store_, [this] { return store_->NewAppender(); });
  ev.SetRules({rule});
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 10)).ok());
  auto results = ev.Results();
  EXPECT_EQ(Report(results, "api", "eu-wset"), nullptr);
  const slo::SloReport* global = Report(results, "api", "global");
  ASSERT_NE(global, nullptr);
  EXPECT_EQ(global->tally.total, 10);
  EXPECT_EQ(global->tally.bad(), 0);
  EXPECT_EQ(results[0].undeclared_samples, (std::map<std::string, int64_t>{{"eu-wset", 10}}));
  // New minutes add to the count; minutes already counted are not counted again.
  WriteMinutes("eu-wset", "a", S + 10, S + 12, 0);
  WriteMinutes("eu", "a", S + 10, S + 12, 1);
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 12)).ok());
  EXPECT_EQ(ev.Results()[0].undeclared_samples.at("eu-wset"), 12);
  auto written = store_->Select(
      Sel(R"(nines_slo_undeclared_region_samples_total{slo="api",region="eu-wset"})"), 0,
      INT64_MAX);
  ASSERT_TRUE(written.ok());
  ASSERT_EQ(written->size(), 1u);
  EXPECT_EQ((*written)[0].samples.back().value, 12);
  // Without declared regions (a config that declares none) every region counts, as before.
  rule.declared_regions.clear();
  ev.SetRules({rule});
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 12, 30)).ok());
  auto undeclared = ev.Results();
  EXPECT_NE(Report(undeclared, "api", "eu-wset"), nullptr);
}

TEST_F(EvaluatorTest, AnHourOfReplayedBacklogIsCountedAtTheNextCycle) {
  // eu has one location reporting every minute; its second location's agent was cut off for an
  // hour and replays its backlog (all failures) after the SLO counted that hour without it.
  WriteMinutes("eu", "a", S, S + 120, 1);
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  ev.SetRules({ProbeRule("api", R"({probe="api"})")});
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 120, 5)).ok());
  {
    auto results = ev.Results();
    EXPECT_EQ(Report(results, "api", "eu")->tally.bad(), 0);
  }
  WriteMinutes("eu", "b", S + 60, S + 120, 0);  // 1 of 2 failed: still good (majority of 2 is 2)
  WriteMinutes("eu", "c", S + 60, S + 120, 0);  // now 2 of 3 failed in each of those minutes
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 120, 15)).ok());
  const std::vector<SloEvaluation> results = ev.Results();
  const slo::SloReport* eu = Report(results, "api", "eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, 120);
  EXPECT_EQ(eu->tally.bad(), 60);
}

// The state is written when it can have changed: once per completed minute (not at every
// cycle within it), again when late samples change counted minutes, and after a reload that
// changes the numbers (the objective).
TEST_F(EvaluatorTest, StateIsWrittenOncePerMinuteAndAgainAfterLateDataOrAReload) {
  WriteMinutes("eu", "a", S, S + 10, 1);
  SloEvaluator ev(*store_, [this] { return store_->NewAppender(); });
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  ev.SetRules({rule});
  auto written = [this] {
    auto read = store_->Select(Sel(R"(nines_slo_sli{slo="api",region="eu"})"), 0,
                               MinuteMs(S + 100));
    std::vector<core::Sample> out;
    if (read.ok() && read->size() == 1) out = (*read)[0].samples;
    return out;
  };
  for (int sec : {5, 15, 25, 35}) ASSERT_TRUE(ev.Evaluate(AtMinute(S + 10, sec)).ok());
  ASSERT_EQ(written().size(), 1u);
  EXPECT_EQ(written()[0].timestamp_ms, AtMinute(S + 10, 5).UnixMillis());
  EXPECT_EQ(written()[0].value, 1);

  // Minute S + 10 completes (with a failure): the next cycle writes, the one after does not.
  WriteMinutes("eu", "a", S + 10, S + 11, 0);
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 11, 5)).ok());
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 11, 15)).ok());
  ASSERT_EQ(written().size(), 2u);
  EXPECT_EQ(written()[1].timestamp_ms, AtMinute(S + 11, 5).UnixMillis());
  EXPECT_DOUBLE_EQ(written()[1].value, 10.0 / 11);

  // A late sample for minute S + 5 turns it bad: written within the same minute.
  WriteMinutes("eu", "b", S + 5, S + 6, 0);
  WriteMinutes("eu", "c", S + 5, S + 6, 0);
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 11, 25)).ok());
  ASSERT_EQ(written().size(), 3u);
  EXPECT_DOUBLE_EQ(written()[2].value, 9.0 / 11);

  // A reload that changes the objective changes the budget series, not the counts: written.
  auto budget = [this] {
    auto read = store_->Select(
        Sel(R"(nines_slo_error_budget_total_events{slo="api",region="eu"})"), 0,
        MinuteMs(S + 100));
    return read.ok() && read->size() == 1 ? (*read)[0].samples : std::vector<core::Sample>{};
  };
  ASSERT_EQ(budget().size(), 3u);
  rule.spec.objective = 99;
  ev.SetRules({rule});
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 11, 35)).ok());
  ASSERT_EQ(budget().size(), 4u);
  EXPECT_NEAR(budget()[3].value, 0.01 * k30d, 1e-9);
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 11, 45)).ok());
  EXPECT_EQ(budget().size(), 4u);
}

// A region that never reported is "no data" only once the SLO has existed for no_data_for
// (5 minutes), and the alert counts the minutes since then, not the whole 30-day window: a fresh
// install whose agents have not delivered yet does not open a ticket within seconds.
TEST_F(EvaluatorTest, ARegionThatNeverReportedIsNoDataOnlyAfterNoDataFor) {
  WriteMinutes("eu", "a", S, S + 20, 1);
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  rule.spec.regions = {"eu", "ap"};
  ev.SetRules({rule});
  for (int64_t m = 10; m < 15; ++m) {
    auto conds = EvaluateConditions(ev, AtMinute(S + m, 1));
    ASSERT_TRUE(conds.ok()) << conds.status().ToString();
    EXPECT_EQ(Find(*conds, "SloNoData", "ap"), nullptr) << "minute " << m;
  }
  auto conds = EvaluateConditions(ev, AtMinute(S + 15, 1));
  ASSERT_TRUE(conds.ok());
  const ActiveCondition* ap = Find(*conds, "SloNoData", "ap");
  ASSERT_NE(ap, nullptr);
  EXPECT_EQ(ap->value, 5);
  EXPECT_EQ(ap->annotations.at("no_data_minutes"), "5");
  EXPECT_EQ(Find(*conds, "SloNoData", "eu"), nullptr);
}

TEST_F(EvaluatorTest, NoDataBadCountsOnlyFromWhenTheSloFirstExistedOrHadData) {
  // A `no_data: bad` SLO over the calendar month, on an empty store, first evaluated on
  // 2026-12-07T06:10Z: the 9,010 minutes of December before nines knew the SLO are not its
  // no-data minutes (they were all counted bad before).
  const core::Timestamp start = core::Timestamp::FromUnixSeconds(1796623800);  // 2026-12-07T06:10Z
  ASSERT_EQ(start.ToRfc3339(), "2026-12-07T06:10:00.000Z");
  const int64_t m0 = slo::MinuteOf(start);
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  rule.spec.window = slo::Window::Calendar(slo::CalendarUnit::kMonth, "UTC");
  rule.spec.no_data = slo::NoDataPolicy::kBad;
  rule.spec.regions = {"eu"};
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  ev.SetRules({rule});
  ASSERT_TRUE(ev.Evaluate(start).ok());
  auto first = ev.Results();
  const slo::SloReport* eu = Report(first, "api", "eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, 0);
  EXPECT_EQ(eu->status, slo::SloStatus::kNoData);
  // Ten minutes later: ten bad minutes, in the budget and in the burn rates.
  ASSERT_TRUE(ev.Evaluate(AtMinute(m0 + 10, 5)).ok());
  auto results = ev.Results();
  eu = Report(results, "api", "eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, 10);
  EXPECT_EQ(eu->tally.bad(), 10);
  EXPECT_EQ(eu->BurnRateOver(Duration::Days(3))->tally.total, 10);
  // Then data arrives, and a restart (a new evaluator) finds the first data minute in the store:
  // the minutes before it are still not counted.
  WriteMinutes("eu", "a", m0 + 20, m0 + 30, 1);
  SloEvaluator restarted(*store_, nullptr, {.write_back = false});
  restarted.SetRules({rule});
  ASSERT_TRUE(restarted.Evaluate(AtMinute(m0 + 40, 5)).ok());
  auto after_restart = restarted.Results();
  eu = Report(after_restart, "api", "eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, 20);  // 10 good, then 10 minutes without data: bad
  EXPECT_EQ(eu->tally.bad(), 10);
}

TEST_F(EvaluatorTest, NoDataBadCountsTheWholeWindowWhenTheSeriesHadSamplesBeforeIt) {
  // The SLO's probes reported in November and stopped: December's minutes without data are
  // missing data (agents or nines down), counted bad from the month's first minute.
  const int64_t dec1 = slo::MinuteOf(core::Timestamp::FromUnixSeconds(1796083200));
  ASSERT_EQ(slo::MinuteStart(dec1).ToRfc3339(), "2026-12-01T00:00:00.000Z");
  WriteMinutes("eu", "a", dec1 - 60, dec1 - 50, 1);
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  rule.spec.window = slo::Window::Calendar(slo::CalendarUnit::kMonth, "UTC");
  rule.spec.no_data = slo::NoDataPolicy::kBad;
  rule.spec.regions = {"eu"};
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  ev.SetRules({rule});
  ASSERT_TRUE(ev.Evaluate(AtMinute(dec1 + 100, 5)).ok());
  auto results = ev.Results();
  const slo::SloReport* eu = Report(results, "api", "eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_EQ(eu->tally.total, 100);
  EXPECT_EQ(eu->tally.bad(), 100);
}

TEST_F(EvaluatorTest, TheTicketFiresOnceThePageOfTheSameSloAndRegionHasResolved) {
  // Two clean days in eu, then 30 bad minutes: while they burn, only the page is raised; 90
  // minutes later the pages have resolved (their 5m and 30m windows are clean) and the slow burn
  // (1d/2h: 30/1440/0.002 = 10.4x and 125x over 3x) raises its ticket.
  const int64_t bad_from = S + 2 * kDay;
  WriteMinutes("eu", "a", S, bad_from, 1);
  WriteMinutes("eu", "a", bad_from, bad_from + 30, 0);
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  ev.SetRules({ProbeRule("api", R"({probe="api"})")});
  auto conds = EvaluateConditions(ev, AtMinute(bad_from + 30, 5));
  ASSERT_TRUE(conds.ok()) << conds.status().ToString();
  EXPECT_NE(Find(*conds, "SloBurnRate", "eu", "page"), nullptr);
  EXPECT_EQ(Find(*conds, "SloBurnRate", "eu", "ticket"), nullptr);
  WriteMinutes("eu", "a", bad_from + 30, bad_from + 120, 1);
  conds = EvaluateConditions(ev, AtMinute(bad_from + 120, 5));
  ASSERT_TRUE(conds.ok());
  EXPECT_EQ(Find(*conds, "SloBurnRate", "eu", "page"), nullptr);
  const ActiveCondition* ticket = Find(*conds, "SloBurnRate", "eu", "ticket");
  ASSERT_NE(ticket, nullptr);
  EXPECT_EQ(ticket->annotations.at("window_pair"), "1d/2h");
}

TEST_F(EvaluatorTest, GlobalAlertsOnlyWhenNoRegionsAlertExplainsIt) {
  // Three regions each fail 3 of the last 60 minutes at different times, under a min_events
  // guard of 100 per long window: no region may page on its 60 minutes, global (180) does.
  const int64_t end = S + 2 * kDay;
  const char* regions[] = {"eu", "us", "ap"};
  std::vector<std::pair<core::Labels, core::Sample>> batch;
  for (int64_t m = S; m < end; ++m) {
    for (int k = 0; k < 3; ++k) {
      const int64_t bad_from = end - 60 + 20 * k;
      const bool bad = (m >= bad_from && m < bad_from + 3) || m >= end - 2;  // and the last 2
      batch.push_back({L({{"__name__", "probe_success"}, {"probe", "api"}, {"region", regions[k]},
                          {"location", "a"}}),
                       {MinuteMs(m) + 30'000, bad ? 0.0 : 1.0}});
    }
  }
  store_.Write(batch);
  SloRule rule = ProbeRule("api", R"({probe="api"})");
  rule.spec.alerting.rules = {slo::DefaultBurnRateRules()[0]};  // the 1h/5m page only
  rule.spec.alerting.min_events = 100;
  SloEvaluator ev(*store_, nullptr, {.write_back = false});
  ev.SetRules({rule});
  auto conds = EvaluateConditions(ev, AtMinute(end, 5));
  ASSERT_TRUE(conds.ok()) << conds.status().ToString();
  for (const char* region : {"eu", "us", "ap"}) {
    EXPECT_EQ(Find(*conds, "SloBurnRate", region), nullptr) << region;
  }
  EXPECT_NE(Find(*conds, "SloBurnRate", "global", "page"), nullptr);
  // Without the guard every region pages, and global says nothing more.
  rule.spec.alerting.min_events = 0;
  ev.SetRules({rule});
  conds = EvaluateConditions(ev, AtMinute(end, 15));
  ASSERT_TRUE(conds.ok());
  for (const char* region : {"eu", "us", "ap"}) {
    EXPECT_NE(Find(*conds, "SloBurnRate", region, "page"), nullptr) << region;
  }
  EXPECT_EQ(Find(*conds, "SloBurnRate", "global"), nullptr);
}

// Every window is exact whatever its length: with a raw retention of 2 days, SLOs over a rolling
// 20 days and over the calendar quarter count what raw retention dropped from the minute rollups,
// when built at the end (an SLO added today), after a reload that changes it, and after a
// restart, exactly as an evaluator that counted every day as it came.
TEST(LongWindowTest, WindowsLongerThanRawRetentionAreCountedWholeFromTheMinuteRollups) {
  testutil::TempDir dir;
  core::FakeClock clock(AtMinute(S));
  store::StoreOptions options;
  options.dir = dir.File("tsdb");
  options.raw_retention = Duration::Days(2);
  auto opened = store::OpenStore(options, clock);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<store::Store> store = std::move(*opened);

  // Two locations probing eu every minute (at second 30) for 20 days: both fail for 30 minutes
  // on day 1 (30 bad), a alone for 10 minutes on day 5 (good by majority, bad with quorum 1),
  // both for 7 minutes on day 19 (within the raw tier at the end).
  constexpr int64_t kDays = 20;
  auto value = [](int64_t m, std::string_view loc) {
    if (m >= kDay + 100 && m < kDay + 130) return 0.0;
    if (m >= 5 * kDay && m < 5 * kDay + 10 && loc == "a") return 0.0;
    if (m >= 19 * kDay + 600 && m < 19 * kDay + 607) return 0.0;
    return 1.0;
  };
  SloRule rolling = ProbeRule("rolling", R"({probe="api"})");
  rolling.spec.window = slo::Window::Rolling(Duration::Days(kDays));
  SloRule quarter = ProbeRule("quarter", R"({probe="api"})");
  quarter.spec.window = slo::Window::Calendar(slo::CalendarUnit::kQuarter, "UTC");
  // The evaluator that ran all along: one cycle after each day is written.
  SloEvaluator along(*store, nullptr, {.write_back = false});
  along.SetRules({rolling, quarter});
  for (int64_t day = 0; day < kDays; ++day) {
    // An hour per commit, with the clock at its end, as agents deliver them.
    for (int64_t h = day * kDay; h < (day + 1) * kDay; h += 60) {
      clock.Set(AtMinute(S + h + 60));
      auto app = store->NewAppender();
      for (int64_t m = h; m < h + 60; ++m) {
        for (const char* loc : {"a", "b"}) {
          ASSERT_TRUE(app->Append(L({{"__name__", "probe_success"}, {"probe", "api"},
                                     {"region", "eu"}, {"location", loc}}),
                                  MinuteMs(S + m) + 30'000, value(m, loc))
                          .ok());
        }
      }
      auto committed = app->Commit();
      ASSERT_TRUE(committed.ok());
      ASSERT_EQ(committed->appended, 120);
    }
    clock.Set(AtMinute(S + (day + 1) * kDay, 5));
    ASSERT_TRUE(along.Evaluate(AtMinute(S + (day + 1) * kDay, 5)).ok());
  }
  ASSERT_TRUE(store->EnforceRetention().ok());
  const core::Timestamp now = AtMinute(S + kDays * kDay, 5);
  // The raw tier now holds the last 2 days only.
  auto raw = store->Select(Sel(R"(probe_success{location="a"})"), 0, now.UnixMillis());
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->size(), 1u);
  EXPECT_LE(static_cast<int64_t>((*raw)[0].samples.size()), 2 * kDay + 1);

  auto expect_whole = [&](SloEvaluator& ev, int64_t bad, const char* what) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(ev.Evaluate(now).ok());
    auto results = ev.Results();
    for (const char* name : {"rolling", "quarter"}) {
      SCOPED_TRACE(name);
      const slo::SloReport* eu = Report(results, name, "eu");
      ASSERT_NE(eu, nullptr);
      EXPECT_EQ(eu->tally.total, kDays * kDay);
      EXPECT_EQ(eu->tally.bad(), bad);
    }
  };
  ASSERT_TRUE(along.Evaluate(now).ok());
  expect_whole(along, 37, "counted along");

  // An SLO added today: its backfill reads days 0..18 from the minute rollups.
  SloEvaluator added(*store, nullptr, {.write_back = false});
  added.SetRules({rolling, quarter});
  expect_whole(added, 37, "added today");
  // The same numbers, burn rates included, as the evaluator that ran all along.
  auto a = along.Results(), b = added.Results();
  for (const char* name : {"rolling", "quarter"}) {
    const slo::SloReport* x = Report(a, name, "eu");
    const slo::SloReport* y = Report(b, name, "eu");
    ASSERT_TRUE(x != nullptr && y != nullptr);
    EXPECT_EQ(x->tally.good, y->tally.good);
    EXPECT_DOUBLE_EQ(x->coverage, y->coverage);
    EXPECT_DOUBLE_EQ(x->budget_remaining, y->budget_remaining);
    for (size_t i = 0; i < x->burn_rates.size(); ++i) {
      EXPECT_EQ(x->burn_rates[i].tally.total, y->burn_rates[i].tally.total);
      EXPECT_EQ(x->burn_rates[i].tally.bad(), y->burn_rates[i].tally.bad());
    }
  }

  // A reload that changes the data-defining quorum rebuilds from the rollups too: a's lone
  // 10 minutes on day 5 are bad with quorum 1.
  SloRule rolling1 = rolling, quarter1 = quarter;
  rolling1.spec.quorum = quarter1.spec.quorum = 1;
  added.SetRules({rolling1, quarter1});
  expect_whole(added, 47, "reloaded with quorum 1");

  // A restart: the store reopened from its directory, a new evaluator.
  store.reset();
  opened = store::OpenStore(options, clock);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store = std::move(*opened);
  SloEvaluator restarted(*store, nullptr, {.write_back = false});
  restarted.SetRules({rolling, quarter});
  expect_whole(restarted, 37, "after a restart");
}

TEST_F(EvaluatorTest, AReadErrorKeepsThePreviousConditions) {
  // A reader that fails on demand, wrapping the store.
  class FlakyReader final : public testing::WrappingReader {
   public:
    explicit FlakyReader(store::Reader& r) : WrappingReader(r, /*tracked=*/false) {}
    bool fail = false;
    core::Status OnRead() override {
      return fail ? core::UnavailableError("disk on fire") : core::Status::Ok();
    }
  };
  WriteMinutes("eu", "a", S, S + 10, 0);
  FlakyReader reader(*store_);
  SloEvaluator ev(reader, nullptr, {.write_back = false});
  ev.SetRules({ProbeRule("api", R"({probe="api"})")});
  auto conds = EvaluateConditions(ev, AtMinute(S + 10));
  ASSERT_TRUE(conds.ok());
  ASSERT_NE(Find(*conds, "SloBurnRate", "eu", "page"), nullptr);
  reader.fail = true;
  auto failed = EvaluateConditions(ev, AtMinute(S + 11));
  EXPECT_EQ(failed.status().code(), core::StatusCode::kInternal);
  EXPECT_THAT(failed.status().message(), HasSubstr("disk on fire"));
  EXPECT_THAT(ev.Results()[0].error, HasSubstr("disk on fire"));
  reader.fail = false;
  conds = EvaluateConditions(ev, AtMinute(S + 12));
  ASSERT_TRUE(conds.ok());
  EXPECT_NE(Find(*conds, "SloBurnRate", "eu", "page"), nullptr);
}

}  // namespace
}  // namespace nines::rules
