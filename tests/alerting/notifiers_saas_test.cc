// The PagerDuty, Slack, Opsgenie and email payloads (alerting/notifiers.h), checked field by
// field after parsing them back with RapidJSON.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "alerting/notifiers.h"
#include "alerting/notify_internal.h"
#include "alerting/template_set.h"
#include "tests/alerting/notifiers_test_util.h"

namespace nines::alerting {
namespace {

using namespace notifiers_test;  // NOLINT(build/namespaces): the shared fixture and builders

// ---------------------------------------------------------------------------------------------
// PagerDuty

// The fields whose Alertmanager defaults call built-in templates, set to literals.
std::map<std::string, std::string> PagerDutyFields(std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> f = {{"routing_key", "R0123456789abcdef0123456789abcdef"},
                                          {"description", "{{ .CommonLabels.slo }} burns"},
                                          {"client", "nines"},
                                          {"client_url", "http://nines.example.com:9099/"}};
  for (auto& [k, v] : extra) f[k] = v;
  return f;
}

TEST_F(NotifiersTest, PagerDutyTriggerIsAnEventsV2EventWithBudgetDetails) {
  Notification n =
      MakeNotification(IntegrationKind::kPagerDuty, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  rapidjson::Document doc;
  auto req = One(n,
                 MakeIntegration(IntegrationKind::kPagerDuty,
                                 PagerDutyFields({{"severity", "critical"},
                                                  {"class", "slo-burn"},
                                                  {"component", "{{ .CommonLabels.service }}"},
                                                  {"group", "{{ .CommonLabels.region }}"},
                                                  {"details.runbook", "https://runbooks/x"},
                                                  {"details.num_firing", "7"},
                                                  {"links.0.href", "http://nines/slo"},
                                                  {"links.0.text", "SLO"},
                                                  {"links.1.text", "no href: dropped"},
                                                  {"images.0.src", "https://img/x.png"},
                                                  {"images.0.alt", "graph"}})),
                 &doc);
  EXPECT_EQ(req.http.url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(req.target, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(req.dedup_key, kGroupKeyHash);
  EXPECT_EQ(req.http.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(Str(doc, "routing_key"), "R0123456789abcdef0123456789abcdef");
  // The key travels in the body: Scrub masks it in logged answers.
  EXPECT_EQ(req.secrets, std::vector<std::string>{"R0123456789abcdef0123456789abcdef"});
  EXPECT_EQ(req.response_check, OutgoingRequest::ResponseCheck::kStatus);
  EXPECT_EQ(Str(doc, "event_action"), "trigger");
  EXPECT_EQ(Str(doc, "dedup_key"), kGroupKeyHash);
  EXPECT_EQ(Str(doc, "client"), "nines");
  EXPECT_EQ(Str(doc, "client_url"), "http://nines.example.com:9099/");
  const rapidjson::Value& p = doc["payload"];
  EXPECT_EQ(Str(p, "summary"), "api-availability burns");
  EXPECT_EQ(Str(p, "source"), "nines");  // the client, as Alertmanager defaults it
  EXPECT_EQ(Str(p, "severity"), "critical");
  EXPECT_EQ(Str(p, "class"), "slo-burn");
  EXPECT_EQ(Str(p, "component"), "api");
  EXPECT_EQ(Str(p, "group"), "eu-west-1");
  EXPECT_FALSE(p.HasMember("timestamp"));
  const rapidjson::Value& d = p["custom_details"];
  ASSERT_TRUE(d["firing"].IsArray());
  ASSERT_EQ(d["firing"].Size(), 1u);
  EXPECT_EQ(Str(d["firing"][0]["labels"], "region"), "eu-west-1");
  EXPECT_EQ(Str(d["firing"][0], "endsAt"), "0001-01-01T00:00:00Z");
  EXPECT_EQ(d["resolved"].Size(), 0u);
  EXPECT_EQ(d["num_firing"].GetInt(), 7);  // the configured detail wins
  EXPECT_EQ(d["num_resolved"].GetInt(), 0);
  EXPECT_EQ(Str(d, "runbook"), "https://runbooks/x");
  EXPECT_EQ(Str(d, "region"), "eu-west-1");
  EXPECT_EQ(Str(d, "slo"), "api-availability");
  EXPECT_DOUBLE_EQ(d["budget_remaining"].GetDouble(), 12.5);
  EXPECT_DOUBLE_EQ(d["budget_total"].GetDouble(), 43.2);
  EXPECT_EQ(Str(d, "budget_unit"), "minutes");
  EXPECT_DOUBLE_EQ(d["budget_remaining_ratio"].GetDouble(), 0.289352);
  EXPECT_DOUBLE_EQ(d["long_burn_rate"].GetDouble(), 15.2);
  EXPECT_EQ(d["short_burn_rate"].GetInt(), 41);
  EXPECT_EQ(Str(d, "window_pair"), "1h/5m");
  EXPECT_EQ(Str(d, "exhaustion_at_1h_burn"), "2026-12-07T12:49:00.000Z");
  ASSERT_EQ(doc["links"].Size(), 1u);
  EXPECT_EQ(Str(doc["links"][0], "href"), "http://nines/slo");
  EXPECT_EQ(Str(doc["links"][0], "text"), "SLO");
  ASSERT_EQ(doc["images"].Size(), 1u);
  EXPECT_EQ(Str(doc["images"][0], "src"), "https://img/x.png");
  EXPECT_EQ(Str(doc["images"][0], "alt"), "graph");
  EXPECT_EQ(Str(doc["images"][0], "href"), "");
}

TEST_F(NotifiersTest, PagerDutyResolvesWithTheSameKeyAndDefaultsSeverityToError) {
  Notification n = MakeNotification(IntegrationKind::kPagerDuty,
                                    {SloAlert("eu-west-1", AlertStatus::kResolved)});
  GlobalConfig g;
  g.fields = {{"pagerduty_url", "http://127.0.0.1:9/v2/enqueue"}};
  rapidjson::Document doc;
  auto req = One(n, MakeIntegration(IntegrationKind::kPagerDuty, PagerDutyFields({})), &doc, g);
  EXPECT_EQ(req.http.url, "http://127.0.0.1:9/v2/enqueue");
  EXPECT_EQ(Str(doc, "event_action"), "resolve");
  EXPECT_EQ(Str(doc, "dedup_key"), kGroupKeyHash);
  EXPECT_EQ(Str(doc["payload"], "severity"), "error");
  EXPECT_EQ(doc["payload"]["custom_details"]["num_resolved"].GetInt(), 1);
  EXPECT_FALSE(doc.HasMember("links"));
  EXPECT_FALSE(doc.HasMember("images"));

  // The integration's own url wins over the global one.
  auto own = One(n,
                 MakeIntegration(IntegrationKind::kPagerDuty,
                                 PagerDutyFields({{"url", "http://127.0.0.1:8/enqueue"}})),
                 nullptr, g);
  EXPECT_EQ(own.http.url, "http://127.0.0.1:8/enqueue");
}

// An annotation is untrusted text: a deeply nested "[[[[..." must neither exhaust the stack
// (the recursive parser did) nor be copied as structure; it stays a string.
TEST_F(NotifiersTest, PagerDutyDeeplyNestedAnnotationStaysAString) {
  Alert a = SloAlert("eu-west-1", AlertStatus::kFiring);
  const std::string deep(200 * 1024, '[');  // under PagerDuty's 512 KB, twice
  a.annotations["budget_remaining"] = deep;
  a.annotations["budget_total"] = std::string(1000, '[') + std::string(1000, ']');
  a.annotations["window_pair"] = "  [1, 2]  ";
  Notification n = MakeNotification(IntegrationKind::kPagerDuty, {a});
  rapidjson::Document doc;
  One(n, MakeIntegration(IntegrationKind::kPagerDuty, PagerDutyFields({})), &doc);
  const rapidjson::Value& d = doc["payload"]["custom_details"];
  ASSERT_TRUE(d["budget_remaining"].IsString());
  EXPECT_EQ(d["budget_remaining"].GetStringLength(), deep.size());
  ASSERT_TRUE(d["budget_total"].IsArray());  // short and well-formed: kept structured
  ASSERT_TRUE(d["window_pair"].IsArray());
  EXPECT_EQ(d["window_pair"].Size(), 2u);
  // Over the size gate, even valid JSON stays a string.
  std::string big = "[" + std::string(5000, ' ') + "1]";
  std::string out;
  notify_internal::AppendDetailValue(&out, big);
  EXPECT_EQ(out.front(), '"');
  out.clear();
  notify_internal::AppendDetailValue(&out, "\"x\"");
  EXPECT_EQ(out, R"("\"x\"")");  // a JSON string is kept as the text it is
}

TEST_F(NotifiersTest, PagerDutyNestedDetailsKeepTheirShape) {
  Notification n =
      MakeNotification(IntegrationKind::kPagerDuty, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  rapidjson::Document doc;
  One(n,
      MakeIntegration(IntegrationKind::kPagerDuty,
                      PagerDutyFields({{"details.tags.0", "a"},
                                       {"details.tags.1", "{{ .CommonLabels.region }}"},
                                       {"details.tags.10", "k"},
                                       {"details.owner.team", "sre"},
                                       {"details.owner.size", "4"},
                                       {"details.firing", "{{ .Status }}"}})),
      &doc);
  const rapidjson::Value& d = doc["payload"]["custom_details"];
  ASSERT_TRUE(d["tags"].IsArray());
  ASSERT_EQ(d["tags"].Size(), 3u);
  EXPECT_STREQ(d["tags"][1].GetString(), "eu-west-1");
  EXPECT_STREQ(d["tags"][2].GetString(), "k");
  EXPECT_EQ(Str(d["owner"], "team"), "sre");
  EXPECT_EQ(d["owner"]["size"].GetInt(), 4);
  EXPECT_EQ(Str(d, "firing"), "firing");  // a configured detail replaces the default one
}

TEST_F(NotifiersTest, TimeoutFieldSetsTheRequestTimeout) {
  Notification n =
      MakeNotification(IntegrationKind::kWebhook, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto req = One(n,
                 MakeIntegration(IntegrationKind::kWebhook,
                                 {{"url", "http://127.0.0.1:9/"}, {"timeout", "1m30s"}}),
                 nullptr);
  EXPECT_EQ(req.http.timeout, core::Duration::Seconds(90));
  auto bad = Build(n, MakeIntegration(IntegrationKind::kWebhook,
                                      {{"url", "http://127.0.0.1:9/"}, {"timeout", "soon"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("field timeout"), std::string::npos);
}

TEST_F(NotifiersTest, PagerDutySummaryIsTruncatedTo1024Runes) {
  Notification n =
      MakeNotification(IntegrationKind::kPagerDuty, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  rapidjson::Document doc;
  One(n,
      MakeIntegration(IntegrationKind::kPagerDuty,
                      PagerDutyFields({{"description", std::string(2000, 'x')}})),
      &doc);
  EXPECT_EQ(Str(doc["payload"], "summary"), std::string(1023, 'x') + "\u2026");
}

// An event over PagerDuty's 512 KB goes with its details replaced by Alertmanager's error
// object, in both API versions.
TEST_F(NotifiersTest, PagerDutyDropsTheDetailsOfAnEventTooLarge) {
  Alert a = SloAlert("eu-west-1", AlertStatus::kFiring);
  a.annotations["summary"] = std::string(600 * 1024, 'x');
  Notification n = MakeNotification(IntegrationKind::kPagerDuty, {a});
  const std::string removed =
      "Custom details have been removed because the original event exceeds the maximum size of "
      "512KB";
  rapidjson::Document v2;
  One(n, MakeIntegration(IntegrationKind::kPagerDuty, PagerDutyFields({})), &v2);
  EXPECT_EQ(Str(v2["payload"]["custom_details"], "error"), removed);
  EXPECT_EQ(v2["payload"]["custom_details"].MemberCount(), 1u);
  auto fields = PagerDutyFields({{"service_key", "svc-key"}});
  fields.erase("routing_key");
  rapidjson::Document v1;
  One(n, MakeIntegration(IntegrationKind::kPagerDuty, fields), &v1);
  EXPECT_EQ(Str(v1["details"], "error"), removed);
  EXPECT_EQ(v1["details"].MemberCount(), 1u);
}

TEST_F(NotifiersTest, PagerDutyServiceKeyUsesEventsV1) {
  Notification n =
      MakeNotification(IntegrationKind::kPagerDuty, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto fields = PagerDutyFields({{"service_key", "svc-key"}});
  fields.erase("routing_key");
  rapidjson::Document doc;
  auto req = One(n, MakeIntegration(IntegrationKind::kPagerDuty, fields), &doc);
  EXPECT_EQ(req.http.url, "https://events.pagerduty.com/generic/2010-04-15/create_event.json");
  EXPECT_EQ(Str(doc, "service_key"), "svc-key");
  EXPECT_EQ(Str(doc, "incident_key"), kGroupKeyHash);
  EXPECT_EQ(Str(doc, "event_type"), "trigger");
  EXPECT_EQ(Str(doc, "description"), "api-availability burns");
  EXPECT_EQ(Str(doc, "client"), "nines");
  EXPECT_TRUE(doc["payload"].IsNull());
  EXPECT_EQ(doc["details"]["num_firing"].GetInt(), 1);
  EXPECT_FALSE(doc.HasMember("routing_key"));
}

// ---------------------------------------------------------------------------------------------
// Slack

std::map<std::string, std::string> SlackFields(std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> f = {
      {"api_url", "https://hooks.slack.com/services/T000/B000/XXXXXXXX"},
      {"title", "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}"},
      {"title_link", "http://nines.example.com:9099/"},
      {"text", "{{ .CommonAnnotations.budget_remaining }} left"},
      {"fallback", "fallback text"},
      {"pretext", ""},
      {"callback_id", ""},
      {"footer", "nines"},
      {"color", "{{ if eq .Status \"firing\" }}danger{{ else }}good{{ end }}"},
      {"username", "nines"},
      {"icon_emoji", ":fire:"},
      {"icon_url", ""}};
  for (auto& [k, v] : extra) f[k] = v;
  return f;
}

TEST_F(NotifiersTest, SlackHasAlertmanagersAttachmentAndNinesBlocks) {
  Notification n =
      MakeNotification(IntegrationKind::kSlack, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  n.alerts[0].generator_url = "http://prometheus.example.com:9090/graph?g0.expr=x";
  rapidjson::Document doc;
  auto req = One(n,
                 MakeIntegration(IntegrationKind::kSlack,
                                 SlackFields({{"channel", "#oncall"},
                                              {"link_names", "true"},
                                              {"short_fields", "true"},
                                              {"fields.0.title", "Region"},
                                              {"fields.0.value", "{{ .CommonLabels.region }}"},
                                              {"fields.1.title", "SLO"},
                                              {"fields.1.value", "x"},
                                              {"fields.1.short", "false"},
                                              {"actions.0.type", "button"},
                                              {"actions.0.text", "Runbook"},
                                              {"actions.0.url", "https://runbooks/x"},
                                              {"actions.0.name", "dropped with a url"}})),
                 &doc);
  EXPECT_EQ(req.http.url, "https://hooks.slack.com/services/T000/B000/XXXXXXXX");
  EXPECT_EQ(req.target, "https://hooks.slack.com/<secret>");
  EXPECT_EQ(req.target.find("XXXXXXXX"), std::string::npos);
  EXPECT_EQ(Str(doc, "channel"), "#oncall");
  EXPECT_EQ(Str(doc, "username"), "nines");
  EXPECT_EQ(Str(doc, "icon_emoji"), ":fire:");
  EXPECT_FALSE(doc.HasMember("icon_url"));  // empty: left out, as Go's omitempty
  EXPECT_TRUE(doc["link_names"].GetBool());
  EXPECT_FALSE(doc.HasMember("text"));
  ASSERT_EQ(doc["attachments"].Size(), 1u);
  const rapidjson::Value& a = doc["attachments"][0];
  EXPECT_EQ(Str(a, "title"), "[FIRING] SloBurnRate");
  EXPECT_EQ(Str(a, "title_link"), "http://nines.example.com:9099/");
  EXPECT_FALSE(a.HasMember("pretext"));
  EXPECT_EQ(Str(a, "text"), "12.5 left");
  EXPECT_EQ(Str(a, "fallback"), "fallback text");
  EXPECT_EQ(Str(a, "callback_id"), "");
  EXPECT_EQ(Str(a, "footer"), "nines");
  EXPECT_EQ(Str(a, "color"), "danger");
  ASSERT_EQ(a["mrkdwn_in"].Size(), 3u);
  EXPECT_STREQ(a["mrkdwn_in"][0].GetString(), "fallback");
  ASSERT_EQ(a["fields"].Size(), 2u);
  EXPECT_EQ(Str(a["fields"][0], "value"), "eu-west-1");
  EXPECT_TRUE(a["fields"][0]["short"].GetBool());
  EXPECT_FALSE(a["fields"][1]["short"].GetBool());
  ASSERT_EQ(a["actions"].Size(), 1u);
  EXPECT_EQ(Str(a["actions"][0], "url"), "https://runbooks/x");
  EXPECT_FALSE(a["actions"][0].HasMember("name"));

  // nines' blocks: header, the alert's facts, its links.
  const rapidjson::Value& b = doc["blocks"];
  ASSERT_EQ(b.Size(), 3u);
  EXPECT_EQ(Str(b[0], "type"), "header");
  EXPECT_EQ(Str(b[0]["text"], "text"), "[FIRING] SloBurnRate");
  EXPECT_EQ(Str(b[1], "type"), "section");
  EXPECT_EQ(Str(b[1]["text"], "text"), "*Firing*: SLO api-availability in eu-west-1 burns");
  std::string facts;
  for (const auto& f : b[1]["fields"].GetArray()) facts += Str(f, "text") + "|";
  EXPECT_NE(facts.find("*Region*\neu-west-1|"), std::string::npos) << facts;
  EXPECT_NE(facts.find("*SLO*\napi-availability|"), std::string::npos) << facts;
  EXPECT_NE(facts.find("*Budget left*\n12.5 of 43.2 minutes (28.94%)|"), std::string::npos)
      << facts;
  EXPECT_NE(facts.find("15.2x / 41x"), std::string::npos) << facts;
  EXPECT_NE(facts.find("*Firing window pair*\n1h/5m|"), std::string::npos) << facts;
  EXPECT_NE(facts.find("2026-12-07T12:49:00.000Z"), std::string::npos) << facts;
  EXPECT_EQ(Str(b[2], "type"), "actions");
  ASSERT_EQ(b[2]["elements"].Size(), 2u);
  EXPECT_EQ(Str(b[2]["elements"][0], "url"),
            "http://nines.example.com:9099/api/v1/slos/api-availability");
  EXPECT_EQ(Str(b[2]["elements"][1], "url"), n.alerts[0].generator_url);
  EXPECT_EQ(Str(b[2]["elements"][1]["text"], "text"), "Source");
}

TEST_F(NotifiersTest, SlackAppTokenPostsToChatPostMessageWithABearer) {
  Notification n =
      MakeNotification(IntegrationKind::kSlack, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto fields = SlackFields({});
  fields.erase("api_url");
  GlobalConfig g;
  g.fields = {{"slack_app_token", "xoxb-secret"}};
  auto req = One(n, MakeIntegration(IntegrationKind::kSlack, fields), nullptr, g);
  EXPECT_EQ(req.http.url, "https://slack.com/api/chat.postMessage");
  EXPECT_EQ(req.http.headers.Get("Authorization"), "Bearer xoxb-secret");
  EXPECT_EQ(req.target.find("xoxb"), std::string::npos);
  EXPECT_EQ(req.secrets, std::vector<std::string>{"xoxb-secret"});
  // chat.postMessage answers errors with 200 {"ok":false}: the body is checked.
  EXPECT_EQ(req.response_check, OutgoingRequest::ResponseCheck::kSlackApiOk);

  // A global webhook URL serves when the integration has none.
  GlobalConfig g2;
  g2.fields = {{"slack_api_url", "https://hooks.slack.com/services/G/G/G"}};
  auto hook = One(n, MakeIntegration(IntegrationKind::kSlack, fields), nullptr, g2);
  EXPECT_EQ(hook.http.url, "https://hooks.slack.com/services/G/G/G");
  EXPECT_FALSE(hook.http.headers.Has("Authorization"));
  EXPECT_EQ(hook.response_check, OutgoingRequest::ResponseCheck::kStatus);  // an incoming webhook
}

TEST_F(NotifiersTest, SlackListsAtMostTenAlertsInBlocks) {
  std::vector<Alert> alerts;
  for (int i = 0; i < 12; ++i)
    alerts.push_back(SloAlert("r" + std::to_string(i), AlertStatus::kFiring));
  std::sort(alerts.begin(), alerts.end(),
            [](const Alert& a, const Alert& b) { return a.labels < b.labels; });
  Notification n = MakeNotification(IntegrationKind::kSlack, alerts);
  rapidjson::Document doc;
  One(n, MakeIntegration(IntegrationKind::kSlack, SlackFields({})), &doc);
  const rapidjson::Value& b = doc["blocks"];
  ASSERT_EQ(b.Size(), 1u + 10 * 2 + 1);
  EXPECT_EQ(Str(b[b.Size() - 1], "type"), "context");
  EXPECT_EQ(Str(b[b.Size() - 1]["elements"][0], "text"), "and 2 more alerts");
}

// ---------------------------------------------------------------------------------------------
// Opsgenie

std::map<std::string, std::string> OpsgenieFields(std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> f = {
      {"api_key", "genie-secret"},
      {"message", "{{ .CommonLabels.alertname }} firing"},
      {"description", "budget {{ .CommonAnnotations.budget_remaining }}"},
      {"source", "nines"}};
  for (auto& [k, v] : extra) f[k] = v;
  return f;
}

TEST_F(NotifiersTest, OpsgenieCreatesAnAlertAliasedByTheGroupKey) {
  Notification n =
      MakeNotification(IntegrationKind::kOpsgenie, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  rapidjson::Document doc;
  auto req = One(n,
                 MakeIntegration(IntegrationKind::kOpsgenie,
                                 OpsgenieFields({{"tags", " slo,{{ .CommonLabels.region }},, "},
                                                 {"actions", "ack"},
                                                 {"priority", "P1"},
                                                 {"entity", "api"},
                                                 {"note", "see runbook"},
                                                 {"details.team", "sre"},
                                                 {"responders.0.name", "a,b"},
                                                 {"responders.0.type", "teams"},
                                                 {"responders.1.username", "u@x"},
                                                 {"responders.1.type", "user"}})),
                 &doc);
  EXPECT_EQ(req.http.method, "POST");
  EXPECT_EQ(req.http.url, "https://api.opsgenie.com/v2/alerts");
  EXPECT_EQ(req.http.headers.Get("Authorization"), "GenieKey genie-secret");
  EXPECT_EQ(req.target.find("genie-secret"), std::string::npos);
  EXPECT_EQ(req.secrets, std::vector<std::string>{"genie-secret"});
  EXPECT_EQ(req.dedup_key, kGroupKeyHash);
  EXPECT_EQ(Str(doc, "alias"), kGroupKeyHash);
  EXPECT_EQ(Str(doc, "message"), "SloBurnRate firing");
  EXPECT_EQ(Str(doc, "description"), "budget 12.5");
  EXPECT_EQ(Str(doc, "source"), "nines");
  EXPECT_EQ(Str(doc, "priority"), "P1");
  EXPECT_EQ(Str(doc, "entity"), "api");
  EXPECT_EQ(Str(doc, "note"), "see runbook");
  ASSERT_EQ(doc["tags"].Size(), 2u);
  EXPECT_STREQ(doc["tags"][1].GetString(), "eu-west-1");
  ASSERT_EQ(doc["actions"].Size(), 1u);
  // details: common labels, budget numbers, configured details.
  EXPECT_EQ(Str(doc["details"], "region"), "eu-west-1");
  EXPECT_EQ(Str(doc["details"], "severity"), "page");
  EXPECT_EQ(Str(doc["details"], "budget_remaining"), "12.5");
  EXPECT_EQ(Str(doc["details"], "window_pair"), "1h/5m");
  EXPECT_EQ(Str(doc["details"], "team"), "sre");
  // "teams" splits into one team responder per name.
  ASSERT_EQ(doc["responders"].Size(), 3u);
  EXPECT_EQ(Str(doc["responders"][0], "name"), "a");
  EXPECT_EQ(Str(doc["responders"][0], "type"), "team");
  EXPECT_EQ(Str(doc["responders"][1], "name"), "b");
  EXPECT_EQ(Str(doc["responders"][2], "username"), "u@x");
  EXPECT_FALSE(doc["responders"][2].HasMember("id"));
}

TEST_F(NotifiersTest, OpsgenieClosesByAliasWhenAllResolved) {
  Notification n =
      MakeNotification(IntegrationKind::kOpsgenie, {SloAlert("eu-west-1", AlertStatus::kResolved)});
  GlobalConfig g;
  g.fields = {{"opsgenie_api_url", "http://127.0.0.1:9/og"}, {"opsgenie_api_key", "gk"}};
  auto fields = OpsgenieFields({});
  fields.erase("api_key");
  rapidjson::Document doc;
  auto req = One(n, MakeIntegration(IntegrationKind::kOpsgenie, fields), &doc, g);
  EXPECT_EQ(req.http.method, "POST");
  EXPECT_EQ(req.http.url, std::string("http://127.0.0.1:9/og/v2/alerts/") + kGroupKeyHash +
                              "/close?identifierType=alias");
  EXPECT_EQ(req.http.headers.Get("Authorization"), "GenieKey gk");
  EXPECT_EQ(Str(doc, "source"), "nines");
  EXPECT_EQ(doc.MemberCount(), 1u);

  // Without send_resolved nothing is closed.
  auto none = Build(n, MakeIntegration(IntegrationKind::kOpsgenie, fields, false), g);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(NotifiersTest, OpsgenieTruncatesTheMessageAndUpdatesWhenAsked) {
  Notification n =
      MakeNotification(IntegrationKind::kOpsgenie, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto reqs = Build(n, MakeIntegration(IntegrationKind::kOpsgenie,
                                       OpsgenieFields({{"message", std::string(200, 'm')},
                                                       {"update_alerts", "true"}})));
  ASSERT_TRUE(reqs.ok()) << reqs.status().ToString();
  ASSERT_EQ(reqs->size(), 3u);
  rapidjson::Document doc;
  doc.Parse((*reqs)[0].http.body.c_str());
  EXPECT_EQ(Str(doc, "message"), std::string(129, 'm') + "\u2026");
  EXPECT_EQ((*reqs)[1].http.method, "PUT");
  EXPECT_EQ((*reqs)[1].http.url, std::string("https://api.opsgenie.com/v2/alerts/") +
                                     kGroupKeyHash + "/message?identifierType=alias");
  EXPECT_EQ((*reqs)[2].http.url, std::string("https://api.opsgenie.com/v2/alerts/") +
                                     kGroupKeyHash + "/description?identifierType=alias");
  doc.Parse((*reqs)[2].http.body.c_str());
  EXPECT_EQ(Str(doc, "description"), "budget 12.5");
}

// ---------------------------------------------------------------------------------------------
// Email

TEST_F(NotifiersTest, EmailTakesGlobalSmtpDefaultsAndTemplatesHeaders) {
  Notification n =
      MakeNotification(IntegrationKind::kEmail, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  GlobalConfig g;
  g.fields = {{"smtp_smarthost", "127.0.0.1:2525"}, {"smtp_from", "Nines <nines@example.com>"},
              {"smtp_auth_username", "user"},       {"smtp_auth_password", "pw"},
              {"smtp_require_tls", "false"},        {"smtp_hello", "nines.local"}};
  auto reqs =
      Build(n,
            MakeIntegration(IntegrationKind::kEmail,
                            {{"to", "Ops <ops@example.com>, \"Dev, Team\" <dev@example.com>"},
                             {"headers.subject", "[{{ .Status }}] {{ .CommonLabels.slo }}"},
                             {"headers.x-region", "{{ .CommonLabels.region }}"},
                             {"html", "<b>{{ .CommonLabels.region }}</b>"},
                             {"text", "budget {{ .CommonAnnotations.budget_remaining }}"}},
                            /*send_resolved=*/false),
            g);
  ASSERT_TRUE(reqs.ok()) << reqs.status().ToString();
  ASSERT_EQ(reqs->size(), 1u);
  const OutgoingRequest& r = (*reqs)[0];
  EXPECT_EQ(r.kind, OutgoingRequest::Kind::kEmail);
  EXPECT_EQ(r.target, "smtp://127.0.0.1:2525");
  const EmailMessage& m = r.email;
  EXPECT_EQ(m.smarthost, "127.0.0.1:2525");
  EXPECT_FALSE(m.require_tls);
  EXPECT_EQ(m.hello, "nines.local");
  EXPECT_EQ(m.auth_username, "user");
  EXPECT_EQ(m.auth_password, "pw");
  EXPECT_EQ(m.from, "nines@example.com");
  EXPECT_EQ(m.to, (std::vector<std::string>{"ops@example.com", "dev@example.com"}));
  EXPECT_EQ(m.headers.at("Subject"), "[firing] api-availability");
  EXPECT_EQ(m.headers.at("X-Region"), "eu-west-1");
  EXPECT_EQ(m.headers.at("To"), "Ops <ops@example.com>, \"Dev, Team\" <dev@example.com>");
  EXPECT_EQ(m.headers.at("From"), "Nines <nines@example.com>");
  EXPECT_EQ(m.html, "<b>eu-west-1</b>");
  EXPECT_EQ(m.text, "budget 12.5");
}

TEST_F(NotifiersTest, EmailRejectsABadRecipient) {
  Notification n =
      MakeNotification(IntegrationKind::kEmail, {SloAlert("eu-west-1", AlertStatus::kFiring)});
  auto r = Build(n, MakeIntegration(IntegrationKind::kEmail, {{"to", "not-an-address"},
                                                              {"smarthost", "127.0.0.1:25"},
                                                              {"from", "a@b"},
                                                              {"headers.Subject", "s"},
                                                              {"html", ""}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("receiver oncall, email[0], field to"), std::string::npos)
      << r.status().message();
}
}  // namespace
}  // namespace nines::alerting
