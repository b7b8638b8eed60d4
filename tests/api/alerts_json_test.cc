// GET /api/v1/alerts: the document built from the alert tracker's alerts, and its filter.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "api/json.h"
#include "core/clock.h"
#include "rules/alerts.h"

namespace nines::api {
namespace {

using core::Duration;
using core::Timestamp;
using rules::ActiveCondition;
using rules::AlertTracker;

constexpr Timestamp kT0 = core::FakeClock::kDefaultStart;  // 2023-11-14T22:13:20Z

core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

ActiveCondition Cond(std::string_view labels, double value = 1,
                     std::map<std::string, std::string> annotations = {}) {
  return ActiveCondition{L(labels), std::move(annotations), value};
}

TEST(AlertsJsonTest, HasPrometheusShape) {
  AlertTracker t;
  EXPECT_EQ(AlertsJson(t.Alerts()), R"({"status":"success","data":{"alerts":[]}})");
  const Timestamp t0 = kT0 + Duration::Milliseconds(123);
  t.Update("alert:Down", Duration::Zero(), Duration::Zero(),
           {Cond(R"({alertname="Down",note="a\"b\\c\nd",region="eu-west-1"})", 0.5,
                 {{"summary", "tab\there"}, {"ctl", "\x01"}})},
           t0);
  t.Update("alert:Slow", Duration::Minutes(5), Duration::Zero(),
           {Cond(R"({alertname="Slow"})", 1234.5)}, t0);
  t.Update("alert:Was", Duration::Zero(), Duration::Zero(), {Cond(R"({alertname="Was"})", 2)},
           t0);
  t.Update("alert:Was", Duration::Zero(), Duration::Zero(), {}, t0 + Duration::Minutes(1));
  EXPECT_EQ(
      AlertsJson(t.Alerts()),
      R"({"status":"success","data":{"alerts":[)"
      R"({"labels":{"alertname":"Down","note":"a\"b\\c\nd","region":"eu-west-1"},)"
      R"("annotations":{"ctl":"\u0001","summary":"tab\there"},"state":"firing",)"
      R"("activeAt":"2023-11-14T22:13:20.123Z","value":"5e-01",)"
      R"("firedAt":"2023-11-14T22:13:20.123Z"},)"
      R"({"labels":{"alertname":"Slow"},"annotations":{},"state":"pending",)"
      R"("activeAt":"2023-11-14T22:13:20.123Z","value":"1.2345e+03"},)"
      R"({"labels":{"alertname":"Was"},"annotations":{},"state":"resolved",)"
      R"("activeAt":"2023-11-14T22:13:20.123Z","value":"2e+00",)"
      R"("firedAt":"2023-11-14T22:13:20.123Z","resolvedAt":"2023-11-14T22:14:20.123Z"})"
      R"(]}})");
}

// Issue 12: ?state= and ?region= filter; an unknown state is refused with the known ones.
TEST(AlertsJsonTest, FiltersByStateAndRegion) {
  AlertTracker t;
  t.Update("alert:Down", Duration::Zero(), Duration::Zero(),
           {Cond(R"({alertname="Down",region="eu-west-1"})"),
            Cond(R"({alertname="Down",region="us-east-1"})")},
           kT0);
  t.Update("alert:Slow", Duration::Minutes(5), Duration::Zero(),
           {Cond(R"({alertname="Slow",region="eu-west-1"})")}, kT0);
  t.Update("nines:agents", Duration::Zero(), Duration::Zero(),
           {Cond(R"({alertname="NinesAgentDown",location="ashburn",regions="eu-west-1,us-east-1"})")},
           kT0);
  auto names = [&](std::vector<std::string> states, std::vector<std::string> regions) {
    auto f = ParseAlertFilter(states, regions);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    std::string json = AlertsJson(t.Alerts(), *f);
    int n = 0;
    for (size_t p = json.find("\"alertname\""); p != std::string::npos;
         p = json.find("\"alertname\"", p + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(names({}, {}), 4);
  EXPECT_EQ(names({"firing"}, {}), 3);
  EXPECT_EQ(names({"pending"}, {}), 1);
  EXPECT_EQ(names({"pending,firing"}, {}), 4);
  EXPECT_EQ(names({"resolved"}, {}), 0);
  EXPECT_EQ(names({}, {"us-east-1"}), 2);  // Down{us-east-1} and the agent that measured it
  EXPECT_EQ(names({"firing"}, {"eu-west-1"}), 2);
  EXPECT_EQ(names({}, {"ap-southeast-2"}), 0);
  auto bad = ParseAlertFilter({"fring"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"fring\" (known: pending, firing, resolved)"),
            std::string::npos);
}

TEST(AlertsJsonTest, ValuesAreFormattedAsPrometheusDoes) {
  const std::pair<double, std::string_view> cases[] = {
      {1, "1e+00"},
      {0, "0e+00"},
      {0.5, "5e-01"},
      {-3.25, "-3.25e+00"},
      {1209600, "1.2096e+06"},
      {1e-300, "1e-300"},
      {std::nan(""), "NaN"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const auto& [v, want] : cases) EXPECT_EQ(FormatAlertValue(v), want) << v;
}

}  // namespace
}  // namespace nines::api
