// The payloads of each integration kind (alerting/notifiers.h), checked field by field after
// parsing them back with RapidJSON, and the webhook's against a golden text.
#include "alerting/notifiers.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <string>
#include <vector>

#include "alerting/notify_internal.h"
#include "alerting/template_set.h"

namespace nines::alerting {
namespace {

using core::Timestamp;
using notify_internal::GoJsonTime;
using notify_internal::MaskUrl;
using notify_internal::Sha256Hex;
using notify_internal::TruncateRunes;

constexpr Timestamp kStart = Timestamp::FromUnixSeconds(1'796'641'200);  // 2026-12-07T11:00:00Z
constexpr char kGroupKey[] =
    "{}/{severity=\"page\"}:{alertname=\"SloBurnRate\", region=\"eu-west-1\", "
    "slo=\"api-availability\"}";
// sha256 of kGroupKey (Python's hashlib).
constexpr char kGroupKeyHash[] =
    "ffb933d9e020def830dab239cedeb88f55f295fb271989cc9d311b090fcf44d4";
constexpr char kExternalUrl[] = "http://nines.example.com:9099";

core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : core::Labels();
}

// An SLO burn-rate alert of nines' rule engine in `region`.
Alert SloAlert(std::string_view region, AlertStatus status) {
  Alert a;
  a.labels = L("{alertname=\"SloBurnRate\", region=\"" + std::string(region) +
                "\", service=\"api\", severity=\"page\", slo=\"api-availability\"}");
  a.annotations = {{"summary", "SLO api-availability in " + std::string(region) + " burns"},
                   {"budget_remaining", "12.5"},
                   {"budget_total", "43.2"},
                   {"budget_unit", "minutes"},
                   {"budget_remaining_ratio", "0.289352"},
                   {"long_burn_rate", "15.2"},
                   {"short_burn_rate", "41"},
                   {"window_pair", "1h/5m"},
                   {"exhaustion_at_1h_burn", "2026-12-07T12:49:00.000Z"}};
  a.status = status;
  a.starts_at = kStart;
  // As the dispatcher hands them over: a firing alert's ends_at is cleared (Go's zero time).
  a.ends_at = status == AlertStatus::kFiring ? Timestamp()
                                             : kStart + core::Duration::Seconds(1800) +
                                                   core::Duration::Milliseconds(250);
  a.generator_url = "http://nines.example.com:9099/api/v1/slos/api-availability";
  return a;
}

Notification MakeNotification(IntegrationKind kind, std::vector<Alert> alerts) {
  Notification n;
  n.receiver = "oncall";
  n.integration_index = 0;
  n.integration_kind = kind;
  n.group_key = kGroupKey;
  n.group_labels = L("{alertname=\"SloBurnRate\", region=\"eu-west-1\", slo=\"api-availability\"}");
  n.alerts = std::move(alerts);
  n.at = kStart + core::Duration::Seconds(30);
  return n;
}

Integration MakeIntegration(IntegrationKind kind, std::map<std::string, std::string> fields,
                            bool send_resolved = true) {
  Integration i;
  i.kind = kind;
  i.send_resolved = send_resolved;
  i.fields = std::move(fields);
  return i;
}

class NotifiersTest : public ::testing::Test {
 protected:
  core::Result<std::vector<OutgoingRequest>> Build(const Notification& n, const Integration& i,
                                                   const GlobalConfig& g = {}) {
    return BuildRequests(n, i, g, context_);
  }

  // The one request `n` makes, with its JSON body parsed into `doc`.
  OutgoingRequest One(const Notification& n, const Integration& i, rapidjson::Document* doc,
                      const GlobalConfig& g = {}) {
    auto reqs = Build(n, i, g);
    EXPECT_TRUE(reqs.ok()) << reqs.status().ToString();
    if (!reqs.ok() || reqs->size() != 1) {
      ADD_FAILURE() << "want one request";
      return {};
    }
    const OutgoingRequest& r = (*reqs)[0];
    if (doc != nullptr) {
      doc->Parse(r.http.body.c_str());
      EXPECT_FALSE(doc->HasParseError()) << r.http.body;
    }
    return r;
  }

  TemplateSet templates_;
  NotifyContext context_{kExternalUrl, &templates_};
};

std::string Str(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject() || !v.HasMember(name) || !v[name].IsString()) {
    ADD_FAILURE() << "no string member " << name;
    return "";
  }
  return v[name].GetString();
}

// ---------------------------------------------------------------------------------------------
// Helpers

TEST(NotifyHelpersTest, GoJsonTimeTrimsNanosAndPrintsZeroAsGo) {
  EXPECT_EQ(GoJsonTime(Timestamp()), "0001-01-01T00:00:00Z");
  EXPECT_EQ(GoJsonTime(kStart), "2026-12-07T11:00:00Z");
  EXPECT_EQ(GoJsonTime(kStart + core::Duration::Milliseconds(250)), "2026-12-07T11:00:00.25Z");
  EXPECT_EQ(GoJsonTime(Timestamp::FromUnixNanos(1'796'641'200'000'000'001)),
            "2026-12-07T11:00:00.000000001Z");
  EXPECT_EQ(GoJsonTime(Timestamp::FromUnixSeconds(951'782'400)), "2000-02-29T00:00:00Z");
}

TEST(NotifyHelpersTest, Sha256HexIsTheStandardDigest) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(kGroupKey), kGroupKeyHash);
}

TEST(NotifyHelpersTest, TruncateRunesAsAlertmanager) {
  EXPECT_EQ(TruncateRunes("abcdef", 6), "abcdef");
  EXPECT_EQ(TruncateRunes("abcdef", 5), "abcd\u2026");
  EXPECT_EQ(TruncateRunes("abcdef", 3), "abc");
  EXPECT_EQ(TruncateRunes("\u00e9\u00e9\u00e9\u00e9\u00e9", 4), "\u00e9\u00e9\u00e9\u2026");
}

TEST(NotifyHelpersTest, MaskUrlHidesPathsQueriesAndUserInfo) {
  EXPECT_EQ(MaskUrl("https://hooks.slack.com/services/T0/B0/XXXX", false),
            "https://hooks.slack.com/<secret>");
  EXPECT_EQ(MaskUrl("http://user:pw@127.0.0.1:8080/hook?token=abc", false),
            "http://127.0.0.1:8080/<secret>");
  EXPECT_EQ(MaskUrl("http://127.0.0.1:8080", false), "http://127.0.0.1:8080");
  EXPECT_EQ(MaskUrl("https://events.pagerduty.com/v2/enqueue", true),
            "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(MaskUrl("https://api.opsgenie.com/v2/alerts/x/close?identifierType=alias&k=s", true),
            "https://api.opsgenie.com/v2/alerts/x/close?identifierType=<secret>&k=<secret>");
}

TEST(NotifyHelpersTest, MakeTemplateDataHasCommonLabelsAndFingerprints) {
  Notification n = MakeNotification(IntegrationKind::kWebhook,
                                    {SloAlert("eu-west-1", AlertStatus::kFiring),
                                     SloAlert("us-east-1", AlertStatus::kResolved)});
  n.receiver = "on.call";
  TemplateData d = MakeTemplateData(n, kExternalUrl);
  EXPECT_EQ(d.receiver, "on\\.call");  // Alertmanager's regexp.QuoteMeta
  EXPECT_EQ(d.status, "firing");
  ASSERT_EQ(d.alerts.size(), 2u);
  EXPECT_EQ(d.alerts[0].fingerprint, n.alerts[0].Fingerprint().ToString());
  EXPECT_EQ(d.common_labels.count("region"), 0u);
  EXPECT_EQ(d.common_labels.at("slo"), "api-availability");
  EXPECT_EQ(d.common_annotations.count("summary"), 0u);
  EXPECT_EQ(d.common_annotations.at("budget_unit"), "minutes");
  EXPECT_EQ(d.group_labels.at("region"), "eu-west-1");
  EXPECT_EQ(d.external_url, kExternalUrl);
}

// ---------------------------------------------------------------------------------------------
// Webhook

TEST_F(NotifiersTest, WebhookMatchesTheGoldenV4Payload) {
  Alert a = SloAlert("eu-west-1", AlertStatus::kFiring);
  a.annotations = {{"summary", "burns <fast> & \"hot\""}};
  Notification n = MakeNotification(IntegrationKind::kWebhook, {a});
  auto req = One(n, MakeIntegration(IntegrationKind::kWebhook,
                                    {{"url", "http://127.0.0.1:9/hook/secret"}}),
                 nullptr);
  const std::string fp = a.Fingerprint().ToString();
  const std::string golden =
      R"({"receiver":"oncall","status":"firing","alerts":[{"status":"firing",)"
      R"("labels":{"alertname":"SloBurnRate","region":"eu-west-1","service":"api",)"
      R"("severity":"page","slo":"api-availability"},)"
      R"("annotations":{"summary":"burns <fast> & \"hot\""},)"
      R"("startsAt":"2026-12-07T11:00:00Z","endsAt":"0001-01-01T00:00:00Z",)"
      R"("generatorURL":"http://nines.example.com:9099/api/v1/slos/api-availability",)"
      R"("fingerprint":")" + fp + R"("}],"notification_reason":"first notification",)"
      R"("groupLabels":{"alertname":"SloBurnRate","region":"eu-west-1","slo":"api-availability"},)"
      R"("commonLabels":{"alertname":"SloBurnRate","region":"eu-west-1","service":"api",)"
      R"("severity":"page","slo":"api-availability"},)"
      R"("commonAnnotations":{"summary":"burns <fast> & \"hot\""},"routeLabels":{},)"
      R"("externalURL":"http://nines.example.com:9099","version":"4",)"
      R"("groupKey":"{}/{severity=\"page\"}:{alertname=\"SloBurnRate\", region=\"eu-west-1\", )"
      R"(slo=\"api-availability\"}","truncatedAlerts":0})"
      "\n";
  EXPECT_EQ(req.http.body, golden);
  EXPECT_EQ(req.http.method, "POST");
  EXPECT_EQ(req.http.url, "http://127.0.0.1:9/hook/secret");
  EXPECT_EQ(req.http.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(req.http.headers.Get("User-Agent"), "nines/" NINES_VERSION);
  EXPECT_FALSE(req.http.headers.Has("Authorization"));
  EXPECT_EQ(req.target, "http://127.0.0.1:9/<secret>");
  EXPECT_EQ(req.dedup_key, "");
}

TEST_F(NotifiersTest, WebhookTruncatesToMaxAlertsAndComputesDataOnTheRest) {
  Notification n = MakeNotification(IntegrationKind::kWebhook,
                                    {SloAlert("ap-southeast-2", AlertStatus::kResolved),
                                     SloAlert("eu-west-1", AlertStatus::kFiring),
                                     SloAlert("us-east-1", AlertStatus::kFiring)});
  rapidjson::Document doc;
  One(n, MakeIntegration(IntegrationKind::kWebhook,
                         {{"url", "http://127.0.0.1:9/"}, {"max_alerts", "1"}}),
      &doc);
  EXPECT_EQ(doc["truncatedAlerts"].GetUint64(), 2u);
  ASSERT_EQ(doc["alerts"].Size(), 1u);
  EXPECT_EQ(Str(doc["alerts"][0], "status"), "resolved");
  EXPECT_EQ(Str(doc["alerts"][0], "endsAt"), "2026-12-07T11:30:00.25Z");
  // The status and common labels are those of the alert sent, as in Alertmanager.
  EXPECT_EQ(Str(doc, "status"), "resolved");
  EXPECT_EQ(Str(doc["commonLabels"], "region"), "ap-southeast-2");
  EXPECT_EQ(Str(doc, "version"), "4");
  EXPECT_EQ(Str(doc, "groupKey"), kGroupKey);
}

TEST_F(NotifiersTest, WebhookAuthenticatesAsHttpConfigSays) {
  Notification n = MakeNotification(IntegrationKind::kWebhook,
                                    {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto basic = One(n, MakeIntegration(IntegrationKind::kWebhook,
                                      {{"url", "http://127.0.0.1:9/"},
                                       {"http_config.basic_auth.username", "Aladdin"},
                                       {"http_config.basic_auth.password", "open sesame"}}),
                   nullptr);
  EXPECT_EQ(basic.http.headers.Get("Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

  auto bearer = One(n, MakeIntegration(IntegrationKind::kWebhook,
                                       {{"url", "http://127.0.0.1:9/"},
                                        {"http_config.authorization.credentials", "tok"}}),
                    nullptr);
  EXPECT_EQ(bearer.http.headers.Get("Authorization"), "Bearer tok");

  // No http_config of its own: the global one applies.
  GlobalConfig g;
  g.fields = {{"http_config.authorization.type", "Token"},
              {"http_config.authorization.credentials", "glob"}};
  auto global = One(n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://127.0.0.1:9/"}}),
                    nullptr, g);
  EXPECT_EQ(global.http.headers.Get("Authorization"), "Token glob");

  auto file = Build(n, MakeIntegration(IntegrationKind::kWebhook,
                                       {{"url", "http://127.0.0.1:9/"},
                                        {"http_config.basic_auth.username", "u"},
                                        {"http_config.basic_auth.password_file", "/p"}}));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(file.status().message().find("receiver oncall, webhook[0]"), std::string::npos)
      << file.status().message();
}

TEST_F(NotifiersTest, WebhookUrlIsTemplatedAndErrorsNameTheField) {
  Notification n = MakeNotification(IntegrationKind::kWebhook,
                                    {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto req = One(n, MakeIntegration(IntegrationKind::kWebhook,
                                    {{"url", "http://127.0.0.1:9/{{ .GroupLabels.region }}"}}),
                 nullptr);
  EXPECT_EQ(req.http.url, "http://127.0.0.1:9/eu-west-1");

  auto bad = Build(n, MakeIntegration(IntegrationKind::kWebhook,
                                      {{"url", "http://127.0.0.1:9/{{ .Nope.x }"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("receiver oncall, webhook[0], field url"),
            std::string::npos)
      << bad.status().message();

  auto not_http = Build(n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "ftp://x/y"}}));
  EXPECT_FALSE(not_http.ok());
  // The URL may hold a secret: errors do not repeat it.
  EXPECT_EQ(not_http.status().message().find("ftp://x/y"), std::string::npos);
}

TEST_F(NotifiersTest, ResolvedOnlyNotificationSendsNothingWithoutSendResolved) {
  Notification n = MakeNotification(IntegrationKind::kWebhook,
                                    {SloAlert("eu-west-1", AlertStatus::kResolved)});
  auto reqs = Build(n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://127.0.0.1:9/"}},
                                       /*send_resolved=*/false));
  ASSERT_TRUE(reqs.ok());
  EXPECT_TRUE(reqs->empty());
}

TEST_F(NotifiersTest, NoTemplateSetIsAnError) {
  Notification n = MakeNotification(IntegrationKind::kWebhook,
                                    {SloAlert("eu-west-1", AlertStatus::kFiring)});
  NotifyContext none{kExternalUrl, nullptr};
  auto r = BuildRequests(n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://x/"}}),
                         GlobalConfig{}, none);
  EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nines::alerting
