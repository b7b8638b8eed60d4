// A real Prometheus (Debian's 2.42, $NINES_PROMETHEUS to override) with nines as its
// Alertmanager: its notifier POSTs /api/v2/alerts with a bearer token, and the alert arrives in
// nines as Prometheus sent it (labels, annotations, startsAt, an endsAt in the future,
// generatorURL), so nines can replace an Alertmanager behind an existing Prometheus.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "api/alertmanager_api.h"
#include "core/clock.h"
#include "tests/api/dispatcher_backend.h"
#include "tests/testutil/testutil.h"

namespace nines::api {
namespace {

using ::testing::HasSubstr;

TEST(PrometheusPushTest, PrometheusAlertsArriveThroughTheAlertmanagerApi) {
  const char* env = std::getenv("NINES_PROMETHEUS");
  const std::string binary = env != nullptr && *env != '\0' ? env : "/usr/bin/prometheus";
  ASSERT_TRUE(std::filesystem::exists(binary))
      << binary << " is not installed: run scripts/install-deps.sh (Debian's prometheus)";

  alerting::AlertmanagerConfig config;
  config.route.receiver = "pager";
  config.receivers = {{"pager", {}}};
  testing::DispatcherBackend backend(config, core::RealClock());
  net::Router router;
  RegisterAlertmanagerRoutes(router, backend, core::RealClock());
  net::ServerOptions options{.listen = "127.0.0.1:0", .threads = 2};
  options.write_tokens = {"prom-token"};
  auto server = net::Server::Start(options, std::move(router), core::RealClock(), nullptr);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  testutil::TempDir dir;
  dir.Write("rules.yml", R"(groups:
  - name: nines
    interval: 1s
    rules:
      - alert: RegionBurn
        expr: vector(1)
        labels: {severity: page, region: eu-west-1}
        annotations: {summary: "budget burning at {{ $value }}x"}
)");
  const std::string prometheus_config = dir.Write("prometheus.yml", R"(global:
  evaluation_interval: 1s
rule_files: [)" + dir.File("rules.yml") + R"(]
alerting:
  alertmanagers:
    - authorization:
        credentials: prom-token
      static_configs:
        - targets: [")" + (*server)->address() + R"("]
)");
  std::filesystem::create_directories(dir.File("data"));
  const int port = testutil::UnusedPort();
  testutil::ChildProcess prometheus(
      {binary, "--config.file=" + prometheus_config, "--storage.tsdb.path=" + dir.File("data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(port),
       // Its notifier discovers nines a few seconds after the first evaluation; resend soon.
       "--rules.alert.resend-delay=1s"});

  ASSERT_TRUE(
      testutil::WaitFor([&] { return !backend.Alerts().empty(); }, core::Duration::Seconds(60)))
      << prometheus.output();
  const std::vector<alerting::AlertView> alerts = backend.Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  const alerting::Alert& a = alerts[0].alert;
  EXPECT_EQ(a.labels.ToString(), R"({alertname="RegionBurn",region="eu-west-1",severity="page"})");
  ASSERT_EQ(a.annotations.count("summary"), 1u);
  EXPECT_EQ(a.annotations.at("summary"), "budget burning at 1x");
  EXPECT_EQ(a.status, alerting::AlertStatus::kFiring);
  const core::Timestamp now = core::RealClock().Now();
  EXPECT_LE(a.starts_at, now);
  EXPECT_GT(a.starts_at, now - core::Duration::Minutes(1));
  // Prometheus' endsAt: its last send + 4 x max(evaluation interval, resend delay), 4s here.
  EXPECT_GT(a.ends_at, a.starts_at + core::Duration::Seconds(3));
  EXPECT_THAT(a.generator_url, HasSubstr("/graph?g0.expr=vector%281%29"));
  EXPECT_EQ(alerts[0].receivers, std::vector<std::string>{"pager"});

  prometheus.Signal(SIGTERM);
  EXPECT_TRUE(prometheus.Wait(std::chrono::seconds(30)).has_value());
}

}  // namespace
}  // namespace nines::api
