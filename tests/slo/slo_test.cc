#include "slo/slo.h"

#include <gtest/gtest.h>

namespace nines::slo {
namespace {

using core::Duration;
using core::Timestamp;

constexpr int64_t kStart = 29'000'000;  // a minute index

// A region series of one-event minutes: `bad` minutes [bad_from, bad_from + bad_len), the rest
// good, `n` minutes from kStart.
BucketSeries Minutes(int64_t n, int64_t bad_from = -1, int64_t bad_len = 0) {
  BucketSeries s{kStart, {}};
  for (int64_t i = 0; i < n; ++i) {
    bool bad = i >= bad_from && i < bad_from + bad_len;
    s.buckets.push_back(Bucket::Events(bad ? 0 : 1, 1));
  }
  return s;
}

Timestamp At(int64_t minute) { return MinuteStart(kStart + minute); }

SloSpec Probe() {
  SloSpec s;
  s.name = "api-availability";
  return s;
}

const AlertCondition& Rule(const SloReport& r, Severity sev, Duration long_window) {
  for (const AlertCondition& a : r.alerts) {
    if (a.rule.severity == sev && a.rule.long_window == long_window) return a;
  }
  ADD_FAILURE() << "no such rule";
  return r.alerts.front();
}

TEST(BurnRateTest, FastBurnPagesWhenBothWindowsExceed14x) {
  // 30 clean days, then 3 bad minutes: 1h 3/60/0.002 = 25 > 14.4; 5m 3/5/0.002 = 300.
  BucketSeries s = Minutes(43200 + 3, 43200, 3);
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(Probe(), "eu-west-1", p, At(43203));
  ASSERT_TRUE(r.ok());
  const AlertCondition& page = Rule(*r, Severity::kPage, Duration::Hours(1));
  EXPECT_TRUE(page.firing);
  EXPECT_NEAR(*page.long_burn.rate, 25, 1e-9);
  EXPECT_NEAR(*page.short_burn.rate, 300, 1e-9);
  EXPECT_EQ(r->status, SloStatus::kBurning);
}

TEST(BurnRateTest, FastBurnDoesNotPageWhenShortWindowRecovered) {
  // 10 bad minutes, then 5 good: 1h is 83x but 5m is 0: the incident is over.
  BucketSeries s = Minutes(43200 + 15, 43200, 10);
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(Probe(), "eu-west-1", p, At(43215));
  ASSERT_TRUE(r.ok());
  const AlertCondition& page = Rule(*r, Severity::kPage, Duration::Hours(1));
  EXPECT_GT(*page.long_burn.rate, 14.4);
  EXPECT_EQ(*page.short_burn.rate, 0);
  EXPECT_FALSE(page.firing);
}

TEST(BurnRateTest, OneBadMinuteInAnHourDoesNotPage) {
  // 1/60/0.002 = 8.3 < 14.4 even though the 5m window is at 100x.
  BucketSeries s = Minutes(43200 + 1, 43200, 1);
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(Probe(), "eu-west-1", p, At(43201));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(Rule(*r, Severity::kPage, Duration::Hours(1)).firing);
  EXPECT_EQ(r->status, SloStatus::kHealthy);
}

TEST(BurnRateTest, RuleFiresOnlyAboveFactorAndWithData) {
  struct Case {
    std::string name;
    std::optional<double> long_rate, short_rate;
    bool fires;
  };
  std::vector<Case> cases = {
      {"both above", 15, 20, true},
      {"long at factor", 14.4, 20, false},
      {"short below", 15, 1, false},
      {"no long data", std::nullopt, 20, false},
      {"no short data", 20, std::nullopt, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(BurnRateRuleFires(14.4, c.long_rate, c.short_rate), c.fires);
  }
}

TEST(RuleFactorTest, ScalesByBudgetShareOfThePeriod) {
  std::vector<BurnRateRule> rules = DefaultBurnRateRules();
  ASSERT_EQ(rules.size(), 4u);
  struct Case {
    Duration period;
    double want[4];
  };
  std::vector<Case> cases = {
      {Duration::Days(30), {14.4, 6, 3, 1}},
      {Duration::Days(7), {0.02 * 168, 0.05 * 168 / 6, 0.1 * 7, 0.1 * 7 / 3}},
      {Duration::Days(90), {43.2, 18, 9, 3}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.period.ToString());
    for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(RuleFactor(rules[i], c.period), c.want[i], 1e-9);
  }
  BurnRateRule fixed = rules[0];
  fixed.factor = 10;
  EXPECT_EQ(RuleFactor(fixed, Duration::Days(7)), 10);
}

TEST(BurnRateTest, MinEventsGuardKeepsLowTrafficFromPaging) {
  // Three requests in the last hour, one failed: 1/3/0.002 = 167x, but below min_events.
  BucketSeries s{kStart, std::vector<Bucket>(60, Bucket::Events(0, 0))};
  s.buckets[10] = Bucket::Events(1, 1);
  s.buckets[57] = Bucket::Events(1, 1);
  s.buckets[58] = Bucket::Events(0, 1);
  SloSpec spec = Probe();
  spec.sli = SliKind::kRequestRatio;
  spec.alerting.min_events = 10;
  PrefixCounts p = PrefixCounts::Build(s, spec.SliceTarget());
  auto r = EvaluateSlo(spec, "eu-west-1", p, At(60));
  ASSERT_TRUE(r.ok());
  const AlertCondition& page = Rule(*r, Severity::kPage, Duration::Hours(1));
  EXPECT_GT(*page.long_burn.rate, 14.4);
  EXPECT_TRUE(page.guarded);
  EXPECT_FALSE(page.firing);
  spec.alerting.min_events = 3;
  r = EvaluateSlo(spec, "eu-west-1", p, At(60));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(Rule(*r, Severity::kPage, Duration::Hours(1)).firing);
}

TEST(BudgetTest, ExhaustedWhenConsumedReachesTotal) {
  // 1000 events, 2 bad at 99.8%: budget 0.002*1000 = 2 (2.0000000000000018 in binary).
  BucketSeries s{kStart, {Bucket::Events(998, 1000)}};
  SloSpec spec = Probe();
  spec.sli = SliKind::kRequestRatio;
  spec.alerting.rules.clear();
  spec.alerting.exhaustion_min_coverage = 0;  // one minute of data is enough here
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(spec, "x", p, At(1));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->budget_remaining, 0, 1e-9);
  EXPECT_EQ(r->status, SloStatus::kExhausted);
  EXPECT_EQ(r->exhaustion_at_1h, At(1));
}

TEST(BudgetTest, RemainingGoesNegative) {
  // A request SLI over a full window: 1000 events a minute for 30 days, 0.5% failing in the
  // last day: budget 0.002 * 43.2M = 86400 events, 7200 consumed... then a bad hour of 100%.
  BucketSeries s{kStart, {}};
  for (int64_t i = 0; i < 43200; ++i) {
    s.buckets.push_back(i >= 43200 - 120 ? Bucket::Events(0, 1000) : Bucket::Events(1000, 1000));
  }
  SloSpec spec = Probe();
  spec.sli = SliKind::kRequestRatio;
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(spec, "x", p, At(43200));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->budget_total, 86400, 1e-6);
  EXPECT_NEAR(r->budget_remaining, 86400 - 120000, 1e-6);
  EXPECT_NEAR(*r->budget_remaining_ratio, (86400.0 - 120000) / 86400, 1e-9);
  EXPECT_FALSE(r->exhaustion_guarded);
  EXPECT_EQ(r->status, SloStatus::kExhausted);
}

TEST(BudgetTest, ProbeBudgetIsTheWholePeriodsWhateverTheDataSoFar) {
  // A probe SLO whose data began 1000 minutes ago, 10 of them bad: the budget is 0.002 * 43200 =
  // 86.4 minutes (the objective's share of the whole 30 days), not 0.002 * 1000 = 2: ten bad
  // minutes do not exhaust it.
  BucketSeries s = Minutes(1000, 0, 10);
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(Probe(), "x", p, At(1000));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->budget_total, 86.4, 1e-9);
  EXPECT_NEAR(r->budget_remaining, 76.4, 1e-9);
  EXPECT_NE(r->status, SloStatus::kExhausted);
  // One bad minute after five of data (the young window of a fresh install): still 85.4 left.
  r = EvaluateSlo(Probe(), "x", PrefixCounts::Build(Minutes(6, 5, 1), 0.998), At(6));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->budget_remaining, 85.4, 1e-9);
  EXPECT_NE(r->status, SloStatus::kExhausted);
  // region="global" over three regions: three events a minute, 3 * 86.4.
  PrefixCounts a = PrefixCounts::Build(Minutes(6, 5, 1), 0.998);
  PrefixCounts b = PrefixCounts::Build(Minutes(6), 0.998);
  PrefixCounts c = PrefixCounts::Build(Minutes(6), 0.998);
  GlobalCounts global({&a, &b, &c}, nullptr);
  r = EvaluateSlo(Probe(), "global", global, At(6));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->budget_total, 3 * 86.4, 1e-9);
  EXPECT_NE(r->status, SloStatus::kExhausted);
  // Freshness is one event a minute too; a calendar month's period is its real length (March:
  // 31 days), whatever part of it has passed.
  SloSpec month = Probe();
  month.sli = SliKind::kFreshness;
  month.window = Window::Calendar(CalendarUnit::kMonth, "UTC");
  BucketSeries first_day{MinuteOf(Timestamp::FromUnixSeconds(1772323200)), {}};  // 2026-03-01
  for (int i = 0; i < 1440; ++i) first_day.buckets.push_back(Bucket::Events(i < 10 ? 0 : 1, 1));
  r = EvaluateSlo(month, "x", PrefixCounts::Build(first_day, 0.998),
                  MinuteStart(first_day.end_minute()));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->budget_total, 0.002 * 31 * 1440, 1e-9);
  EXPECT_EQ(r->status, SloStatus::kHealthy);
}

TEST(BudgetTest, AYoungRequestWindowIsNotExhausted) {
  // A request SLI added a few minutes ago: 50 requests a minute for 5 minutes, one minute all
  // failing. 50 bad of 250 is far over 0.002 * 250 = 0.5, but 250 events and 5 of 43200
  // minutes are too little to call a 30-day budget spent.
  BucketSeries s{kStart, {}};
  for (int i = 0; i < 5; ++i) s.buckets.push_back(Bucket::Events(i == 4 ? 0 : 50, 50));
  SloSpec spec = Probe();
  spec.sli = SliKind::kRequestRatio;
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(spec, "x", p, At(5));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->budget_total, 0.5, 1e-9);
  EXPECT_LT(r->budget_remaining, 0);
  EXPECT_TRUE(r->exhaustion_guarded);
  EXPECT_EQ(r->status, SloStatus::kBurning);  // the page still fires: 1h and 5m both burn
  // Enough events but too little coverage: still guarded.
  spec.alerting.exhaustion_min_events = 100;
  r = EvaluateSlo(spec, "x", p, At(5));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->exhaustion_guarded);
  // Both thresholds met (a configured coverage of 5/43200): exhausted.
  spec.alerting.exhaustion_min_coverage = 5.0 / 43200;
  r = EvaluateSlo(spec, "x", p, At(5));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->exhaustion_guarded);
  EXPECT_EQ(r->status, SloStatus::kExhausted);
  // Half of the period with data and 1000 events (the defaults): exhausted.
  BucketSeries half{kStart, {}};
  for (int64_t i = 0; i < 21600; ++i) half.buckets.push_back(Bucket::Events(i < 100 ? 0 : 1, 1));
  spec.alerting = AlertPolicy{};
  r = EvaluateSlo(spec, "x", PrefixCounts::Build(half, 0.998), At(21600));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, SloStatus::kExhausted);
  half.buckets.pop_back();  // one minute short of half the period
  r = EvaluateSlo(spec, "x", PrefixCounts::Build(half, 0.998), At(21599));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->exhaustion_guarded);
}

TEST(BudgetTest, ValidateChecksTheExhaustionGuard) {
  SloSpec spec = Probe();
  spec.alerting.exhaustion_min_coverage = 1.5;
  EXPECT_FALSE(ValidateSlo(spec).ok());
  spec.alerting.exhaustion_min_coverage = 0.5;
  spec.alerting.exhaustion_min_events = -1;
  EXPECT_FALSE(ValidateSlo(spec).ok());
}

TEST(NoDataTest, BadCountsOnlyFromWhenTheSloWasKnown) {
  // no_data: bad over a rolling 30d window, evaluated on an empty source: the SLO has existed
  // for 10 minutes (known_since), so 10 minutes are bad, not 43200.
  SloSpec spec = Probe();
  spec.no_data = NoDataPolicy::kBad;
  PrefixCounts empty(kStart, 0.998);
  auto r = EvaluateSlo(spec, "x", empty, At(43200), kStart + 43190);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tally.total, 10);
  EXPECT_EQ(r->tally.bad(), 10);
  EXPECT_EQ(r->BurnRateOver(Duration::Days(3))->tally.total, 10);
  EXPECT_EQ(r->coverage, 0);
  // Without a bound, every minute of the window counts.
  r = EvaluateSlo(spec, "x", empty, At(43200));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tally.total, 43200);
  // Data before known_since still counts (a caller's bound never hides data).
  BucketSeries s = Minutes(43200, 0, 3);
  r = EvaluateSlo(spec, "x", PrefixCounts::Build(s, 0.998), At(43200), kStart + 43190);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tally.total, 43200);
  EXPECT_EQ(r->tally.bad(), 3);
  // Time slices too.
  spec.method = BudgetingMethod::kTimeslices;
  r = EvaluateSlo(spec, "x", empty, At(43200), kStart + 43190);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tally.total, 10);
}

TEST(ForecastTest, ExhaustionAtCurrentBurn) {
  // 30 days with 20 bad minutes long ago and 6 in the last hour: remaining 86.4 - 26 = 60.4.
  // 1h burn 6/60/0.002 = 50: exhausted in (60.4/86.4) * 43200 / 50 minutes = 604 minutes.
  BucketSeries s = Minutes(43200, 100, 20);
  for (int i = 0; i < 6; ++i) s.buckets[43200 - 30 + i] = Bucket::Events(0, 1);
  PrefixCounts p = PrefixCounts::Build(s, 0.998);
  auto r = EvaluateSlo(Probe(), "x", p, At(43200));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->exhaustion_at_1h.has_value());
  EXPECT_NEAR((*r->exhaustion_at_1h - At(43200)).SecondsDouble() / 60, 604, 1e-6);
  // 6h: 6/360/0.002 = 8.33: 6x slower.
  ASSERT_TRUE(r->exhaustion_at_6h.has_value());
  EXPECT_NEAR((*r->exhaustion_at_6h - At(43200)).SecondsDouble() / 60, 604 * 6, 1e-6);
}

TEST(NoDataTest, PolicyDecidesWhatMissingMinutesCount) {
  // 10 minutes: 6 good, 1 bad, 3 without data.
  BucketSeries s = Minutes(10, 6, 1);
  for (int i = 7; i < 10; ++i) s.buckets[i] = Bucket::NoData();
  struct Case {
    NoDataPolicy policy;
    BudgetingMethod method;
    int64_t good, total;
  };
  std::vector<Case> cases = {
      {NoDataPolicy::kUnknown, BudgetingMethod::kOccurrences, 6, 7},
      {NoDataPolicy::kGood, BudgetingMethod::kOccurrences, 9, 10},
      {NoDataPolicy::kBad, BudgetingMethod::kOccurrences, 6, 10},
      {NoDataPolicy::kUnknown, BudgetingMethod::kTimeslices, 6, 7},
      {NoDataPolicy::kGood, BudgetingMethod::kTimeslices, 9, 10},
      {NoDataPolicy::kBad, BudgetingMethod::kTimeslices, 6, 10},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(NoDataPolicyName(c.policy)) + " " +
                 std::string(BudgetingMethodName(c.method)));
    SloSpec spec = Probe();
    spec.no_data = c.policy;
    spec.method = c.method;
    spec.window = Window::Rolling(Duration::Minutes(10));
    PrefixCounts p = PrefixCounts::Build(s, spec.SliceTarget());
    auto r = EvaluateSlo(spec, "x", p, At(10));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->tally.good, c.good);
    EXPECT_EQ(r->tally.total, c.total);
    EXPECT_DOUBLE_EQ(r->coverage, 0.7);  // coverage reports the truth whatever the policy
  }
}

TEST(GlobalTest, SumsCountsNeverAveragesRatios) {
  // eu: 100 events, 50 bad (SLI 0.5); us: 900 events, none bad (SLI 1). The average of the
  // ratios would be 0.75; the summed SLI is 950/1000.
  SloSpec spec = Probe();
  spec.sli = SliKind::kRequestRatio;
  spec.window = Window::Rolling(Duration::Minutes(1));
  SloCounts counts({{"eu-west-1", BucketSeries{kStart, {Bucket::Events(50, 100)}}},
                    {"us-east-1", BucketSeries{kStart, {Bucket::Events(900, 900)}}}},
                   spec.SliceTarget());
  auto reports = EvaluateAll(spec, counts, At(1));
  ASSERT_TRUE(reports.ok());
  ASSERT_EQ(reports->size(), 3u);
  EXPECT_EQ((*reports)[2].region, "global");
  EXPECT_DOUBLE_EQ(*(*reports)[2].sli, 0.95);
  EXPECT_EQ((*reports)[2].tally.total, 1000);
}

TEST(SloCountsTest, AppendMinuteMatchesBatchBuild) {
  BucketSeries eu = Minutes(100, 40, 5);
  BucketSeries us = Minutes(100, 80, 2);
  SloCounts batch({{"eu", eu}, {"us", us}}, 0.998);
  SloCounts live({{"eu", BucketSeries{kStart, {}}}, {"us", BucketSeries{kStart, {}}}}, 0.998);
  for (int i = 0; i < 100; ++i) live.AppendMinute({eu.buckets[i], us.buckets[i]});
  SloSpec spec = Probe();
  spec.method = BudgetingMethod::kTimeslices;
  for (int64_t end : {10, 45, 100}) {
    auto a = EvaluateAll(spec, batch, At(end));
    auto b = EvaluateAll(spec, live, At(end));
    ASSERT_TRUE(a.ok() && b.ok());
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_EQ((*a)[i].tally.good, (*b)[i].tally.good);
      EXPECT_EQ((*a)[i].tally.total, (*b)[i].tally.total);
      EXPECT_EQ((*a)[i].coverage, (*b)[i].coverage);
    }
  }
}

TEST(ValidateSloTest, RejectsEachKindOfMistakeNamingTheField) {
  struct Case {
    std::string name;
    std::function<void(SloSpec&)> mutate;
    std::string want;  // substring of the message
  };
  std::vector<Case> cases = {
      {"no name", [](SloSpec& s) { s.name = ""; }, "name"},
      {"objective 100", [](SloSpec& s) { s.objective = 100; }, "objective"},
      {"objective 0", [](SloSpec& s) { s.objective = 0; }, "objective"},
      {"seconds window", [](SloSpec& s) { s.window = Window::Rolling(Duration::Seconds(90)); },
       "window"},
      {"bad zone", [](SloSpec& s) { s.window = Window::Calendar(CalendarUnit::kWeek, "Nowhere"); },
       "Nowhere"},
      {"slice target", [](SloSpec& s) { s.timeslice_target = 1.5; }, "timeslice_target"},
      {"quorum", [](SloSpec& s) { s.quorum = -1; }, "quorum"},
      {"no_data good on request ratio occurrences",
       [](SloSpec& s) {
         s.sli = SliKind::kRequestRatio;
         s.no_data = NoDataPolicy::kGood;
       },
       "no_data"},
      {"short window not shorter",
       [](SloSpec& s) { s.alerting.rules[0].short_window = Duration::Hours(1); }, "short window"},
      {"no factor", [](SloSpec& s) { s.alerting.rules[1].budget_fraction = 0; }, "rules[1]"},
      {"min events", [](SloSpec& s) { s.alerting.min_events = -1; }, "min_events"},
  };
  ASSERT_TRUE(ValidateSlo(Probe()).ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SloSpec s = Probe();
    c.mutate(s);
    core::Status st = ValidateSlo(s);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find(c.want), std::string::npos) << st.message();
  }
  SloSpec ok = Probe();
  ok.method = BudgetingMethod::kTimeslices;
  ok.sli = SliKind::kRequestRatio;
  ok.no_data = NoDataPolicy::kBad;
  EXPECT_TRUE(ValidateSlo(ok).ok());
}

TEST(StatusTest, NoDataWhenNothingCounted) {
  PrefixCounts p = PrefixCounts::Build(BucketSeries{kStart, {}}, 0.998);
  auto r = EvaluateSlo(Probe(), "x", p, At(100));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, SloStatus::kNoData);
  EXPECT_FALSE(r->sli.has_value());
  EXPECT_FALSE(r->exhaustion_at_1h.has_value());
  EXPECT_EQ(r->coverage, 0);
}

}  // namespace
}  // namespace nines::slo
