// The notifiers' shared helpers, MakeTemplateData, the webhook payload (against a golden text)
// and Alertmanager's defaults through nines' built-in templates (alerting/notifiers.h).
#include "alerting/notifiers.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <string>
#include <vector>

#include "alerting/notify_internal.h"
#include "alerting/template_set.h"
#include "tests/alerting/notifiers_test_util.h"

namespace nines::alerting {
namespace {

using namespace notifiers_test;  // NOLINT(build/namespaces): the shared fixture and builders
using core::Timestamp;
using notify_internal::GoJsonTime;
using notify_internal::MaskUrl;
using notify_internal::Sha256Hex;
using notify_internal::TruncateRunes;

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
  Notification n = MakeNotification(
      IntegrationKind::kWebhook,
      {SloAlert("eu-west-1", AlertStatus::kFiring), SloAlert("us-east-1", AlertStatus::kResolved)});
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
  auto req = One(
      n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://127.0.0.1:9/hook/secret"}}),
      nullptr);
  const std::string fp = a.Fingerprint().ToString();
  const std::string golden =
      R"({"receiver":"oncall","status":"firing","alerts":[{"status":"firing",)"
      R"("labels":{"alertname":"SloBurnRate","region":"eu-west-1","service":"api",)"
      R"("severity":"page","slo":"api-availability"},)"
      R"("annotations":{"summary":"burns <fast> & \"hot\""},)"
      R"("startsAt":"2026-12-07T11:00:00Z","endsAt":"0001-01-01T00:00:00Z",)"
      R"("generatorURL":"http://nines.example.com:9099/api/v1/slos/api-availability",)"
      R"("fingerprint":")" +
      fp +
      R"("}],"notification_reason":"first notification",)"
      R"("groupLabels":{"alertname":"SloBurnRate","region":"eu-west-1","slo":"api-availability"},)"
      R"("commonLabels":{"alertname":"SloBurnRate","region":"eu-west-1","service":"api",)"
      R"("severity":"page","slo":"api-availability"},)"
      R"("commonAnnotations":{"summary":"burns <fast> & \"hot\""},)"
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
  Notification n = MakeNotification(
      IntegrationKind::kWebhook,
      {SloAlert("ap-southeast-2", AlertStatus::kResolved),
       SloAlert("eu-west-1", AlertStatus::kFiring), SloAlert("us-east-1", AlertStatus::kFiring)});
  rapidjson::Document doc;
  One(n,
      MakeIntegration(IntegrationKind::kWebhook,
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
  Notification n =
      MakeNotification(IntegrationKind::kWebhook, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto basic = One(n,
                   MakeIntegration(IntegrationKind::kWebhook,
                                   {{"url", "http://127.0.0.1:9/"},
                                    {"http_config.basic_auth.username", "Aladdin"},
                                    {"http_config.basic_auth.password", "open sesame"}}),
                   nullptr);
  EXPECT_EQ(basic.http.headers.Get("Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic.secrets, std::vector<std::string>{"open sesame"});  // masked in logs

  auto bearer = One(n,
                    MakeIntegration(IntegrationKind::kWebhook,
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
  EXPECT_EQ(global.secrets, std::vector<std::string>{"glob"});

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
  Notification n =
      MakeNotification(IntegrationKind::kWebhook, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto req = One(n,
                 MakeIntegration(IntegrationKind::kWebhook,
                                 {{"url", "http://127.0.0.1:9/{{ .GroupLabels.region }}"}}),
                 nullptr);
  EXPECT_EQ(req.http.url, "http://127.0.0.1:9/eu-west-1");

  auto bad = Build(
      n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://127.0.0.1:9/{{ .Nope.x }"}}));
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
  Notification n =
      MakeNotification(IntegrationKind::kWebhook, {SloAlert("eu-west-1", AlertStatus::kResolved)});
  auto reqs = Build(n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://127.0.0.1:9/"}},
                                       /*send_resolved=*/false));
  ASSERT_TRUE(reqs.ok());
  EXPECT_TRUE(reqs->empty());
}

TEST_F(NotifiersTest, NoTemplateSetIsAnError) {
  Notification n =
      MakeNotification(IntegrationKind::kWebhook, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  NotifyContext none{kExternalUrl, nullptr};
  auto r = BuildRequests(n, MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://x/"}}),
                         GlobalConfig{}, none);
  EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
}

TEST_F(NotifiersTest, EveryKindWritesValidJsonForHostileText) {
  Alert alert = SloAlert("eu-west-1", AlertStatus::kFiring);
  alert.annotations["summary"] = "q\"uote \\ back\nline\x01ctl \u00e9 </script>";
  alert.annotations["budget_remaining"] = "[1, {\"a\": 2}]";  // valid JSON: kept structured
  alert.annotations["long_burn_rate"] = "1.5 trailing";       // not JSON: a string
  Notification n = MakeNotification(IntegrationKind::kWebhook, {alert});
  const std::vector<Integration> integrations = {
      MakeIntegration(IntegrationKind::kWebhook, {{"url", "http://127.0.0.1:9/"}}),
      MakeIntegration(IntegrationKind::kPagerDuty, {{"routing_key", "k"}}),
      MakeIntegration(IntegrationKind::kSlack, {{"api_url", "https://hooks.slack.com/x"}}),
      MakeIntegration(IntegrationKind::kOpsgenie, {{"api_key", "k"}})};
  for (const Integration& i : integrations) {
    SCOPED_TRACE(IntegrationKindName(i.kind));
    rapidjson::Document doc;
    One(n, i, &doc);
    EXPECT_TRUE(doc.IsObject());
    if (i.kind == IntegrationKind::kPagerDuty) {
      const rapidjson::Value& d = doc["payload"]["custom_details"];
      EXPECT_TRUE(d["budget_remaining"].IsArray());
      EXPECT_EQ(Str(d, "long_burn_rate"), "1.5 trailing");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Alertmanager's defaults, through nines' built-in templates

TEST_F(NotifiersTest, UnsetFieldsTakeAlertmanagersDefaultTemplates) {
  Notification n =
      MakeNotification(IntegrationKind::kPagerDuty, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  TemplateData data = MakeTemplateData(n, kExternalUrl);
  auto expand = [&](std::string_view name) {
    auto s = templates_.Execute(notify_internal::DefaultTemplate(name), data);
    EXPECT_TRUE(s.ok()) << name << ": " << s.status().ToString();
    return s.ok() ? *s : std::string();
  };

  rapidjson::Document pd;
  One(n, MakeIntegration(IntegrationKind::kPagerDuty, {{"routing_key", "k"}}), &pd);
  const std::string summary = Str(pd["payload"], "summary");
  EXPECT_EQ(summary, TruncateRunes(expand("pagerduty.default.description"), 1024));
  EXPECT_NE(summary.find("eu-west-1"), std::string::npos) << summary;
  EXPECT_EQ(Str(pd, "client"), expand("pagerduty.default.client"));
  EXPECT_EQ(Str(pd["payload"], "source"), Str(pd, "client"));
  EXPECT_EQ(Str(pd, "client_url"), expand("pagerduty.default.clientURL"));
  EXPECT_EQ(Str(pd["payload"], "severity"), "error");

  rapidjson::Document slack;
  One(n, MakeIntegration(IntegrationKind::kSlack, {{"api_url", "https://hooks.slack.com/x"}}),
      &slack);
  const rapidjson::Value& a = slack["attachments"][0];
  EXPECT_EQ(Str(a, "title"), expand("slack.default.title"));
  EXPECT_FALSE(Str(a, "title").empty());
  EXPECT_EQ(Str(a, "color"), "danger");
  EXPECT_EQ(Str(a, "fallback"), expand("slack.default.fallback"));
  EXPECT_EQ(Str(a, "text"), expand("slack.default.text"));
  EXPECT_EQ(Str(slack, "username"), expand("slack.default.username"));

  rapidjson::Document og;
  One(n, MakeIntegration(IntegrationKind::kOpsgenie, {{"api_key", "k"}}), &og);
  EXPECT_EQ(Str(og, "message"), TruncateRunes(expand("opsgenie.default.message"), 130));
  EXPECT_EQ(Str(og, "description"), expand("opsgenie.default.description"));
  EXPECT_EQ(Str(og, "source"), expand("opsgenie.default.source"));

  auto email = Build(n, MakeIntegration(IntegrationKind::kEmail, {{"to", "ops@example.com"},
                                                                  {"from", "nines@example.com"},
                                                                  {"smarthost", "127.0.0.1:25"}}));
  ASSERT_TRUE(email.ok()) << email.status().ToString();
  const EmailMessage& m = (*email)[0].email;
  EXPECT_EQ(m.headers.at("Subject"), expand("email.default.subject"));
  EXPECT_FALSE(m.headers.at("Subject").empty());
  EXPECT_NE(m.html.find("eu-west-1"), std::string::npos);
  EXPECT_EQ(m.text, "");
  EXPECT_TRUE(m.require_tls);
  EXPECT_EQ(m.hello, "localhost");
}

TEST_F(NotifiersTest, EmailHtmlEscapesValuesAndOnlyTemplatedFieldsRender) {
  Alert alert = SloAlert("eu-west-1", AlertStatus::kFiring);
  alert.annotations["summary"] = "<script>&";
  Notification n = MakeNotification(IntegrationKind::kEmail, {alert});
  auto email = Build(n, MakeIntegration(IntegrationKind::kEmail,
                                        {{"to", "ops@example.com"},
                                         {"from", "nines@example.com"},
                                         // smarthost is not a template in Alertmanager
                                         {"smarthost", "{{ x }}:25"},
                                         {"html", "<p>{{ .CommonAnnotations.summary }}</p>"},
                                         {"text", "{{ .CommonAnnotations.summary }}"}}));
  ASSERT_TRUE(email.ok()) << email.status().ToString();
  const EmailMessage& m = (*email)[0].email;
  EXPECT_EQ(m.html, "<p>&lt;script&gt;&amp;</p>");
  EXPECT_EQ(m.text, "<script>&");
  EXPECT_EQ(m.smarthost, "{{ x }}:25");
}
}  // namespace
}  // namespace nines::alerting
