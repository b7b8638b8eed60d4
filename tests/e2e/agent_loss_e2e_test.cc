// Issue 12, scenario 2, end to end: an engine and two agents (`nines serve`, `nines agent` x2 as
// child processes over loopback). A port in eu-west-1 is closed, probed from dublin and from
// ashburn (which also measures us-east-1); the SLO has quorum 2 and a threshold rule pages when
// two locations fail. Killing ashburn with SIGKILL must not blind nines nor resolve the page:
// NinesAgentDown fires for ashburn with both its regions, the SLO counts on with dublin alone
// (reduced coverage, never SloNoData), and the pages stay firing (the threshold one marked
// no_data, as it can no longer see two locations).
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "net/http_client.h"
#include "net/net.h"
#include "tests/testutil/testutil.h"

namespace nines {
namespace {

using std::chrono::milliseconds;
using testutil::NinesProcess;
using testutil::TempDir;

std::pair<int, std::string> Get(const std::string& url) {
  net::HttpClient client(net::ClientOptions{});
  net::ClientRequest req;
  req.url = url;
  auto resp = client.Do(req);
  if (!resp.ok()) return {0, resp.status().ToString()};
  return {resp->status, resp->body};
}

// The JSON object of the alert in `alerts` (an /api/v1/alerts body) whose labels contain every
// one of `parts`, or "".
std::string FindAlert(const std::string& alerts, const std::vector<std::string>& parts) {
  for (size_t at = alerts.find("{\"labels\":"); at != std::string::npos;
       at = alerts.find("{\"labels\":", at + 1)) {
    size_t end = alerts.find("{\"labels\":", at + 1);
    std::string one = alerts.substr(at, end == std::string::npos ? std::string::npos : end - at);
    std::string labels = one.substr(0, one.find("\"annotations\""));
    bool all = true;
    for (const std::string& p : parts) all = all && labels.find(p) != std::string::npos;
    if (all) return one;
  }
  return "";
}

TEST(AgentLossE2eTest, KillingOneOfTwoProbersKeepsThePageAndFiresNinesAgentDown) {
  TempDir dir;
  net::Router router;
  router.Handle("GET", "/health", net::Access::kPublic,
                [](const net::Request&) { return net::Response::Json(200, R"({"status":"ok"})"); });
  net::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.access_log = false;
  auto target = std::move(*net::Server::Start(so, std::move(router), core::RealClock(), nullptr));
  const int closed_port = testutil::UnusedPort();  // nothing listens: connection refused

  const int engine_port = testutil::UnusedPort();
  const std::string engine_url = "http://127.0.0.1:" + std::to_string(engine_port);
  dir.Write("rules-eu.yaml",
            "slos:\n"
            "  - name: port-eu\n    service: api\n    objective: 99.8\n"
            "    sli:\n      probe_availability: {selector: '{probe=\"port-eu\"}', quorum: 2}\n"
            "alerts:\n"
            "  - name: CheckFailingFromTwoLocations\n    selector: probe_success\n"
            "    op: \"==\"\n    threshold: 0\n    group_by: [probe, region]\n    min_count: 2\n"
            "    lookback: 20s\n    labels: {severity: page}\n");
  const std::string config = dir.Write(
      "nines.yaml",
      "storage:\n  self_scrape_interval: 0s\n"
      "slo:\n  evaluation_interval: 1s\n  agent_down_after: 10s\n"
      "regions:\n"
      "  - name: us-east-1\n    locations: [ashburn]\n"
      "  - name: eu-west-1\n    locations: [dublin]\n"
      "agent:\n  engine_url: " + engine_url + "/api/v1/write\n" +
      "  flush_interval: 200ms\n  heartbeat_interval: 1s\n  send_timeout: 2s\n"
      "services:\n  - name: api\n    checks:\n"
      "      - name: port-eu\n        region: eu-west-1\n        locations: [dublin, ashburn]\n"
      "        interval: 1s\n        timeout: 500ms\n"
      "        tcp: {address: \"127.0.0.1:" + std::to_string(closed_port) + "\"}\n"
      "      - name: web-us\n        region: us-east-1\n        interval: 1s\n"
      "        timeout: 500ms\n        http: {url: \"http://127.0.0.1:" +
      std::to_string(target->port()) + "/health\"}\n"
      "rule_files: [rules-eu.yaml]\n");

  NinesProcess engine({"serve", "--config", config, "--listen",
                       "127.0.0.1:" + std::to_string(engine_port), "--data-dir",
                       dir.File("engine"), "--log-level", "warning"});
  ASSERT_EQ(engine.WaitForUrl(), engine_url);
  auto agent = [&](const std::string& location) {
    return std::make_unique<NinesProcess>(std::vector<std::string>{
        "agent", "--config", config, "--location", location, "--listen", "127.0.0.1:0",
        "--queue-dir", dir.File("queue-" + location), "--log-level", "warning"});
  };
  auto dublin = agent("dublin");
  auto ashburn = agent("ashburn");
  ASSERT_FALSE(dublin->WaitForUrl().empty());
  ASSERT_FALSE(ashburn->WaitForUrl().empty());

  const std::string alerts_url = engine_url + "/api/v1/alerts?state=firing";
  const std::vector<std::string> slo_page = {R"("alertname":"SloBurnRate")",
                                             R"("region":"eu-west-1")", R"("severity":"page")"};
  const std::vector<std::string> check_page = {R"("alertname":"CheckFailingFromTwoLocations")",
                                               R"("region":"eu-west-1")"};
  // Both pages fire once a whole minute failed from both locations.
  ASSERT_TRUE(testutil::WaitFor(
      [&] {
        std::string a = Get(alerts_url).second;
        return !FindAlert(a, slo_page).empty() && !FindAlert(a, check_page).empty();
      },
      core::Duration::Seconds(150)))
      << Get(engine_url + "/api/v1/alerts").second;

  // Kill ashburn at about 40 s into a minute, so that the next minute (which starts more than
  // agent_down_after after its last heartbeat) is counted by dublin alone.
  while (true) {
    const int64_t sec = core::RealClock().Now().UnixMillis() / 1000 % 60;
    if (sec >= 38 && sec < 45) break;
    std::this_thread::sleep_for(milliseconds(250));
  }
  ashburn->Signal(SIGKILL);
  ASSERT_EQ(ashburn->Wait(milliseconds(10000)), 128 + SIGKILL);

  // NinesAgentDown for ashburn, with both regions it measured; none for dublin.
  std::string down;
  ASSERT_TRUE(testutil::WaitFor(
      [&] {
        down = FindAlert(Get(alerts_url).second,
                         {R"("alertname":"NinesAgentDown")", R"("location":"ashburn")"});
        return !down.empty();
      },
      core::Duration::Seconds(60)));
  EXPECT_NE(down.find(R"("regions":"eu-west-1,us-east-1")"), std::string::npos) << down;
  EXPECT_TRUE(FindAlert(Get(alerts_url).second, {R"("location":"dublin")"}).empty());
  // ?region= finds it through its regions; an unknown state is a 400 with the reason.
  EXPECT_FALSE(FindAlert(Get(alerts_url + "&region=us-east-1").second,
                         {R"("alertname":"NinesAgentDown")"})
                   .empty());
  auto [status, body] = Get(engine_url + "/api/v1/alerts?state=fireing");
  EXPECT_EQ(status, 400);
  EXPECT_NE(body.find("fireing"), std::string::npos) << body;

  // The SLO counts on with dublin alone: reduced coverage at the newest minute.
  ASSERT_TRUE(testutil::WaitFor(
      [&] {
        return Get(engine_url + "/api/v1/slos/port-eu")
                   .second.find(R"("reduced_coverage":{"quorum":2,"live":1,"lost":["ashburn"]})") !=
               std::string::npos;
      },
      core::Duration::Seconds(150)))
      << Get(engine_url + "/api/v1/slos/port-eu").second;
  // ... and the pages still fire; the threshold page is marked no_data, not resolved; no
  // SloNoData.
  std::string all = Get(engine_url + "/api/v1/alerts").second;
  std::string slo_alert = FindAlert(all, slo_page);
  EXPECT_NE(slo_alert.find(R"("state":"firing")"), std::string::npos) << all;
  std::string check_alert = FindAlert(all, check_page);
  EXPECT_NE(check_alert.find(R"("state":"firing")"), std::string::npos) << all;
  EXPECT_NE(check_alert.find(R"("no_data":"true")"), std::string::npos) << all;
  EXPECT_TRUE(FindAlert(all, {R"("alertname":"SloNoData")"}).empty()) << all;
  EXPECT_EQ(all.find(R"("state":"resolved")"), std::string::npos) << all;

  EXPECT_EQ(dublin->Stop(), 0);
  EXPECT_EQ(engine.Stop(), 0);
  target->Shutdown();
}

}  // namespace
}  // namespace nines
