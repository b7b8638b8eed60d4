// Golden scenarios: every tests/slo/testdata/*.txt is parsed, turned into buckets with slo/'s
// conversions, and evaluated at each `eval` time, once from prefix counts built in one go and,
// when the file has a `run`, again minute by minute on a FakeClock (the rule engine's way).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/clock.h"
#include "slo/slo.h"
#include "tests/slo/scenario.h"

namespace nines::slo::testing {
namespace {

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(NINES_SLO_TESTDATA)) {
    if (e.path().extension() == ".txt") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Scenario Load(const std::string& name) {
  std::ifstream in(std::string(NINES_SLO_TESTDATA) + "/" + name + ".txt");
  std::stringstream ss;
  ss << in.rdbuf();
  auto sc = ParseScenario(ss.str(), name);
  EXPECT_TRUE(sc.ok()) << name << ": " << sc.status().ToString();
  return sc.ok() ? *sc : Scenario{};
}

void CheckBlock(const EvalBlock& block, const std::vector<SloReport>& reports,
                const std::string& how) {
  for (const Expectation& e : block.expectations) {
    std::string err = CheckExpectation(e, reports, block.at);
    EXPECT_EQ(err, "") << how << " line " << e.line << ": " << e.region << " " << e.field;
  }
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesHandDerivation) {
  Scenario sc = Load(GetParam());
  ASSERT_FALSE(sc.series.empty()) << "scenario has no series";
  ASSERT_FALSE(sc.evals.empty() && !sc.run.has_value()) << "scenario checks nothing";
  auto buckets = ScenarioBuckets(sc);
  ASSERT_TRUE(buckets.ok()) << buckets.status().ToString();

  SloCounts batch(*buckets, sc.spec.SliceTarget());
  for (const EvalBlock& block : sc.evals) {
    SCOPED_TRACE("eval at line " + std::to_string(block.line));
    auto reports = EvaluateAll(sc.spec, batch, block.at);
    ASSERT_TRUE(reports.ok()) << reports.status().ToString();
    CheckBlock(block, *reports, "batch");
  }

  if (!sc.run.has_value()) return;
  // The same data fed minute by minute as a FakeClock moves, evaluated every step.
  const testing::Run& run = *sc.run;
  std::vector<std::pair<std::string, BucketSeries>> empty;
  for (const auto& [region, series] : *buckets) {
    empty.emplace_back(region, BucketSeries{series.first_minute, {}});
  }
  SloCounts live(empty, sc.spec.SliceTarget());
  int64_t fed = MinuteOf(sc.start);
  core::FakeClock clock(run.from);
  std::map<std::string, bool> page_was, ticket_was;
  std::map<std::string, int64_t> page_edges, ticket_edges;
  size_t checked = 0;
  int64_t evaluations = 0;
  for (; clock.Now() <= run.to; clock.Advance(run.step)) {
    core::Timestamp now = clock.Now();
    for (; fed < MinuteOf(now); ++fed) {
      std::vector<Bucket> minute;
      for (const auto& [region, series] : *buckets) minute.push_back(series.At(fed));
      live.AppendMinute(minute);
    }
    auto reports = EvaluateAll(sc.spec, live, now);
    ASSERT_TRUE(reports.ok()) << reports.status().ToString();
    ++evaluations;
    for (const SloReport& r : *reports) {
      bool page = false, ticket = false;
      for (const AlertCondition& a : r.alerts) {
        (a.rule.severity == Severity::kPage ? page : ticket) |= a.firing;
      }
      if (page && !page_was[r.region]) ++page_edges[r.region];
      if (ticket && !ticket_was[r.region]) ++ticket_edges[r.region];
      page_was[r.region] = page;
      ticket_was[r.region] = ticket;
    }
    for (const EvalBlock& block : sc.evals) {
      if (block.at != now) continue;
      SCOPED_TRACE("run eval at line " + std::to_string(block.line));
      CheckBlock(block, *reports, "run");
      ++checked;
    }
  }
  EXPECT_GT(evaluations, 0);
  size_t on_run = 0;
  for (const EvalBlock& block : sc.evals) {
    if (block.at >= run.from && block.at <= run.to &&
        (block.at - run.from) % run.step == core::Duration::Zero()) {
      ++on_run;
    }
  }
  EXPECT_EQ(checked, on_run) << "eval blocks on the run's steps must be checked live too";
  for (const Expectation& e : run.transitions) {
    auto want = EvalExpression(e.value);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    int64_t got = e.field == "page" ? page_edges[e.region] : ticket_edges[e.region];
    EXPECT_EQ(got, static_cast<int64_t>(*want))
        << "line " << e.line << ": " << e.region << " " << e.field << " transitions";
  }
  RecordProperty("evaluations", std::to_string(evaluations));
  RecordProperty("evals_checked_in_run", std::to_string(checked));
}

INSTANTIATE_TEST_SUITE_P(Scenarios, GoldenTest, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace nines::slo::testing
