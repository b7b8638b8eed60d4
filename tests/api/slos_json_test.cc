// GET /api/v1/slos and /api/v1/slos/NAME: the documents built from the SLO evaluator's
// published results, byte for byte (testdata/slos*.json).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/evaluator.h"
#include "tests/api/golden.h"
#include "tests/rules/test_util.h"

namespace nines::api {
namespace {

using core::Duration;
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
  ExpectGolden("slos_unevaluated.json", ev.SlosJson());
  ASSERT_TRUE(ev.Evaluate(AtMinute(S + 12, 1)).ok());
  ExpectGolden("slos.json", ev.SlosJson());
  auto one = ev.SloJson("api \"eu\"");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ExpectGolden("slo_api.json", *one);
  auto other = ev.SloJson("quiet");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ExpectGolden("slo_quiet.json", *other);
  EXPECT_EQ(ev.SloJson("nope").status().code(), core::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nines::api
