// EngineAlerting's Alertmanager API v2 before Start, while running and after Stop: 503 (which
// Prometheus and amtool retry) rather than empty lists, and a POST /api/v2/alerts that is not
// taken is not answered 200.
#include "app/engine_alerting.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "core/clock.h"
#include "net/http_client.h"
#include "net/net.h"
#include "tests/testutil/testutil.h"

namespace nines::app {
namespace {

using ::testing::HasSubstr;

TEST(EngineAlertingTest, AlertmanagerApiAnswers503UnlessTheServiceRuns) {
  testutil::TempDir dir;
  Config cfg;
  std::vector<ConfigError> errors = ParseConfig(
      "storage:\n  data_dir: " + dir.File("data") +
          "\nalerting:\n  route: {receiver: team}\n  receivers:\n    - name: team\n",
      dir.File("nines.yaml"), &cfg);
  ASSERT_TRUE(errors.empty()) << errors.front().message;
  ASSERT_TRUE(cfg.alerting.routing);

  EngineAlerting engine(core::RealClock(), nullptr);
  net::Router router;
  engine.RegisterRoutes(cfg, router);
  net::ServerOptions options{.listen = "127.0.0.1:0", .threads = 2};
  options.write_tokens = {"w"};
  auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string base = "http://" + (*server)->address();
  net::HttpClient client;
  auto request = [&](std::string method, std::string path, std::string body = "") {
    net::ClientRequest req{.method = std::move(method), .url = base + path, .body = std::move(body)};
    req.headers.Set("Authorization", "Bearer w");
    req.headers.Set("Content-Type", "application/json");
    auto res = client.Do(req);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : net::ClientResponse{};
  };
  const std::string alert = R"([{"labels":{"alertname":"Burn"}}])";

  auto r = request("POST", "/api/v2/alerts", alert);
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("not running"));
  EXPECT_EQ(request("GET", "/api/v2/alerts").status, 503);
  EXPECT_EQ(request("GET", "/api/v2/silences").status, 503);

  ASSERT_TRUE(engine.Start(cfg, base).ok());
  EXPECT_EQ(request("POST", "/api/v2/alerts", alert).status, 200);
  EXPECT_TRUE(testutil::WaitFor(
      [&] { return request("GET", "/api/v2/alerts").body.find("Burn") != std::string::npos; }));

  engine.Stop();
  EXPECT_EQ(request("POST", "/api/v2/alerts", alert).status, 503);
  EXPECT_EQ(request("GET", "/api/v2/alerts").status, 503);
  (*server)->Shutdown();
}

}  // namespace
}  // namespace nines::app
