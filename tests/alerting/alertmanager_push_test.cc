// AlertmanagerNotifier (alerting/alertmanager_push.h): the postableAlerts body,
// batches, auth headers, metrics and failures against a local receiver; then
// the real Alertmanager (Debian's prometheus-alertmanager 0.25,
// $NINES_ALERTMANAGER to override) started on loopback, whose webhook delivers
// what nines pushed, firing then resolved, to a local receiver.
#include "alerting/alertmanager_push.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include <csignal>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/net.h"
#include "tests/alerting/test_helpers.h"
#include "tests/testutil/testutil.h"

namespace nines::alerting {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::At;
using testing::L;

Alert Firing(std::string_view labels, core::Timestamp starts, core::Timestamp ends) {
  Alert a;
  a.labels = L(labels);
  a.annotations = {{"summary", "budget \"burning\""}, {"runbook_url", "http://runbooks/burn"}};
  a.status = AlertStatus::kFiring;
  a.starts_at = starts;
  a.ends_at = ends;
  a.generator_url = "http://nines:9099/slo/api-availability";
  return a;
}

TEST(PostableAlertsJsonTest, PrometheusNotifierShape) {
  Alert a = Firing(R"({alertname="Burn",region="eu-west-1"})", At("2026-12-07T10:00:00Z"),
                   At("2026-12-07T10:04:00Z"));
  Alert b;
  b.labels = L(R"({alertname="Bare"})");
  b.status = AlertStatus::kFiring;
  EXPECT_EQ(
      PostableAlertsJson({a, b}),
      R"([{"labels":{"alertname":"Burn","region":"eu-west-1"},)"
      R"("annotations":{"runbook_url":"http://runbooks/burn","summary":"budget \"burning\""},)"
      R"("startsAt":"2026-12-07T10:00:00.000Z","endsAt":"2026-12-07T10:04:00.000Z",)"
      R"("generatorURL":"http://nines:9099/slo/api-availability"},)"
      R"({"labels":{"alertname":"Bare"},"annotations":{}}])");
  EXPECT_EQ(PostableAlertsJson({}), "[]");
}

TEST(AlertmanagerNotifierTest, CreateRefusesBadOptions) {
  const std::pair<AlertmanagerPushOptions, const char*> cases[] = {
      {{}, "at least one Alertmanager URL"},
      {{.urls = {"ftp://am:9093"}}, "alertmanager url #1"},
      {{.urls = {"http://ok:9093", "http://user:pw@am:9093"}}, "alertmanager url #2"},
      {{.urls = {"http://am:9093/?token=x"}}, "must not have a query"},
      {{.urls = {"http://am:9093"}, .timeout = core::Duration::Zero()}, "timeout"},
      {{.urls = {"http://am:9093"}, .max_batch = 0}, "max_batch"},
      {{.urls = {"http://am:9093"}, .bearer_token = "t", .basic_auth_username = "u"},
       "mutually exclusive"},
  };
  for (const auto& [options, want] : cases) {
    SCOPED_TRACE(want);
    auto n = AlertmanagerNotifier::Create(options);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_THAT(n.status().message(), HasSubstr(want));
    EXPECT_THAT(n.status().message(), Not(HasSubstr("pw")));
  }
}

// A local Alertmanager stand-in: records each POST /prefix/api/v2/alerts and
// answers `status`.
class Receiver {
 public:
  Receiver() {
    net::Router router;
    router.Handle("POST", "/prefix/api/v2/alerts", net::Access::kPublic,
                  [this](const net::Request& req) {
                    std::lock_guard<std::mutex> lock(mu_);
                    requests_.push_back(req);
                    return net::Response::Text(status_, "nope: " + std::to_string(status_));
                  });
    auto s = net::Server::Start({.listen = "127.0.0.1:0"}, std::move(router), core::RealClock(),
                                nullptr);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  std::string url() const { return "http://" + server_->address() + "/prefix/"; }
  std::vector<net::Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void set_status(int s) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = s;
  }

 private:
  mutable std::mutex mu_;
  std::vector<net::Request> requests_;  // guarded by mu_
  int status_ = 200;                    // guarded by mu_
  std::unique_ptr<net::Server> server_;
};

size_t CountAlerts(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  EXPECT_FALSE(doc.HasParseError()) << body;
  EXPECT_TRUE(doc.IsArray()) << body;
  return doc.IsArray() ? doc.Size() : 0;
}

TEST(AlertmanagerNotifierTest, PostsBatchesOfAtMost64ToEveryAlertmanagerWithTheToken) {
  Receiver a, b;
  prometheus::Registry registry;
  auto n = AlertmanagerNotifier::Create(
      {.urls = {a.url(), b.url()}, .bearer_token = "s3cret-token", .registry = &registry});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  std::vector<Alert> alerts;
  for (int i = 0; i < 130; ++i) {
    alerts.push_back(Firing(R"({alertname="Burn",n=")" + std::to_string(i) + "\"}",
                            At("2026-12-07T10:00:00Z"), At("2026-12-07T10:04:00Z")));
  }
  (*n)->Notify(alerts);
  for (Receiver* r : {&a, &b}) {
    auto reqs = r->requests();
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(CountAlerts(reqs[0].body), 64u);
    EXPECT_EQ(CountAlerts(reqs[1].body), 64u);
    EXPECT_EQ(CountAlerts(reqs[2].body), 2u);
    EXPECT_EQ(reqs[0].headers.Get("Authorization"), "Bearer s3cret-token");
    EXPECT_EQ(reqs[0].headers.Get("Content-Type"), "application/json");
    EXPECT_THAT(reqs[2].body, HasSubstr(R"("n":"129")"));
  }
  EXPECT_EQ((*n)->alerts_sent(), 260u);
  EXPECT_EQ((*n)->alerts_failed(), 0u);
  const std::string name_a = a.url().substr(0, a.url().size() - 1);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_alertmanager_notifications_total",
                                  {{"alertmanager", name_a}}),
            130);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_alertmanager_notification_latency_seconds",
                                  {{"alertmanager", name_a}}),
            3);
}

TEST(AlertmanagerNotifierTest, FailuresAreCountedAndLoggedWithoutSecrets) {
  Receiver a;
  a.set_status(500);
  prometheus::Registry registry;
  std::vector<std::string> lines;
  std::mutex mu;
  testutil::ScopedLogSink sink([&](std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  // The second Alertmanager refuses connections.
  const std::string refused = "http://127.0.0.1:" + std::to_string(testutil::UnusedPort());
  auto n = AlertmanagerNotifier::Create({.urls = {a.url(), refused},
                                         .timeout = core::Duration::Seconds(2),
                                         .basic_auth_username = "nines",
                                         .basic_auth_password = "pa55word",
                                         .registry = &registry});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  (*n)->Notify({Firing(R"({alertname="A"})", At("2026-12-07T10:00:00Z"), core::Timestamp())});
  ASSERT_EQ(a.requests().size(), 1u);
  // "nines:pa55word", base64.
  EXPECT_EQ(a.requests()[0].headers.Get("Authorization"), "Basic bmluZXM6cGE1NXdvcmQ=");
  EXPECT_THAT(a.requests()[0].body,
              Not(HasSubstr("endsAt")));  // zero: left to the receiver
  EXPECT_EQ((*n)->alerts_failed(), 2u);
  EXPECT_EQ((*n)->alerts_sent(), 0u);
  EXPECT_EQ(testutil::MetricValue(registry, "nines_alertmanager_notification_errors_total",
                                  {{"alertmanager", refused}}),
            1);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 2u);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_THAT(all, HasSubstr("answered 500: nope: 500"));
  EXPECT_THAT(all, HasSubstr(refused));
  EXPECT_THAT(all, Not(HasSubstr("pa55word")));
  EXPECT_THAT(all, Not(HasSubstr("bmluZXM6cGE1NXdvcmQ")));
}

// ---- the real Alertmanager ----------------------------------------------------------------------

std::string AlertmanagerBinary() {
  const char* env = std::getenv("NINES_ALERTMANAGER");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/prometheus-alertmanager";
}

// The webhook receiver Alertmanager delivers to: keeps each payload.
class Webhook {
 public:
  Webhook() {
    net::Router router;
    router.Handle("POST", "/hook", net::Access::kPublic, [this](const net::Request& req) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(req.body);
      return net::Response::Text(200, "ok");
    });
    auto s = net::Server::Start({.listen = "127.0.0.1:0"}, std::move(router), core::RealClock(),
                                nullptr);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  std::string url() const { return "http://" + server_->address() + "/hook"; }
  // The first payload whose "status" is `status`, or "".
  std::string Find(std::string_view status) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& b : bodies_) {
      rapidjson::Document doc;
      doc.Parse(b.c_str());
      if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("status") &&
          doc["status"].IsString() && status == doc["status"].GetString()) {
        return b;
      }
    }
    return "";
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;  // guarded by mu_
  std::unique_ptr<net::Server> server_;
};

std::string Str(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) return "<none>";
  return object[name].GetString();
}

TEST(AlertmanagerPushE2eTest, TheRealAlertmanagerDeliversWhatNinesPushedThenItsResolution) {
  testutil::TempDir dir;
  Webhook webhook;
  const int port = testutil::UnusedPort();
  const std::string config = dir.Write("alertmanager.yml", R"(route:
  receiver: hook
  group_by: [alertname, region]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: )" + webhook.url() + R"(
        send_resolved: true
)");
  testutil::ChildProcess am(
      {AlertmanagerBinary(), "--config.file=" + config, "--storage.path=" + dir.File("data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(port), "--cluster.listen-address="});
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  net::HttpClient probe;
  ASSERT_TRUE(testutil::WaitFor(
      [&] {
        auto r = probe.Do({.url = base + "/-/ready"});
        return r.ok() && r->status == 200;
      },
      core::Duration::Seconds(30)))
      << am.output();

  auto n = AlertmanagerNotifier::Create({.urls = {base}});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  const core::Timestamp now = core::RealClock().Now();
  Alert alert = Firing(R"({alertname="SLOBurn",region="eu-west-1",severity="page",slo="api"})",
                       now - core::Duration::Minutes(1), now + core::Duration::Minutes(4));
  (*n)->Notify({alert});
  EXPECT_EQ((*n)->alerts_sent(), 1u);

  std::string firing;
  ASSERT_TRUE(testutil::WaitFor([&] { return !(firing = webhook.Find("firing")).empty(); },
                                core::Duration::Seconds(30)))
      << am.output();
  rapidjson::Document doc;
  doc.Parse(firing.c_str());
  ASSERT_TRUE(doc.IsObject()) << firing;
  EXPECT_EQ(Str(doc, "version"), "4");
  EXPECT_EQ(Str(doc, "receiver"), "hook");
  ASSERT_TRUE(doc["alerts"].IsArray() && doc["alerts"].Size() == 1) << firing;
  const rapidjson::Value& got = doc["alerts"][0];
  EXPECT_EQ(Str(got, "status"), "firing");
  EXPECT_EQ(Str(got["labels"], "alertname"), "SLOBurn");
  EXPECT_EQ(Str(got["labels"], "region"), "eu-west-1");
  EXPECT_EQ(Str(got["labels"], "severity"), "page");
  EXPECT_EQ(Str(got["labels"], "slo"), "api");
  EXPECT_EQ(got["labels"].MemberCount(), 4u);
  EXPECT_EQ(Str(got["annotations"], "summary"), "budget \"burning\"");
  EXPECT_EQ(Str(got["annotations"], "runbook_url"), "http://runbooks/burn");
  EXPECT_EQ(Str(got, "generatorURL"), alert.generator_url);
  auto starts = core::ParseTimestamp(Str(got, "startsAt"));
  ASSERT_TRUE(starts.ok()) << firing;
  EXPECT_EQ(starts->UnixMillis(), alert.starts_at.UnixMillis());

  // Resolved, as the rule engine sends it once: the resolution comes through.
  alert.status = AlertStatus::kResolved;
  alert.ends_at = core::RealClock().Now();
  (*n)->Notify({alert});
  std::string resolved;
  ASSERT_TRUE(testutil::WaitFor([&] { return !(resolved = webhook.Find("resolved")).empty(); },
                                core::Duration::Seconds(30)))
      << am.output();
  doc.Parse(resolved.c_str());
  ASSERT_TRUE(doc.IsObject() && doc["alerts"].IsArray() && doc["alerts"].Size() == 1) << resolved;
  EXPECT_EQ(Str(doc["alerts"][0], "status"), "resolved");
  EXPECT_EQ(Str(doc["alerts"][0]["labels"], "region"), "eu-west-1");
  auto ends = core::ParseTimestamp(Str(doc["alerts"][0], "endsAt"));
  ASSERT_TRUE(ends.ok()) << resolved;
  EXPECT_EQ(ends->UnixMillis(), alert.ends_at.UnixMillis());

  am.Signal(SIGTERM);
  EXPECT_TRUE(am.Wait(std::chrono::seconds(15)).has_value());
}

}  // namespace
}  // namespace nines::alerting
