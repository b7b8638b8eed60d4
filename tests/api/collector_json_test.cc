// GET /api/v1/checks (the agent's statuses and the engine's latest results) and
// GET /api/v1/targets: the documents built from the collector's structured status, byte for
// byte (testdata/checks*.json, targets*.json).
#include <gtest/gtest.h>

#include "api/json.h"
#include "collector/agent.h"
#include "collector/collector.h"
#include "collector/scrape_manager.h"
#include "core/clock.h"
#include "store/store.h"
#include "tests/api/golden.h"
#include "tests/testutil/testutil.h"

namespace nines::api {
namespace {

using core::Duration;
using core::Timestamp;
using testing::ExpectGolden;

collector::CheckSpec Check(const std::string& name) {
  collector::CheckSpec c;
  c.name = name;
  c.service = "api";
  c.target = "https://" + name + ".example/healthz";
  c.region = "eu-west-1";
  c.location = "eu-west-1a";
  c.interval = Duration::Seconds(15);
  c.timeout = Duration::Seconds(5);
  return c;
}

// A check that never ran, one that failed after a success, and one without its spec (skipped).
TEST(ChecksJsonTest, AgentStatusesAreByteIdentical) {
  const Timestamp t0 = Timestamp::FromUnixSeconds(1'700'000'000);
  collector::CheckStatus never;
  never.check = std::make_shared<collector::CheckSpec>(Check("never"));
  collector::CheckStatus failed;
  failed.check = std::make_shared<collector::CheckSpec>(Check("api \"eu\""));
  failed.has_result = true;
  failed.last_due = t0 + Duration::Milliseconds(250);
  failed.last.success = false;
  failed.last.reason = "connect: connection refused\n";
  failed.last.duration = Duration::Milliseconds(1500);
  failed.last_success = t0 - Duration::Seconds(15);
  failed.runs = 3;
  failed.failures = 1;
  failed.skipped = 2;
  collector::CheckStatus orphan;
  orphan.has_result = true;
  ExpectGolden("checks_agent.json", CheckStatusesJson({never, failed, orphan}));
  EXPECT_EQ(CheckStatusesJson({}), R"({"status":"success","data":[]})");
}

TEST(ChecksJsonTest, ShowsTheLatestResultAndItsReason) {
  collector::CheckStatus s;
  auto spec = std::make_shared<collector::CheckSpec>(Check("api \"eu\""));
  s.check = spec;
  s.has_result = true;
  s.last_due = core::Timestamp::FromUnixSeconds(1'700'000'000);
  s.last.success = false;
  s.last.reason = "connect: connection refused";
  s.last.duration = Duration::Milliseconds(1500);
  s.runs = 3;
  s.failures = 1;
  std::string json = CheckStatusesJson({s});
  EXPECT_NE(json.find(R"("probe":"api \"eu\"")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("success":false,"duration_seconds":1.5,"reason":"connect: connection refused")"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("last_run":"2023-11-14T22:13:20.000Z")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("last_success":null,"runs":3,"failures":1,"skipped":0)"), std::string::npos)
      << json;
}

TEST(ChecksJsonTest, EngineLatestResultsAreByteIdentical) {
  testutil::TempDir dir;
  store::StoreOptions so;
  so.dir = dir.File("tsdb");
  core::FakeClock clock;
  auto st = std::move(*store::OpenStore(so, clock));
  const Timestamp t0 = clock.Now();
  collector::ProbeResult failed;
  failed.reason = "rcode NXDOMAIN not in valid_rcodes [NOERROR]";
  collector::ProbeResult success;
  success.success = true;
  auto app = st->NewAppender();
  ASSERT_TRUE(collector::AppendProbeResult(Check("dns-eu"), failed, t0, *app).ok());
  ASSERT_TRUE(collector::AppendProbeResult(Check("api \"eu\""), success, t0, *app).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto results = collector::LatestResults(*st, t0 + Duration::Seconds(20), Duration::Hours(1));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ExpectGolden("checks_engine.json", LatestResultsJson(*results));
}

TEST(TargetsJsonTest, ScrapeTargetsAreByteIdentical) {
  collector::ScrapeTargetStatus unknown;
  unknown.spec.job = "node";
  unknown.spec.url = "http://10.0.0.1:9100/metrics";
  unknown.spec.interval = Duration::Seconds(15);
  unknown.spec.timeout = Duration::Seconds(5);
  unknown.target_labels =
      core::Labels::From({{"instance", "10.0.0.1:9100"}, {"job", "node"}}).value();
  collector::ScrapeTargetStatus down = unknown;
  down.spec.url = "http://10.0.0.2:9100/metrics";
  down.has_result = true;
  down.last_scrape = Timestamp::FromUnixMillis(1'700'000'000'123);
  down.last_duration = Duration::Milliseconds(12);
  down.last_error = "status 500 \"oops\"";
  down.scrapes = 4;
  down.failures = 1;
  down.skipped = 1;
  collector::ScrapeTargetStatus up = down;
  up.up = true;
  up.last_error.clear();
  ExpectGolden("targets.json", ScrapeTargetsJson({unknown, down, up}));
  EXPECT_EQ(ScrapeTargetsJson({}),
            R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[]}})");
}

}  // namespace
}  // namespace nines::api
