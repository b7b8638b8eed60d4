// Threshold rules against a real store in a temp dir, and end to end with the AlertTracker on a
// FakeClock: "failing from at least 2 of 3 locations for 2 minutes" and "certificate expiring in
// under 14 days".
#include "rules/threshold.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <tuple>

#include "core/clock.h"
#include "rules/alerts.h"
#include "store/store.h"
#include "tests/testutil/testutil.h"

namespace nines::rules {
namespace {

using core::Duration;
using core::Timestamp;

constexpr Timestamp kT0 = core::FakeClock::kDefaultStart;
const double kStale = std::bit_cast<double>(0x7ff0000000000002ULL);

core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text << ": " << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

std::vector<store::Matcher> Sel(std::string_view text) {
  auto s = store::ParseSelector(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : std::vector<store::Matcher>{};
}

class ThresholdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions options;
    options.dir = dir_.File("db");
    // The tests write around a fake clock they move as they evaluate (see TestStore).
    options.out_of_order_window = core::Duration::Days(20 * 365);
    options.future_tolerance = core::Duration::Days(20 * 365);
    auto s = store::OpenStore(std::move(options), clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  void Write(const std::vector<std::tuple<std::string, Timestamp, double>>& samples) {
    auto app = store_->NewAppender();
    for (const auto& [labels, t, v] : samples) {
      ASSERT_TRUE(app->Append(L(labels), t.UnixMillis(), v).ok());
    }
    auto r = app->Commit();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::vector<ActiveCondition> Eval(const ThresholdRule& rule, Timestamp now) {
    auto r = EvaluateThresholdRule(rule, *store_, now);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<ActiveCondition>{};
  }

  testutil::TempDir dir_;
  core::FakeClock clock_;
  std::unique_ptr<store::Store> store_;
};

ThresholdRule FailingFromTwoLocations() {
  ThresholdRule rule;
  rule.name = "ProbeFailing";
  rule.selector = Sel(R"(probe_success{probe="api-eu"})");
  rule.op = Comparison::kEqual;
  rule.threshold = 0;
  rule.group_by = {"probe", "region"};
  rule.min_count = 2;
  rule.for_duration = Duration::Minutes(2);
  rule.keep_firing_for = Duration::Minutes(1);
  rule.labels = L(R"({severity="page"})");
  rule.annotations = {
      {"summary", "{{ $labels.probe }} failing from {{$value}} locations in {{ $labels.region }}"}};
  return rule;
}

// ---- semantics, case by case ---------------------------------------------------------------

TEST_F(ThresholdTest, EachSeriesCountsByItsLatestSampleInTheLookback) {
  const Timestamp now = kT0 + Duration::Hours(1);
  // Location a: failed, then recovered: its latest sample counts, so it does not meet == 0.
  // Location b: failed 5 minutes ago exactly: outside (now - 5m, now].
  // Location c: failed 5 minutes minus 1 ms ago: inside.
  // Location d: failed, then a staleness marker (its check was removed): no sample.
  // Location e: a staleness marker, then failed again: the failure counts.
  // Location f: fails 1 ms after now: not yet.
  Write({{R"(probe_success{probe="api-eu",location="a"})", now - Duration::Minutes(2), 0},
         {R"(probe_success{probe="api-eu",location="a"})", now - Duration::Minutes(1), 1},
         {R"(probe_success{probe="api-eu",location="b"})", now - Duration::Minutes(5), 0},
         {R"(probe_success{probe="api-eu",location="c"})",
          now - Duration::Minutes(5) + Duration::Milliseconds(1), 0},
         {R"(probe_success{probe="api-eu",location="d"})", now - Duration::Minutes(1), 0},
         {R"(probe_success{probe="api-eu",location="d"})", now, kStale},
         {R"(probe_success{probe="api-eu",location="e"})", now - Duration::Minutes(1), kStale},
         {R"(probe_success{probe="api-eu",location="e"})", now, 0},
         {R"(probe_success{probe="api-eu",location="f"})", now + Duration::Milliseconds(1), 0},
         {R"(probe_success{probe="other",location="g"})", now, 0}});
  ThresholdRule rule;
  rule.name = "Down";
  rule.selector = Sel(R"(probe_success{probe="api-eu"})");
  rule.op = Comparison::kEqual;
  rule.threshold = 0;
  std::vector<ActiveCondition> got = Eval(rule, now);
  ASSERT_EQ(got.size(), 2u);
  // Without group_by each series is its own group with all its labels but __name__.
  EXPECT_EQ(got[0].labels, L(R"({alertname="Down",location="c",probe="api-eu"})"));
  EXPECT_EQ(got[1].labels, L(R"({alertname="Down",location="e",probe="api-eu"})"));
  EXPECT_EQ(got[0].value, 0);  // min_count 1 without grouping: the series' value
}

TEST_F(ThresholdTest, GroupsCountMeetingSeriesAgainstMinCount) {
  const Timestamp now = kT0;
  std::vector<std::tuple<std::string, Timestamp, double>> samples;
  // eu-west-1: 2 of 3 locations fail; us-east-1: 1 of 3; ap-southeast-2: 3 of 3.
  const std::tuple<std::string, int> regions[] = {
      {"eu-west-1", 2}, {"us-east-1", 1}, {"ap-southeast-2", 3}};
  for (const auto& [region, failing] : regions) {
    for (int loc = 0; loc < 3; ++loc) {
      samples.emplace_back(fmt::format(R"(probe_success{{probe="api",region="{}",location="l{}"}})",
                                       region, loc),
                           now, loc < failing ? 0 : 1);
    }
  }
  Write(samples);
  struct Case {
    std::string name;
    std::vector<std::string> group_by;
    int64_t min_count;
    std::vector<std::tuple<std::string, double>> want;  // labels, value
  };
  const Case cases[] = {
      {"2 of 3 by region",
       {"probe", "region"},
       2,
       {{R"({alertname="Down",probe="api",region="ap-southeast-2",severity="page"})", 3},
        {R"({alertname="Down",probe="api",region="eu-west-1",severity="page"})", 2}}},
      {"3 of 3 by region",
       {"region"},
       3,
       {{R"({alertname="Down",region="ap-southeast-2",severity="page"})", 3}}},
      {"grouped by a label no series has: one group with every series",
       {"team"},
       6,
       {{R"({alertname="Down",severity="page"})", 6}}},
      {"min_count above every group: nothing", {"region"}, 4, {}},
      {"grouping by __name__ does not put it on the alert",
       {"__name__", "region"},
       3,
       {{R"({alertname="Down",region="ap-southeast-2",severity="page"})", 3}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ThresholdRule rule;
    rule.name = "Down";
    rule.selector = Sel(R"(probe_success{probe="api"})");
    rule.op = Comparison::kLess;
    rule.threshold = 1;
    rule.group_by = c.group_by;
    rule.min_count = c.min_count;
    rule.labels = L(R"({severity="page"})");
    std::vector<ActiveCondition> got = Eval(rule, now);
    ASSERT_EQ(got.size(), c.want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].labels, L(std::get<0>(c.want[i])));
      EXPECT_EQ(got[i].value, std::get<1>(c.want[i]));
    }
  }
}

TEST_F(ThresholdTest, RuleLabelsWinAndAnnotationsAreExpanded) {
  Write({{R"(disk_free_ratio{host="db1",severity="low",alertname="x"})", kT0, 0.05}});
  ThresholdRule rule;
  rule.name = "DiskFull";
  rule.selector = Sel("disk_free_ratio");
  rule.op = Comparison::kLess;
  rule.threshold = 0.1;
  rule.labels = L(R"({severity="ticket"})");
  rule.annotations = {{"summary", "{{ $labels.host }} has {{ $value }} free ({{$labels.none}})"},
                      {"other", "{{ .Value }} and {{ $value"}};
  std::vector<ActiveCondition> got = Eval(rule, kT0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, L(R"({alertname="DiskFull",host="db1",severity="ticket"})"));
  EXPECT_EQ(got[0].annotations.at("summary"), "db1 has 0.05 free ()");
  EXPECT_EQ(got[0].annotations.at("other"), "{{ .Value }} and {{ $value");
}

TEST(AlertTemplateTest, ExpandsLabelsAndValue) {
  const core::Labels labels = L(R"({alertname="A",region="eu-west-1"})");
  const std::tuple<std::string_view, double, std::string_view> cases[] = {
      {"{{ $labels.region }}", 1, "eu-west-1"},
      {"{{$labels.region}}/{{ $labels.alertname }}", 1, "eu-west-1/A"},
      {"v={{ $value }}", 2, "v=2"},
      {"v={{ $value }}", 1209600, "v=1209600"},
      {"v={{ $value }}", -0.25, "v=-0.25"},
      {"v={{ $value }}", std::numeric_limits<double>::infinity(), "v=+Inf"},
      {"no templates", 0, "no templates"},
      {"{{ $labels.missing }}!", 0, "!"},
      {"{{ unknown }}", 0, "{{ unknown }}"},
      {"unclosed {{ $value", 0, "unclosed {{ $value"},
  };
  for (const auto& [text, value, want] : cases) {
    EXPECT_EQ(ExpandAlertTemplate(text, labels, value), want) << text;
  }
}

TEST_F(ThresholdTest, InvalidRulesAreRefusedWithTheirPlace) {
  ThresholdRule good = FailingFromTwoLocations();
  good.file = "rules/api.yaml";
  good.line = 12;
  ASSERT_TRUE(EvaluateThresholdRule(good, *store_, kT0).ok());
  struct Case {
    std::string name;
    std::function<void(ThresholdRule&)> mutate;
    std::string_view message;
  };
  const Case cases[] = {
      {"no selector", [](ThresholdRule& r) { r.selector.clear(); }, "no selector"},
      {"bad name", [](ThresholdRule& r) { r.name = "1bad"; }, "invalid alert name"},
      {"min_count 0", [](ThresholdRule& r) { r.min_count = 0; }, "min_count 0"},
      {"bad group_by", [](ThresholdRule& r) { r.group_by = {"a-b"}; }, "group_by label \"a-b\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ThresholdRule rule = good;
    c.mutate(rule);
    auto r = EvaluateThresholdRule(rule, *store_, kT0);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("rules/api.yaml:12"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

// ---- end to end with the tracker -------------------------------------------------------------

// 3 locations probe api-eu every 15 s; the rule and the tracker run after each round.
// Minutes 0-5: location a fails alone (1 of 3: nothing). Minutes 5-12: a and b fail (2 of 3:
// pending at 5:00, firing at 7:00). From 12:00 all succeed: the condition clears at 12:00, the
// alert keeps firing for 1 minute after the last evaluation that held (11:45) and resolves at
// 12:45, sent resolved once.
TEST_F(ThresholdTest, FailingFromTwoOfThreeLocationsForTwoMinutesFiresThenResolves) {
  const ThresholdRule rule = FailingFromTwoLocations();
  testutil::TempDir state_dir;
  AlertTrackerOptions options;
  options.state_file = state_dir.File("alerts.state");
  AlertTracker tracker(options);
  ASSERT_TRUE(tracker.Load().ok());
  clock_.Set(kT0);
  std::vector<std::tuple<int64_t, std::string, std::string>> sent;  // second, state, summary
  std::vector<std::tuple<int64_t, std::string>> states;             // second, state
  for (int64_t s = 0; s <= 20 * 60; s += 15) {
    const Timestamp now = clock_.Now();
    const bool a_fails = s < 12 * 60, b_fails = s >= 5 * 60 && s < 12 * 60;
    Write({{R"(probe_success{probe="api-eu",region="eu-west-1",location="a"})", now, a_fails ? 0.0 : 1.0},
           {R"(probe_success{probe="api-eu",region="eu-west-1",location="b"})", now, b_fails ? 0.0 : 1.0},
           {R"(probe_success{probe="api-eu",region="eu-west-1",location="c"})", now, 1}});
    std::vector<ActiveCondition> active = Eval(rule, now);
    tracker.Update("alert:ProbeFailing", rule.for_duration, rule.keep_firing_for, active, now);
    ASSERT_TRUE(tracker.Finish(now).ok());
    for (const Alert& a : tracker.TakeNotifications()) {
      EXPECT_EQ(a.labels,
                L(R"({alertname="ProbeFailing",probe="api-eu",region="eu-west-1",severity="page"})"));
      sent.emplace_back(s, AlertStateName(a.state), a.annotations.at("summary"));
    }
    std::vector<Alert> all = tracker.Alerts();
    ASSERT_LE(all.size(), 1u);
    std::string state = all.empty() ? "inactive" : std::string(AlertStateName(all[0].state));
    if (states.empty() || std::get<1>(states.back()) != state) states.emplace_back(s, state);
    clock_.Advance(Duration::Seconds(15));
  }
  const std::vector<std::tuple<int64_t, std::string>> want_states = {
      {0, "inactive"}, {300, "pending"}, {420, "firing"}, {765, "resolved"}};
  EXPECT_EQ(states, want_states);
  // Firing every evaluation from 7:00 to 12:30, then resolved once at 12:45.
  ASSERT_EQ(sent.size(), (750 - 420) / 15 + 1 + 1);
  EXPECT_EQ(sent.front(), std::make_tuple(int64_t{420}, std::string("firing"),
                                          std::string("api-eu failing from 2 locations in eu-west-1")));
  EXPECT_EQ(std::get<0>(sent[sent.size() - 2]), 750);
  EXPECT_EQ(std::get<1>(sent[sent.size() - 2]), "firing");
  EXPECT_EQ(std::get<0>(sent.back()), 765);
  EXPECT_EQ(std::get<1>(sent.back()), "resolved");
}

// Issue 12: a port stays closed, seen from a and b; b's prober dies at 10:00. The group can no
// longer reach min_count 2, but b was failing when it went silent: the page must not resolve.
// It stays firing, marked no_data, until b reports again (then it follows the data) or
// no_data_resolve_after passes. A series retired with a staleness marker is not lost.
TEST_F(ThresholdTest, ALostProberKeepsThePageFiringMarkedNoData) {
  const ThresholdRule rule = FailingFromTwoLocations();
  AlertTrackerOptions options;
  options.no_data_resolve_after = Duration::Hours(1);
  AlertTracker tracker(options);
  clock_.Set(kT0);
  std::vector<std::tuple<int64_t, std::string, std::string>> states;  // second, state, no_data
  auto eval = [&](int64_t s) {
    const Timestamp now = clock_.Now();
    auto active = EvaluateThresholdRule(rule, *store_, now, options.no_data_resolve_after);
    ASSERT_TRUE(active.ok()) << active.status().ToString();
    tracker.Update("alert:ProbeFailing", rule.for_duration, rule.keep_firing_for, *active, now);
    std::vector<Alert> all = tracker.Alerts();
    ASSERT_LE(all.size(), 1u);
    std::string state = all.empty() ? "inactive" : std::string(AlertStateName(all[0].state));
    std::string no_data = all.empty() || !all[0].annotations.contains("no_data")
                              ? ""
                              : all[0].annotations.at("no_data");
    if (states.empty() || std::get<1>(states.back()) != state ||
        std::get<2>(states.back()) != no_data) {
      states.emplace_back(s, state, no_data);
    }
  };
  for (int64_t s = 0; s <= 40 * 60; s += 15) {
    const Timestamp now = clock_.Now();
    Write({{R"(probe_success{probe="api-eu",region="eu-west-1",location="a"})", now, 0}});
    if (s < 10 * 60 || s >= 30 * 60) {
      Write({{R"(probe_success{probe="api-eu",region="eu-west-1",location="b"})", now, 0}});
    }
    eval(s);
    clock_.Advance(Duration::Seconds(15));
  }
  // b's last sample (9:45) leaves the 5m lookback after 14:45; b is back at 30:00.
  const std::vector<std::tuple<int64_t, std::string, std::string>> want = {
      {0, "pending", ""}, {120, "firing", ""}, {885, "firing", "true"}, {1800, "firing", ""}};
  EXPECT_EQ(states, want);
  // b goes silent again, for longer than no_data_resolve_after: the alert resolves then.
  states.clear();
  for (int64_t s = 40 * 60 + 15; s <= 120 * 60; s += 15) {
    Write({{R"(probe_success{probe="api-eu",region="eu-west-1",location="a"})", clock_.Now(), 0}});
    eval(s);
    clock_.Advance(Duration::Seconds(15));
  }
  // Last b sample at 40:00: no data from 45:00, resolved an hour after its last evaluation with
  // data (44:45).
  const std::vector<std::tuple<int64_t, std::string, std::string>> want_timeout = {
      {2415, "firing", ""}, {2700, "firing", "true"}, {6285, "resolved", "true"}};
  EXPECT_EQ(states, want_timeout);
  EXPECT_EQ(tracker.Alerts()[0].annotations.at("resolved_by"), "no_data_timeout");
}

TEST_F(ThresholdTest, ARetiredSeriesIsNotLost) {
  const ThresholdRule rule = FailingFromTwoLocations();
  const Timestamp now = kT0 + Duration::Minutes(20);
  Write({{R"(probe_success{probe="api-eu",region="eu-west-1",location="a"})", now, 0},
         {R"(probe_success{probe="api-eu",region="eu-west-1",location="b"})",
          kT0 + Duration::Minutes(9), 0},
         {R"(probe_success{probe="api-eu",region="eu-west-1",location="c"})",
          kT0 + Duration::Minutes(9), 0},
         {R"(probe_success{probe="api-eu",region="eu-west-1",location="c"})",
          kT0 + Duration::Minutes(10), kStale}});
  auto conds = EvaluateThresholdRule(rule, *store_, now, Duration::Hours(1));
  ASSERT_TRUE(conds.ok());
  ASSERT_EQ(conds->size(), 1u);  // a meets, b is lost while failing: undecided
  EXPECT_TRUE((*conds)[0].no_data);
  // Without b, c's marker says it was retired: a alone cannot meet min_count 2.
  ASSERT_TRUE(store_->DeleteSeries(Sel(R"(probe_success{location="b"})")).ok());
  conds = EvaluateThresholdRule(rule, *store_, now, Duration::Hours(1));
  ASSERT_TRUE(conds.ok());
  EXPECT_TRUE(conds->empty());
}

// Certificates expiring: 30 days (fine), 14 days exactly (not under 14 days yet), 13 days, and an
// expired one whose check was removed (a staleness marker: no sample). The probes report every
// hour; an hour later the 14-day certificate is under 14 days too.
TEST_F(ThresholdTest, CertificateExpiringInUnderFourteenDays) {
  const Timestamp now = kT0;
  const double now_s = static_cast<double>(now.UnixSeconds());
  const auto series = [](std::string_view probe) {
    return fmt::format(
        R"(probe_ssl_earliest_cert_expiry{{probe="{}",region="eu-west-1",location="a"}})", probe);
  };
  const auto write_round = [&](Timestamp t) {
    Write({{series("thirty"), t, now_s + 30 * 86400},
           {series("fourteen"), t, now_s + 14 * 86400},
           {series("thirteen"), t, now_s + 13 * 86400},
           {series("removed"), t - Duration::Minutes(2), now_s - 86400},
           {series("removed"), t, kStale}});
  };
  write_round(now);

  ThresholdRule grouped;  // the example on ThresholdRule
  grouped.name = "CertificateExpiresSoon";
  grouped.selector = Sel("probe_ssl_earliest_cert_expiry");
  grouped.time_until = true;
  grouped.op = Comparison::kLess;
  grouped.threshold = 14 * 86400;
  grouped.group_by = {"probe", "region", "location"};
  grouped.labels = L(R"({severity="ticket"})");
  grouped.annotations = {{"summary", "{{ $labels.probe }} ({{ $labels.location }})"}};
  ThresholdRule per_series = grouped;  // no group_by: $value is the time left, in seconds
  per_series.group_by.clear();
  per_series.annotations = {{"summary", "{{ $labels.probe }} expires in {{ $value }}s"}};

  std::vector<ActiveCondition> got = Eval(grouped, now);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, L(R"({alertname="CertificateExpiresSoon",location="a",probe="thirteen",region="eu-west-1",severity="ticket"})"));
  EXPECT_EQ(got[0].value, 1);
  EXPECT_EQ(got[0].annotations.at("summary"), "thirteen (a)");
  got = Eval(per_series, now);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].value, 13 * 86400);
  EXPECT_EQ(got[0].annotations.at("summary"), "thirteen expires in 1123200s");

  // An hour later the same expiry times are an hour closer.
  const Timestamp later = now + Duration::Hours(1);
  write_round(later);
  got = Eval(per_series, later);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels.Get("probe"), "fourteen");
  EXPECT_EQ(got[0].value, 14 * 86400 - 3600);
  EXPECT_EQ(got[1].labels.Get("probe"), "thirteen");

  // Through the tracker (for 0: fires at once) both are firing, and the file has them.
  AlertTracker tracker;
  tracker.Update("alert:CertificateExpiresSoon", grouped.for_duration, grouped.keep_firing_for,
                 Eval(grouped, later), later);
  ASSERT_TRUE(tracker.Finish(later).ok());
  std::vector<Alert> notes = tracker.TakeNotifications();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].state, AlertState::kFiring);
  EXPECT_EQ(notes[1].state, AlertState::kFiring);
}

TEST_F(ThresholdTest, NothingWithinTheLookbackMeansNoCondition) {
  Write({{R"(probe_success{probe="api-eu",location="a"})", kT0, 0}});
  ThresholdRule rule = FailingFromTwoLocations();
  rule.group_by.clear();
  rule.min_count = 1;
  EXPECT_EQ(Eval(rule, kT0).size(), 1u);
  EXPECT_EQ(Eval(rule, kT0 + Duration::Minutes(5) - Duration::Milliseconds(1)).size(), 1u);
  EXPECT_TRUE(Eval(rule, kT0 + Duration::Minutes(5)).empty());
  EXPECT_TRUE(Eval(rule, kT0 - Duration::Milliseconds(1)).empty());
}

}  // namespace
}  // namespace nines::rules
