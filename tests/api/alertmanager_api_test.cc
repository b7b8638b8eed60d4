// Alertmanager's API v2 served by nines (api/alertmanager_api.h): each document
// against Alertmanager 0.25's shapes, the body parsers' answers to malformed
// input, the filters, and the routes over loopback with a backend made of a
// real Dispatcher and SilenceStore.
#include "api/alertmanager_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/http_client.h"
#include "tests/alerting/test_helpers.h"
#include "tests/api/dispatcher_backend.h"
#include "tests/testutil/testutil.h"

namespace nines::api {
namespace {

using ::testing::HasSubstr;

using alerting::testing::At;
using alerting::testing::L;

alerting::Matcher M(std::string_view text) {
  auto m = alerting::ParseMatcher(text);
  EXPECT_TRUE(m.ok()) << text;
  return *m;
}

const core::Timestamp kNow = At("2026-12-07T10:00:00Z");

alerting::AlertView View() {
  alerting::AlertView v;
  v.alert.labels = L(R"({alertname="Burn",region="eu-west-1"})");
  v.alert.annotations = {{"summary", "budget \"burning\""}};
  v.alert.starts_at = At("2026-12-07T09:58:00Z");
  v.alert.ends_at = At("2026-12-07T10:04:00Z");
  v.alert.generator_url = "http://nines:9099/slo/api";
  v.receivers = {"pager"};
  return v;
}

// ---- documents ----------------------------------------------------------------------------------

TEST(AlertmanagerJsonTest, GettableAlertHasEveryRequiredFieldInAlertmanagersOrder) {
  alerting::AlertView v = View();
  const std::string fp = v.alert.Fingerprint().ToString();
  EXPECT_EQ(
      GettableAlertJson(v),
      R"({"annotations":{"summary":"budget \"burning\""},"endsAt":"2026-12-07T10:04:00.000Z",)"
      R"("fingerprint":")" +
          fp +
          R"(","receivers":[{"name":"pager"}],)"
          R"("startsAt":"2026-12-07T09:58:00.000Z","status":{"inhibitedBy":[],"silencedBy":[],)"
          R"("state":"active"},"updatedAt":"2026-12-07T09:58:00.000Z",)"
          R"("generatorURL":"http://nines:9099/slo/api",)"
          R"("labels":{"alertname":"Burn","region":"eu-west-1"}})");
}

TEST(AlertmanagerJsonTest, SilencedOrInhibitedAlertIsSuppressedWithItsCauses) {
  alerting::AlertView v = View();
  v.silenced_by = {"s-1"};
  EXPECT_THAT(
      GettableAlertJson(v),
      HasSubstr(R"("status":{"inhibitedBy":[],"silencedBy":["s-1"],"state":"suppressed"})"));
  v.silenced_by.clear();
  v.inhibited_by = {"0123456789abcdef"};
  EXPECT_THAT(GettableAlertJson(v), HasSubstr(R"("inhibitedBy":["0123456789abcdef"],)"
                                              R"("silencedBy":[],"state":"suppressed")"));
  // An unset endsAt prints as Go's zero time; an empty generatorURL is left
  // out.
  v.alert.ends_at = core::Timestamp();
  v.alert.generator_url.clear();
  const std::string json = GettableAlertJson(v);
  EXPECT_THAT(json, HasSubstr(R"("endsAt":"0001-01-01T00:00:00.000Z")"));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("generatorURL")));
}

alerting::Silence MakeSilence(std::string id, std::string_view start, std::string_view end) {
  alerting::Silence s;
  s.id = std::move(id);
  s.matchers = {M(R"(region="eu-west-1")"), M(R"(alertname=~"Burn|Slow")"), M(R"(env!="dev")"),
                M(R"(team!~"x.*")")};
  s.starts_at = At(start);
  s.ends_at = At(end);
  s.updated_at = At(start);
  s.created_by = "ops";
  s.comment = "maintenance";
  return s;
}

TEST(AlertmanagerJsonTest, GettableSilenceShape) {
  EXPECT_EQ(
      GettableSilenceJson(MakeSilence("a1", "2026-12-07T09:00:00Z", "2026-12-07T11:00:00Z"), kNow),
      R"({"id":"a1","status":{"state":"active"},"updatedAt":"2026-12-07T09:00:00.000Z",)"
      R"("comment":"maintenance","createdBy":"ops","endsAt":"2026-12-07T11:00:00.000Z",)"
      R"("matchers":[{"isEqual":true,"isRegex":false,"name":"region","value":"eu-west-1"},)"
      R"({"isEqual":true,"isRegex":true,"name":"alertname","value":"Burn|Slow"},)"
      R"({"isEqual":false,"isRegex":false,"name":"env","value":"dev"},)"
      R"({"isEqual":false,"isRegex":true,"name":"team","value":"x.*"}],)"
      R"("startsAt":"2026-12-07T09:00:00.000Z"})");
}

TEST(AlertmanagerJsonTest, SilencesSortActiveThenPendingThenExpired) {
  std::vector<alerting::Silence> s = {
      MakeSilence("expired-early", "2026-12-07T01:00:00Z", "2026-12-07T02:00:00Z"),
      MakeSilence("pending-late", "2026-12-07T13:00:00Z", "2026-12-07T14:00:00Z"),
      MakeSilence("active-late", "2026-12-07T09:00:00Z", "2026-12-07T12:00:00Z"),
      MakeSilence("expired-late", "2026-12-07T01:00:00Z", "2026-12-07T03:00:00Z"),
      MakeSilence("pending-early", "2026-12-07T11:00:00Z", "2026-12-07T14:00:00Z"),
      MakeSilence("active-early", "2026-12-07T09:00:00Z", "2026-12-07T11:00:00Z"),
  };
  const std::string json = GettableSilencesJson(s, kNow);
  std::vector<size_t> at;
  for (const char* id : {"active-early", "active-late", "pending-early", "pending-late",
                         "expired-late", "expired-early"}) {
    at.push_back(json.find(std::string("\"id\":\"") + id + "\""));
    ASSERT_NE(at.back(), std::string::npos) << id;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end())) << json;
  EXPECT_THAT(json, HasSubstr(R"("id":"pending-late","status":{"state":"pending"})"));
  EXPECT_THAT(json, HasSubstr(R"("id":"expired-late","status":{"state":"expired"})"));
  EXPECT_EQ(GettableSilencesJson({}, kNow), "[]");
}

TEST(AlertmanagerJsonTest, StatusReceiversAndGroups) {
  AlertmanagerStatusInfo info{.config_original = "route:\n  receiver: \"pager\"\n",
                              .started_at = At("2026-12-07T08:00:00Z"),
                              .version = "0.1.0"};
  EXPECT_EQ(AlertmanagerStatusJson(info),
            R"({"cluster":{"peers":[],"status":"disabled"},)"
            R"("config":{"original":"route:\n  receiver: \"pager\"\n"},)"
            R"("uptime":"2026-12-07T08:00:00.000Z","versionInfo":{"branch":"","buildDate":"",)"
            R"("buildUser":"","goVersion":"","revision":"","version":"0.1.0"}})");
  EXPECT_EQ(ReceiversJson({"pager", "slack \"ops\""}),
            R"([{"name":"pager"},{"name":"slack \"ops\""}])");
  EXPECT_EQ(ReceiversJson({}), "[]");

  alerting::Dispatcher::GroupView g;
  g.receiver = "pager";
  g.group_labels = L(R"({region="eu-west-1"})");
  g.alerts = {View().alert};
  alerting::AlertView v = View();
  v.silenced_by = {"s-9"};
  const std::string json = AlertGroupJson(g, {v});
  EXPECT_THAT(json, ::testing::StartsWith(R"({"alerts":[{"annotations":)"));
  EXPECT_THAT(json, HasSubstr(R"("silencedBy":["s-9"],"state":"suppressed")"));
  EXPECT_THAT(json, ::testing::EndsWith(
                        R"(],"labels":{"region":"eu-west-1"},"receiver":{"name":"pager"}})"));
}

// ---- parsing ------------------------------------------------------------------------------------

TEST(AlertmanagerParseTest, PostableAlertsTakeAlertmanagersDefaults) {
  auto posted = ParsePostableAlerts(R"([
    {"labels":{"alertname":"A","empty":""},"annotations":{"summary":"s"},
     "startsAt":"2026-12-07T09:00:00Z","endsAt":"2026-12-07T10:05:00Z",
     "generatorURL":"http://p/graph"},
    {"labels":{"alertname":"B"}},
    {"labels":{"alertname":"C"},"endsAt":"2026-12-07T09:59:00Z"},
    {"labels":{"alertname":"D"},"startsAt":"0001-01-01T00:00:00Z",
     "endsAt":"0001-01-01T00:00:00Z"}
  ])",
                                    kNow);
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_TRUE(posted->errors.empty());
  ASSERT_EQ(posted->valid.size(), 4u);
  const auto& a = posted->valid[0];
  EXPECT_EQ(a.labels, L(R"({alertname="A"})"));  // the empty label is dropped
  EXPECT_EQ(a.annotations.at("summary"), "s");
  EXPECT_EQ(a.starts_at, At("2026-12-07T09:00:00Z"));
  EXPECT_EQ(a.ends_at, At("2026-12-07T10:05:00Z"));
  EXPECT_EQ(a.status, alerting::AlertStatus::kFiring);
  EXPECT_EQ(a.generator_url, "http://p/graph");
  // No times: starts now, no end (the dispatcher applies resolve_timeout).
  EXPECT_EQ(posted->valid[1].starts_at, kNow);
  EXPECT_EQ(posted->valid[1].ends_at, core::Timestamp());
  EXPECT_EQ(posted->valid[1].status, alerting::AlertStatus::kFiring);
  // Only an end, in the past: resolved, starting at its end.
  EXPECT_EQ(posted->valid[2].starts_at, At("2026-12-07T09:59:00Z"));
  EXPECT_EQ(posted->valid[2].status, alerting::AlertStatus::kResolved);
  // Go's zero time is "not set".
  EXPECT_EQ(posted->valid[3].starts_at, kNow);
  EXPECT_EQ(posted->valid[3].ends_at, core::Timestamp());
}

TEST(AlertmanagerParseTest, MalformedAlertBodiesNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "body: invalid JSON at offset 0"},
      {"[{]", "body: invalid JSON at offset 2"},
      {"[] x",
       "body: invalid JSON at offset 3: The document root must not be "
       "followed"},
      {R"({"labels":{}})", "body: must be a JSON array of alerts"},
      {"[1]", "alerts[0]: must be an object"},
      {R"([{"labels":{"a":"b"}},{"labels":[]}])", "alerts[1].labels: must be an object"},
      {R"([{"labels":{"a":1}}])", "alerts[0].labels.a: must be a string"},
      {R"([{"labels":{"a":"b"},"annotations":{"x":null}}])",
       "alerts[0].annotations.x: must be a string"},
      {R"([{"labels":{"a":"b"},"startsAt":5}])",
       "alerts[0].startsAt: must be an RFC 3339 date-time string"},
      {R"([{"labels":{"a":"b"},"endsAt":"1765000000"}])",
       "alerts[0].endsAt: \"1765000000\" is not an RFC 3339 date-time"},
      {R"([{"labels":{"a":"b"},"endsAt":"2026-13-45T00:00:00Z"}])", "alerts[0].endsAt"},
      {R"([{"labels":{"a":"b"},"endsAt":"4052-12-07T10:05:00Z"}])",
       "alerts[0].endsAt: timestamp \"4052-12-07T10:05:00Z\" is out of range"},
      {R"([{"labels":{"a":"b"},"generatorURL":true}])", "alerts[0].generatorURL: must be a string"},
  };
  for (const auto& [body, want] : cases) {
    SCOPED_TRACE(body);
    auto r = ParsePostableAlerts(body, kNow);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(want));
  }
}

TEST(AlertmanagerParseTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(1 << 20, '[') + std::string(1 << 20, ']');
  auto alerts = ParsePostableAlerts(deep, kNow);
  ASSERT_FALSE(alerts.ok());
  EXPECT_EQ(alerts.status().message(), "alerts[0]: must be an object");
  auto silence = ParsePostableSilence(std::string(1 << 20, '{'));
  ASSERT_FALSE(silence.ok());
  EXPECT_THAT(silence.status().message(), HasSubstr("body: invalid JSON"));
}

TEST(AlertmanagerParseTest, InvalidAlertsAreNamedAndTheValidOnesKept) {
  auto posted = ParsePostableAlerts(R"([
    {"labels":{"alertname":"ok"}},
    {"labels":{}},
    {"labels":{"alertname":"x"},"startsAt":"2026-12-07T10:00:00Z","endsAt":"2026-12-07T09:00:00Z"},
    {"labels":{"bad-name":"x"}},
    {"labels":{"only":""}}
  ])",
                                    kNow);
  ASSERT_TRUE(posted.ok());
  ASSERT_EQ(posted->valid.size(), 1u);
  EXPECT_EQ(posted->valid[0].labels, L(R"({alertname="ok"})"));
  ASSERT_EQ(posted->errors.size(), 4u);
  EXPECT_EQ(posted->errors[0], "alerts[1].labels: at least one label pair required");
  EXPECT_EQ(posted->errors[1], "alerts[2].endsAt: must not be before startsAt");
  EXPECT_THAT(posted->errors[2], HasSubstr("alerts[3].labels"));
  EXPECT_THAT(posted->errors[2], HasSubstr("bad-name"));
  EXPECT_EQ(posted->errors[3], "alerts[4].labels: at least one label pair required");
}

// Alertmanager's Alert.Validate checks the annotations as it checks the labels: names non-empty
// UTF-8, values valid UTF-8. "\udc80" is a lone surrogate, which RapidJSON decodes to bytes that
// are not UTF-8.
TEST(AlertmanagerParseTest, AnnotationsAreValidatedAsAlertmanagerDoes) {
  auto posted = ParsePostableAlerts(R"([
    {"labels":{"alertname":"ok"},"annotations":{"summary":"s","empty":"","r\u00e9gion":"\u00e9"}},
    {"labels":{"alertname":"a"},"annotations":{"summary":"bad \udc80"}},
    {"labels":{"alertname":"b"},"annotations":{"":"x"}},
    {"labels":{"alertname":"c"},"annotations":{"\udc80":"x"}},
    {"labels":{"alertname":"d","region":"\udc80"}}
  ])",
                                    kNow);
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  ASSERT_EQ(posted->valid.size(), 1u);
  EXPECT_EQ(posted->valid[0].annotations.at("empty"), "");
  EXPECT_EQ(posted->valid[0].annotations.at("r\xc3\xa9gion"), "\xc3\xa9");
  ASSERT_EQ(posted->errors.size(), 4u);
  EXPECT_EQ(posted->errors[0], "alerts[1].annotations.summary: invalid UTF-8 in the value");
  EXPECT_EQ(posted->errors[1], "alerts[2].annotations: invalid name \"\"");
  EXPECT_EQ(posted->errors[2], "alerts[3].annotations: invalid name \"<invalid UTF-8>\"");
  EXPECT_EQ(posted->errors[3], "alerts[4].labels.region: invalid UTF-8 in the value");
}

TEST(AlertmanagerParseTest, PostableSilence) {
  auto s = ParsePostableSilence(R"({"id":"abc","matchers":[
      {"name":"region","value":"eu-west-1","isRegex":false},
      {"name":"alertname","value":"Burn|Slow","isRegex":true,"isEqual":false}],
      "startsAt":"2026-12-07T10:00:00Z","endsAt":"2026-12-07T11:00:00.5Z",
      "createdBy":"ops","comment":"maintenance"})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->id, "abc");
  ASSERT_EQ(s->matchers.size(), 2u);
  EXPECT_EQ(s->matchers[0].ToString(), R"(region="eu-west-1")");
  EXPECT_EQ(s->matchers[1].type(), alerting::MatchType::kNotRegexp);
  EXPECT_EQ(s->starts_at, kNow);
  EXPECT_EQ(s->ends_at, At("2026-12-07T11:00:00.5Z"));
  EXPECT_EQ(s->created_by, "ops");
  EXPECT_EQ(s->comment, "maintenance");
}

TEST(AlertmanagerParseTest, MalformedSilencesNameTheField) {
  const std::string times = R"("startsAt":"2026-12-07T10:00:00Z","endsAt":"2026-12-07T11:00:00Z")";
  const std::string who = R"("createdBy":"ops","comment":"c")";
  const std::string m = R"("matchers":[{"name":"a","value":"b","isRegex":false}])";
  const std::pair<std::string, const char*> cases[] = {
      {"{", "body: invalid JSON"},
      {"[]", "body: must be a JSON object"},
      {"{" + times + "," + who + "}", "silence.matchers: required"},
      {R"({"matchers":{},)" + times + "," + who + "}", "silence.matchers: must be an array"},
      {R"({"matchers":[],)" + times + "," + who + "}", "at least one matcher required"},
      {R"({"matchers":[{"name":"a","value":"b"}],)" + times + "," + who + "}",
       "silence.matchers[0].isRegex: required"},
      {R"({"matchers":[{"value":"b","isRegex":false}],)" + times + "," + who + "}",
       "silence.matchers[0].name: required"},
      {R"({"matchers":[{"name":"a","value":"(","isRegex":true}],)" + times + "," + who + "}",
       "silence.matchers[0]"},
      {R"({"matchers":[{"name":"a","value":"b","isRegex":"no"}],)" + times + "," + who + "}",
       "silence.matchers[0].isRegex: must be a boolean"},
      {"{" + m + R"(,"endsAt":"2026-12-07T11:00:00Z",)" + who + "}", "silence.startsAt: required"},
      {"{" + m + R"(,"startsAt":"2026-12-07T11:00:00Z",)" + who + "}", "silence.endsAt: required"},
      {"{" + m + R"(,"startsAt":"yesterday","endsAt":"2026-12-07T11:00:00Z",)" + who + "}",
       "silence.startsAt"},
      {"{" + m + "," + times + R"(,"comment":"c"})", "silence.createdBy: required"},
      {"{" + m + "," + times + R"(,"createdBy":"ops","comment":""})",
       "silence.comment: must not be empty"},
      {"{" + m + "," + times + R"(,"createdBy":7,"comment":"c"})",
       "silence.createdBy: must be a string"},
      {R"({"id":5,)" + m + "," + times + "," + who + "}", "silence.id: must be a string"},
  };
  for (const auto& [body, want] : cases) {
    SCOPED_TRACE(body);
    auto r = ParsePostableSilence(body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(want));
  }
}

// ---- filters ------------------------------------------------------------------------------------

TEST(AlertmanagerFilterTest, ParametersAsAlertmanagerTakesThem) {
  auto f = ParseAlertmanagerAlertFilter(
      "filter=region%3D%22eu-west-1%22&filter=alertname%3D~%22B.*%22&active="
      "false&silenced=1"
      "&inhibited=f&unprocessed=True&receiver=pag.*");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->matchers.size(), 2u);
  EXPECT_FALSE(f->active);
  EXPECT_TRUE(f->silenced);
  EXPECT_FALSE(f->inhibited);
  EXPECT_TRUE(f->unprocessed);
  ASSERT_TRUE(f->receiver.has_value());
  EXPECT_TRUE(f->receiver->FullMatch("pager"));
  EXPECT_FALSE(f->receiver->FullMatch("xpager"));  // anchored

  const std::pair<const char*, const char*> bad[] = {
      {"active=maybe", "active: \"maybe\" is not a boolean"},
      {"silenced=", "silenced: \"\" is not a boolean"},
      {"filter=region", "filter \"region\""},
      {"filter=a%3D~%22(%22", "filter \"a=~\"(\"\""},
      {"receiver=(", "receiver: bad regex"},
  };
  for (const auto& [query, want] : bad) {
    SCOPED_TRACE(query);
    auto r = ParseAlertmanagerAlertFilter(query);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(want));
  }
}

TEST(AlertmanagerFilterTest, PassesAsAlertmanagersAlertFilter) {
  auto pass = [](const char* query, const alerting::AlertView& v) {
    auto f = ParseAlertmanagerAlertFilter(query);
    EXPECT_TRUE(f.ok()) << query;
    return f->Passes(v, kNow);
  };
  alerting::AlertView active = View();
  alerting::AlertView silenced = View();
  silenced.silenced_by = {"s"};
  alerting::AlertView inhibited = View();
  inhibited.inhibited_by = {"f"};
  EXPECT_TRUE(pass("", active));
  EXPECT_FALSE(pass("active=false", active));
  EXPECT_TRUE(pass("active=false", silenced));
  EXPECT_FALSE(pass("silenced=false", silenced));
  EXPECT_TRUE(pass("silenced=false", inhibited));
  EXPECT_FALSE(pass("inhibited=false", inhibited));
  EXPECT_TRUE(pass("receiver=pag.r", active));
  EXPECT_FALSE(pass("receiver=slack", active));
  EXPECT_TRUE(pass("filter=region%3D%22eu-west-1%22", active));
  EXPECT_FALSE(pass("filter=region%3D%22us-east-1%22", active));
  // An empty value: `=` matches an absent label, `!=` a present one.
  EXPECT_TRUE(pass("filter=team%3D%22%22", active));
  EXPECT_TRUE(pass("filter=region!%3D%22%22", active));
  EXPECT_FALSE(pass("filter=team!%3D%22%22", active));
  // Ended alerts are never listed.
  alerting::AlertView ended = View();
  ended.alert.ends_at = kNow - core::Duration::Seconds(1);
  EXPECT_FALSE(pass("", ended));
}

// ---- routes over loopback -----------------------------------------------------------------------

alerting::AlertmanagerConfig PagerConfig() {
  alerting::AlertmanagerConfig c;
  c.route.receiver = "pager";
  c.route.group_by = std::vector<std::string>{"region"};
  alerting::RouteConfig slack;
  slack.receiver = "slack";
  slack.matchers = {M(R"(severity="ticket")")};
  c.route.routes.push_back(slack);
  c.receivers = {{"pager", {}}, {"slack", {}}};
  alerting::InhibitRule rule;
  rule.source_matchers = {M(R"(alertname="RegionDown")")};
  rule.target_matchers = {M(R"(alertname="Burn")")};
  rule.equal = {"region"};
  c.inhibit_rules.push_back(rule);
  return c;
}

class AlertmanagerRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int next = 0;
    backend_ = std::make_unique<testing::DispatcherBackend>(
        PagerConfig(), clock_, [next]() mutable { return "sil-" + std::to_string(++next); });
    backend_->set_status({.config_original = "route: {receiver: pager}\n",
                          .started_at = At("2026-12-07T08:00:00Z")});
    net::Router router;
    RegisterAlertmanagerRoutes(router, *backend_, clock_);
    net::ServerOptions options{.listen = "127.0.0.1:0", .threads = 2};
    options.write_tokens = {"w-token"};
    auto server = net::Server::Start(options, std::move(router), clock_, nullptr);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    base_ = "http://" + server_->address();
  }

  net::ClientResponse Do(std::string method, std::string path, std::string body = "",
                         bool token = true) {
    net::ClientRequest req{
        .method = std::move(method), .url = base_ + path, .body = std::move(body)};
    if (token) req.headers.Set("Authorization", "Bearer w-token");
    req.headers.Set("Content-Type", "application/json");
    auto res = client_.Do(req);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : net::ClientResponse{};
  }

  core::FakeClock clock_{At("2026-12-07T10:00:00Z")};
  std::unique_ptr<testing::DispatcherBackend> backend_;
  std::unique_ptr<net::Server> server_;
  net::HttpClient client_;
  std::string base_;
};

TEST_F(AlertmanagerRoutesTest, PostedAlertsAreListedGroupedAndFiltered) {
  auto r = Do("POST", "/api/v2/alerts", R"([
      {"labels":{"alertname":"Burn","region":"eu-west-1"},"annotations":{"summary":"s"}},
      {"labels":{"alertname":"RegionDown","region":"eu-west-1"}},
      {"labels":{"alertname":"Slow","region":"us-east-1","severity":"ticket"}}])");
  EXPECT_EQ(r.status, 200) << r.body;

  r = Do("GET", "/api/v2/alerts");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  EXPECT_THAT(r.body, HasSubstr(R"("receivers":[{"name":"slack"}])"));
  EXPECT_THAT(r.body,
              HasSubstr(R"("state":"suppressed")"));  // Burn, inhibited by RegionDown

  // Only the suppressed ones, only pager's, by label.
  r = Do("GET", "/api/v2/alerts?active=false");
  EXPECT_THAT(r.body, HasSubstr(R"("alertname":"Burn")"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("RegionDown")));
  r = Do("GET", "/api/v2/alerts?receiver=slack");
  EXPECT_THAT(r.body, HasSubstr(R"("alertname":"Slow")"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("RegionDown")));
  r = Do("GET", "/api/v2/alerts?filter=alertname%3D%22RegionDown%22&inhibited=false");
  EXPECT_THAT(r.body, HasSubstr("RegionDown"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("Burn")));

  r = Do("GET", "/api/v2/alerts/groups");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("labels":{"region":"eu-west-1"},"receiver":{"name":"pager"})"));
  EXPECT_THAT(r.body, HasSubstr(R"("labels":{"region":"us-east-1"},"receiver":{"name":"slack"})"));
  r = Do("GET", "/api/v2/alerts/groups?receiver=slack");
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr(R"("name":"pager")")));
  r = Do("GET", "/api/v2/alerts/groups?active=false");
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("RegionDown")));
  EXPECT_THAT(r.body, HasSubstr("Burn"));

  r = Do("GET", "/api/v2/receivers");
  EXPECT_EQ(r.body, R"([{"name":"pager"},{"name":"slack"}])");
  r = Do("GET", "/api/v2/status");
  EXPECT_THAT(r.body, HasSubstr(R"("config":{"original":"route: {receiver: pager}\n"})"));
  EXPECT_THAT(r.body, HasSubstr(R"("version":")" NINES_VERSION "\""));
}

TEST_F(AlertmanagerRoutesTest, BadRequestsAre4xxWithAReasonAsAlertmanagerAnswers) {
  auto r = Do("GET", "/api/v2/alerts?active=nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"js("active: \"nope\" is not a boolean (true or false)")js");
  r = Do("GET", "/api/v2/alerts/groups?receiver=(");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("receiver: bad regex"));
  r = Do("GET", "/api/v2/silences?filter=%7B");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("filter"));
  r = Do("POST", "/api/v2/alerts", "{");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("body: invalid JSON"));
  // Partly valid: the valid alert is taken, the invalid one named.
  r = Do("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"A"}},{"labels":{}}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"("alerts[1].labels: at least one label pair required")");
  EXPECT_THAT(Do("GET", "/api/v2/alerts").body, HasSubstr(R"("alertname":"A")"));

  const std::string silence =
      R"({"matchers":[{"name":"a","value":"b","isRegex":false}],"createdBy":"ops","comment":"c",)";
  r = Do("POST", "/api/v2/silences",
         silence + R"("startsAt":"2026-12-07T11:00:00Z","endsAt":"2026-12-07T11:00:00Z"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("silence.endsAt: the start time must be before the end time"));
  r = Do("POST", "/api/v2/silences",
         silence + R"("startsAt":"2026-12-07T08:00:00Z","endsAt":"2026-12-07T09:00:00Z"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("silence.endsAt: the end time can't be in the past"));
  r = Do("POST", "/api/v2/silences",
         silence +
             R"("id":"nope","startsAt":"2026-12-07T10:00:00Z","endsAt":"2026-12-07T11:00:00Z"})");
  EXPECT_EQ(r.status, 404);
  r = Do("POST", "/api/v2/silences",
         R"({"matchers":[{"name":"a","value":"","isRegex":false}],"createdBy":"o","comment":"c",)"
         R"("startsAt":"2026-12-07T10:00:00Z","endsAt":"2026-12-07T11:00:00Z"})");
  EXPECT_EQ(r.status,
            400);  // every matcher matches the empty string (the store refuses)

  r = Do("GET", "/api/v2/silence/unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("silenceID"));
  r = Do("DELETE", "/api/v2/silence/unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("silenceID \\\"unknown\\\""));
}

// Before the service runs (or after it stopped): 503, which Prometheus and amtool retry, and a
// POST takes nothing rather than answering 200 for alerts it throws away.
TEST_F(AlertmanagerRoutesTest, NotReadyAnswers503AndTakesNoAlerts) {
  backend_->set_ready(core::UnavailableError("the alerting service is not running"));
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/api/v2/alerts"},
                                                        {"GET", "/api/v2/alerts/groups"},
                                                        {"GET", "/api/v2/silences"},
                                                        {"GET", "/api/v2/silence/x"},
                                                        {"GET", "/api/v2/receivers"},
                                                        {"DELETE", "/api/v2/silence/x"}}) {
    SCOPED_TRACE(method + " " + path);
    auto r = Do(method, path);
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, R"("the alerting service is not running")");
  }
  auto r = Do("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"Lost"}}])");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Do("GET", "/api/v2/status").status, 200);  // what runs, and since when

  backend_->set_ready(core::Status::Ok());
  EXPECT_THAT(Do("GET", "/api/v2/alerts").body, ::testing::Not(HasSubstr("Lost")));
}

// A bad annotation is a 400 naming it, as Alertmanager answers.
TEST_F(AlertmanagerRoutesTest, InvalidAnnotationIsA400NamingIt) {
  auto r = Do("POST", "/api/v2/alerts",
              R"([{"labels":{"alertname":"A"},"annotations":{"summary":"\udc80"}}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"("alerts[0].annotations.summary: invalid UTF-8 in the value")");
  EXPECT_EQ(Do("GET", "/api/v2/alerts").body, "[]");
}

TEST_F(AlertmanagerRoutesTest, WriteRoutesNeedAWriteToken) {
  EXPECT_EQ(Do("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"A"}}])", false).status, 401);
  EXPECT_EQ(Do("POST", "/api/v2/silences", "{}", false).status, 401);
  EXPECT_EQ(Do("DELETE", "/api/v2/silence/x", "", false).status, 401);
  EXPECT_EQ(Do("GET", "/api/v2/alerts", "", false).status, 200);
  EXPECT_EQ(Do("GET", "/api/v2/silences", "", false).status, 200);
  EXPECT_EQ(Do("GET", "/api/v2/alerts", "", false).body, "[]");
}

TEST_F(AlertmanagerRoutesTest, SilenceLifecycleMutesTheAlert) {
  Do("POST", "/api/v2/alerts", R"([{"labels":{"alertname":"Slow","region":"ap"}}])");
  auto r = Do("POST", "/api/v2/silences",
              R"({"matchers":[{"name":"region","value":"ap","isRegex":false}],)"
              R"("createdBy":"ops","comment":"maintenance",)"
              R"("startsAt":"2026-12-07T10:00:00Z","endsAt":"2026-12-07T12:00:00Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"silenceID":"sil-1"})");
  EXPECT_TRUE(backend_->silences().Mutes(L(R"({region="ap"})"), clock_.Now()));

  r = Do("GET", "/api/v2/alerts");
  EXPECT_THAT(r.body, HasSubstr(R"("silencedBy":["sil-1"],"state":"suppressed")"));
  EXPECT_EQ(Do("GET", "/api/v2/alerts?silenced=false").body, "[]");

  r = Do("GET", "/api/v2/silence/sil-1");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("id":"sil-1","status":{"state":"active"})"));
  EXPECT_THAT(Do("GET", "/api/v2/silences?filter=region%3D%22ap%22").body, HasSubstr("sil-1"));
  EXPECT_EQ(Do("GET", "/api/v2/silences?filter=region%3D~%22ap%22").body, "[]");

  clock_.Advance(core::Duration::Minutes(1));
  r = Do("DELETE", "/api/v2/silence/sil-1");
  EXPECT_EQ(r.status, 200);
  clock_.Advance(core::Duration::Seconds(1));
  EXPECT_THAT(Do("GET", "/api/v2/silence/sil-1").body, HasSubstr(R"("state":"expired")"));
  EXPECT_FALSE(backend_->silences().Mutes(L(R"({region="ap"})"), clock_.Now()));
  EXPECT_THAT(Do("GET", "/api/v2/alerts").body, HasSubstr(R"("state":"active")"));
}

}  // namespace
}  // namespace nines::api
