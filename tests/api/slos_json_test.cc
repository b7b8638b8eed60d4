// GET /api/v1/slos and /api/v1/slos/NAME: the documents built from the SLO evaluator's
// published results, byte for byte (testdata/slos*.json).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/json.h"
#include "rules/evaluator.h"
#include "tests/api/golden.h"
#include "tests/rules/test_util.h"

namespace nines::api {
namespace {

using core::Duration;
using ::testing::HasSubstr;
using ::testing::Not;
using rules::testing::AtMinute;
using rules::testing::kBaseMinute;
using rules::testing::L;
using rules::testing::MinuteMs;
using rules::testing::ProbeRule;
using rules::testing::TestStore;
using testing::ExpectGolden;

constexpr int64_t S = kBaseMinute;

class SlosJsonTest : public ::testing::Test {
 protected:
  void WriteMinutes(const std::string& region, const std::string& loc, int64_t from, int64_t to,
                    double v) {
    std::vector<std::pair<core::Labels, core::Sample>> batch;
    for (int64_t m = from; m < to; ++m) {
      batch.push_back({L({{"__name__", "probe_success"}, {"probe", "api"}, {"region", region},
                          {"location", loc}}),
                       {MinuteMs(m) + 30'000, v}});
    }
    store_.Write(std::move(batch));
  }

  core::FakeClock clock_{AtMinute(S)};
  TestStore store_{clock_};
};

// Two SLOs: one burning in eu with ap silent, escaped strings, labels, its file and line, and
// samples of an undeclared region; one evaluated with no data at all.
TEST_F(SlosJsonTest, ListAndDetailAreByteIdentical) {
  WriteMinutes("eu", "a", S, S + 10, 1);
  WriteMinutes("eu", "a", S + 10, S + 12, 0);
  WriteMinutes("eu-wset", "a", S, S + 12, 0);
  rules::SloEvaluator ev(*store_, [this] { return store_->NewAppender(); });
  rules::SloRule api = ProbeRule("api \"eu\"", R"({probe="api"})");
  api.spec.description = "line1\nline2\t\\ \x01";
  api.spec.regions = {"eu", "ap"};
  api.spec.labels = L({{"team", "platform"}});
  api.declared_regions = {"eu", "ap"};
  api.file = "rules/api.yaml";
  api.line = 7;
  rules::SloRule quiet = ProbeRule("quiet", R"({probe="none"})");
  quiet.spec.objective = 99.95;
  ev.SetRules({api, quiet});
  ExpectGolden("slos_unevaluated.json", SlosJson(*ev.Snapshot()));
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 12, 1)).ok());
  ExpectGolden("slos.json", SlosJson(*ev.Snapshot()));
  auto one = SloJson(*ev.Snapshot(), "api \"eu\"");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ExpectGolden("slo_api.json", *one);
  auto other = SloJson(*ev.Snapshot(), "quiet");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ExpectGolden("slo_quiet.json", *other);
  EXPECT_EQ(SloJson(*ev.Snapshot(), "nope").status().code(), core::StatusCode::kNotFound);
}

TEST_F(SlosJsonTest, JsonHasEveryRegionAndGlobalAndEscapesStrings) {
  WriteMinutes("eu", "a", S, S + 10, 1);
  WriteMinutes("eu", "a", S + 10, S + 12, 0);
  auto app_factory = [this] { return store_->NewAppender(); };
  rules::SloEvaluator ev(*store_, app_factory);
  rules::SloRule rule = ProbeRule("api \"eu\"", R"({probe="api"})");
  rule.spec.description = "line1\nline2\t\\ \x01";
  rule.spec.regions = {"eu", "ap"};
  ev.SetRules({rule});
  EXPECT_THAT(SlosJson(*ev.Snapshot()), HasSubstr(R"("evaluated_at":null)"));
  auto conds = rules::testing::EvaluateConditions(ev, AtMinute(S + 12, 1));
  ASSERT_TRUE(conds.ok()) << conds.status().ToString();
  std::string all = SlosJson(*ev.Snapshot());
  EXPECT_THAT(all, HasSubstr(R"({"status":"success","data":[{"name":"api \"eu\"")"));
  EXPECT_THAT(all, HasSubstr(R"("description":"line1\nline2\t\\ \u0001")"));
  EXPECT_THAT(all, HasSubstr(R"("region":"ap","status":"no_data","sli":null)"));
  EXPECT_THAT(all, HasSubstr(R"("region":"eu","status":"burning","sli":0.8333333333333334,)"
                             R"("objective":0.998,"good":10,"total":12)"));
  EXPECT_THAT(all, HasSubstr(R"("region":"global")"));
  EXPECT_THAT(all, HasSubstr(R"("budget":{"unit":"events","total":86.4)"));  // 0.002 * 30d
  EXPECT_THAT(all, HasSubstr(R"("exhaustion_guarded":false)"));
  EXPECT_THAT(all, HasSubstr(R"("burn_rates":{"5m":199.99999999999983,"30m":)"));  // 2/5 / 0.002
  auto one = SloJson(*ev.Snapshot(), "api \"eu\"");
  ASSERT_TRUE(one.ok());
  EXPECT_THAT(*one, HasSubstr(R"("burn_rate_rules":[{"severity":"page","long_window":"1h")"));
  EXPECT_THAT(*one, HasSubstr(R"({"labels":{"alertname":"SloBurnRate","region":"eu")"));
  // ap has never reported, but the SLO is a minute old here: no SloNoData yet (see below).
  EXPECT_THAT(*one, Not(HasSubstr(R"("alertname":"SloNoData")")));
}


// The parts of the document a scenario rarely reaches, from a snapshot built by hand: a read
// error, reduced coverage, undecided conditions (not listed as alerts) and a missing SLO.
TEST(SloSnapshotJsonTest, ErrorReducedCoverageAndUndecidedConditions) {
  rules::SloRule rule = ProbeRule("api", R"({probe="api"})", /*quorum=*/2);
  auto eval = std::make_shared<rules::SloEvaluation>();
  eval->evaluated_at = AtMinute(S + 1);
  eval->error = "read: disk on fire";
  slo::SloReport eu;
  eu.region = "eu";
  eval->reports = {eu};
  eval->reduced_coverage["eu"] = rules::ReducedCoverage{.quorum = 2, .live = 1, .lost = {"b", "c"}};
  rules::ActiveCondition active{L({{"alertname", "SloBurnRate"}, {"region", "eu"}}), {}, 14.4};
  rules::ActiveCondition undecided{L({{"alertname", "SloBurnRate"}, {"region", "us"}}), {}, 2};
  undecided.no_data = true;
  eval->conditions = {undecided, active};
  std::vector<rules::SloEvaluator::Published> slos = {
      {std::make_shared<const rules::SloRule>(rule), eval}};
  const std::string all = SlosJson(slos);
  EXPECT_THAT(all, HasSubstr(R"("error":"read: disk on fire")"));
  EXPECT_THAT(all, HasSubstr(R"("reduced_coverage":{"quorum":2,"live":1,"lost":["b","c"]})"));
  auto one = SloJson(slos, "api");
  ASSERT_TRUE(one.ok());
  EXPECT_THAT(*one, HasSubstr(R"("alerts":[{"labels":{"alertname":"SloBurnRate","region":"eu"},)"
                              R"("annotations":{},"value":14.4}])"));
  EXPECT_THAT(*one, Not(HasSubstr(R"("region":"us")")));
  auto missing = SloJson(slos, "API");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no SLO named \"API\"");
  EXPECT_EQ(SlosJson({}), R"({"status":"success","data":[]})");
}

}  // namespace
}  // namespace nines::api
