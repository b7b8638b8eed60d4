#include "app/alerting_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace nines::app {
namespace {

using alerting::AlertmanagerConfig;
using alerting::IntegrationKind;
using alerting::Route;
using core::Duration;

// The example configs as Debian's prometheus-alertmanager package installs them
// (scripts/install-deps.sh installs it): read from the package, not copied into the repo.
constexpr char kDebianConfig[] = "/etc/prometheus/alertmanager.yml";
constexpr char kDocumentationExample[] =
    "/usr/share/doc/prometheus-alertmanager/examples/simple.yml";

std::string ReadInstalled(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path << " is missing: install prometheus-alertmanager "
                         << "(scripts/install-deps.sh)";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ErrorStrings(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  return out;
}

core::Labels L(std::string_view text) {
  auto l = core::ParseLabels(text);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return l.ok() ? *l : core::Labels();
}

std::vector<std::string> Receivers(const Route& root, std::string_view labels) {
  std::vector<std::string> out;
  for (const Route* r : root.Match(L(labels))) out.push_back(r->receiver());
  return out;
}

// ---- The example configs -------------------------------------------------------------------

TEST(AlertmanagerConfigTest, DocumentationExampleParses) {
  // Its templates glob, /etc/alertmanager/template/*.tmpl, matches nothing here: fine, as in
  // Alertmanager; the receivers then use the built-in templates.
  const std::string text = ReadInstalled(kDocumentationExample);
  AlertmanagerConfig am;
  std::shared_ptr<const alerting::TemplateSet> templates;
  std::vector<ConfigError> errors = ParseAlertmanagerConfig(text, "am.yml", &am, &templates);
  ASSERT_TRUE(errors.empty()) << ErrorStrings(errors)[0];
  ASSERT_NE(templates, nullptr);
  EXPECT_TRUE(templates->Defined("email.default.html"));
  std::unique_ptr<Route> root = Route::Build(am.route);
  EXPECT_EQ(root->receiver(), "team-X-mails");
  EXPECT_EQ(root->group_by(), (std::vector<std::string>{"alertname", "cluster", "service"}));
  EXPECT_EQ(root->group_wait(), Duration::Seconds(30));
  EXPECT_EQ(root->group_interval(), Duration::Minutes(5));
  EXPECT_EQ(root->repeat_interval(), Duration::Hours(3));
  struct Case {
    std::string labels;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {R"({service="foo1",severity="critical"})", {"team-X-pager"}},
      {R"({service="baz",severity="warning"})", {"team-X-mails"}},
      {R"({service="files",severity="critical"})", {"team-Y-pager"}},
      {R"({service="files"})", {"team-Y-mails"}},
      {R"({service="database",owner="team-X"})", {"team-X-pager"}},  // continue; Y no match
      {R"({service="database",owner="team-Y"})", {"team-Y-pager"}},
      {R"({service="database"})", {"team-DB-pager"}},
      {R"({service="unknown"})", {"team-X-mails"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.labels);
    EXPECT_EQ(Receivers(*root, c.labels), c.want);
  }
  const Route& db = *root->routes()[2];
  EXPECT_EQ(db.group_by(), (std::vector<std::string>{"alertname", "cluster", "database"}));
  EXPECT_EQ(db.repeat_interval(), Duration::Hours(3));  // inherited
  EXPECT_TRUE(db.routes()[0]->continue_matching());

  ASSERT_EQ(am.inhibit_rules.size(), 1u);
  EXPECT_EQ(alerting::MatchersToString(am.inhibit_rules[0].source_matchers),
            R"({severity="critical"})");
  EXPECT_EQ(am.inhibit_rules[0].equal,
            (std::vector<std::string>{"alertname", "cluster", "service"}));

  ASSERT_EQ(am.receivers.size(), 5u);
  const alerting::Receiver* x_pager = am.FindReceiver("team-X-pager");
  ASSERT_NE(x_pager, nullptr);
  ASSERT_EQ(x_pager->integrations.size(), 2u);
  EXPECT_EQ(x_pager->integrations[0].kind, IntegrationKind::kEmail);
  EXPECT_EQ(x_pager->integrations[0].fields.at("to"), "team-X+alerts-critical@example.org");
  EXPECT_FALSE(x_pager->integrations[0].send_resolved);  // email's default
  EXPECT_EQ(x_pager->integrations[1].kind, IntegrationKind::kPagerDuty);
  EXPECT_EQ(x_pager->integrations[1].fields.at("service_key"), "<team-X-key>");
  EXPECT_TRUE(x_pager->integrations[1].send_resolved);  // PagerDuty's default
  EXPECT_EQ(am.global.fields.at("smtp_smarthost"), "localhost:25");
  EXPECT_EQ(am.global.resolve_timeout, Duration::Minutes(5));  // default
}

TEST(AlertmanagerConfigTest, DebianExampleParses) {
  // Debian's /etc/prometheus/alertmanager.yml (prometheus-alertmanager 0.25), the old
  // match/match_re forms. Its templates glob, /etc/prometheus/alertmanager_templates/*.tmpl,
  // matches no file as installed (the directory holds a README only).
  const std::string text = ReadInstalled(kDebianConfig);
  AlertmanagerConfig am;
  std::shared_ptr<const alerting::TemplateSet> templates;
  std::vector<ConfigError> errors =
      ParseAlertmanagerConfig(text, "alertmanager.yml", &am, &templates);
  ASSERT_TRUE(errors.empty()) << ErrorStrings(errors)[0];
  ASSERT_NE(templates, nullptr);
  EXPECT_TRUE(templates->Defined("__subject"));
  std::unique_ptr<Route> root = Route::Build(am.route);
  // match_re: service: ^(foo1|foo2|baz)$ -- anchors inside Alertmanager's own anchoring.
  EXPECT_EQ(Receivers(*root, R"({service="foo2",severity="critical"})"),
            (std::vector<std::string>{"team-X-pager"}));
  EXPECT_EQ(Receivers(*root, R"({service="foo3",severity="critical"})"),
            (std::vector<std::string>{"team-X-mails"}));
  EXPECT_EQ(Receivers(*root, R"({service="database",owner="team-Y"})"),
            (std::vector<std::string>{"team-Y-pager"}));
  EXPECT_EQ(alerting::MatchersToString(am.inhibit_rules[0].target_matchers),
            R"({severity="warning"})");
}

// ---- A config that uses every supported section --------------------------------------------

constexpr std::string_view kFullConfig = R"(
global:
  resolve_timeout: 2m
  slack_api_url: https://hooks.slack.com/services/T0/B0/XXXX
  opsgenie_api_key: og-key
  http_config:
    follow_redirects: true
route:
  receiver: pager
  group_by: [alertname, slo, region]
  routes:
    - matchers: ['severity="page"']
      group_wait: 0s
      receiver: pager
      continue: true
    - matchers: ['{severity=~"ticket|info", region!="eu-west-1"}']
      receiver: chat
      group_by: ['...']
      mute_time_intervals: [maintenance]
      active_time_intervals: [business-hours]
    - match_re: {region: 'ap-.*'}
      match: {team: sre}
      receiver: ops
receivers:
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:9099/page
        send_resolved: false
      - url: 'http://127.0.0.1:9099/{{ .GroupLabels.region }}'  # templated: checked when sent
    pagerduty_configs:
      - routing_key: pd-key
        severity: '{{ .CommonLabels.severity }}'
        details: {region: '{{ .CommonLabels.region }}'}
  - name: chat
    slack_configs:
      - channel: '#slo'
        title: '{{ .Status }}'
        fields:
          - title: Region
            value: '{{ .CommonLabels.region }}'
  - name: ops
    opsgenie_configs:
      - priority: P1
    email_configs:
      - to: sre@example.org
        smarthost: smtp.example.org:587
        from: nines@example.org
        headers: {Subject: 'SLO {{ .Status }}'}
inhibit_rules:
  - name: page-beats-ticket
    source_matchers: [severity="page"]
    target_match: {severity: ticket}
    equal: [slo, region]
time_intervals:
  - name: business-hours
    time_intervals:
      - times: [{start_time: '09:00', end_time: '17:00'}]
        weekdays: ['monday:friday']
        location: Europe/Berlin
mute_time_intervals:
  - name: maintenance
    time_intervals:
      - days_of_month: ['-1']
        months: [january:march, '12']
        years: ['2026:2027']
)";

TEST(AlertmanagerConfigTest, ReadsEverySupportedSection) {
  AlertmanagerConfig am;
  std::vector<ConfigError> errors = ParseAlertmanagerConfig(kFullConfig, "am.yml", &am);
  ASSERT_TRUE(errors.empty()) << ErrorStrings(errors)[0];
  EXPECT_EQ(am.global.resolve_timeout, Duration::Minutes(2));
  EXPECT_EQ(am.global.fields.at("http_config.follow_redirects"), "true");
  std::unique_ptr<Route> root = Route::Build(am.route);
  const Route& page = *root->routes()[0];
  EXPECT_EQ(page.group_wait(), Duration::Zero());
  EXPECT_EQ(page.group_interval(), Duration::Minutes(5));
  const Route& chat = *root->routes()[1];
  EXPECT_TRUE(chat.group_by_all());
  EXPECT_EQ(chat.mute_time_intervals(), (std::vector<std::string>{"maintenance"}));
  EXPECT_EQ(chat.active_time_intervals(), (std::vector<std::string>{"business-hours"}));
  EXPECT_EQ(alerting::MatchersToString(chat.matchers()),
            R"({region!="eu-west-1",severity=~"ticket|info"})");
  EXPECT_EQ(alerting::MatchersToString(root->routes()[2]->matchers()),
            R"({region=~"ap-.*",team="sre"})");
  EXPECT_EQ(Receivers(*root, R"({severity="page",region="eu-west-1"})"),
            (std::vector<std::string>{"pager"}));  // continue, but nothing else matches
  EXPECT_EQ(Receivers(*root, R"({severity="page",region="ap-southeast-2",team="sre"})"),
            (std::vector<std::string>{"pager", "ops"}));
  EXPECT_EQ(Receivers(*root, R"({severity="ticket",region="eu-west-1"})"),
            (std::vector<std::string>{"pager"}));  // the root

  const alerting::Receiver* pager = am.FindReceiver("pager");
  ASSERT_NE(pager, nullptr);
  ASSERT_EQ(pager->integrations.size(), 3u);
  EXPECT_EQ(pager->integrations[0].kind, IntegrationKind::kWebhook);
  EXPECT_FALSE(pager->integrations[0].send_resolved);
  EXPECT_TRUE(pager->integrations[1].send_resolved);  // the webhook's default
  EXPECT_EQ(pager->integrations[2].fields.at("details.region"), "{{ .CommonLabels.region }}");
  const alerting::Receiver* chat_rcv = am.FindReceiver("chat");
  ASSERT_NE(chat_rcv, nullptr);
  EXPECT_EQ(chat_rcv->integrations[0].fields.at("fields.0.title"), "Region");
  EXPECT_FALSE(chat_rcv->integrations[0].send_resolved);  // Slack's default
  const alerting::Receiver* ops = am.FindReceiver("ops");
  ASSERT_NE(ops, nullptr);
  EXPECT_EQ(ops->integrations[0].kind, IntegrationKind::kOpsgenie);  // key from global
  EXPECT_EQ(ops->integrations[1].fields.at("headers.Subject"), "SLO {{ .Status }}");

  ASSERT_EQ(am.inhibit_rules.size(), 1u);
  EXPECT_EQ(am.inhibit_rules[0].name, "page-beats-ticket");
  EXPECT_EQ(alerting::MatchersToString(am.inhibit_rules[0].target_matchers),
            R"({severity="ticket"})");

  ASSERT_EQ(am.time_intervals.size(), 2u);
  const alerting::TimeInterval& business = am.time_intervals.at("business-hours")[0];
  EXPECT_EQ(business.location(), "Europe/Berlin");
  // Monday 2026-03-30 09:00 CEST is 07:00 UTC.
  EXPECT_TRUE(business.Contains(*core::ParseTimestamp("2026-03-30T07:00:00Z")));
  EXPECT_FALSE(business.Contains(*core::ParseTimestamp("2026-03-30T06:59:00Z")));
  const alerting::TimeInterval& maintenance = am.time_intervals.at("maintenance")[0];
  EXPECT_EQ(maintenance.months.size(), 2u);
  EXPECT_TRUE(maintenance.Contains(*core::ParseTimestamp("2027-02-28T12:00:00Z")));
  EXPECT_FALSE(maintenance.Contains(*core::ParseTimestamp("2027-04-30T12:00:00Z")));
}

// ---- Every kind of mistake, at its file:line:col -------------------------------------------

// A valid base to break: a root route and one receiver.
constexpr std::string_view kHead = R"(route:
  receiver: r
receivers:
  - name: r
)";

TEST(AlertmanagerConfigTest, ReportsEachMistakeAtItsPosition) {
  struct Case {
    std::string name;
    std::string yaml;
    std::string want;  // one of the errors, whole
  };
  const std::string head(kHead);
  const std::vector<Case> cases = {
      {"yaml syntax", "route: [\n", "am.yml:2:1: syntax error: end of sequence flow not found"},
      {"empty file", "", "am.yml:1:1: an Alertmanager config needs at least a route and its "
                         "receiver"},
      {"unknown top-level key", head + "recievers: []\n",
       R"(am.yml:5:1: unknown top-level section "recievers" (did you mean "receivers"?))"},
      {"no route", "receivers:\n  - name: r\n",
       R"(am.yml:1:1: top level: missing required field "route" (the root route, with the default receiver))"},
      {"root without receiver", "route:\n  group_wait: 1s\n",
       R"(am.yml:2:3: route: missing required field "receiver" (the root route must name a default receiver))"},
      {"root with matchers", "route:\n  receiver: r\n  matchers: [a=b]\nreceivers:\n  - name: r\n",
       "am.yml:3:13: route: the root route must not have any matchers (every alert enters it)"},
      {"root with mute intervals",
       "route:\n  receiver: r\n  mute_time_intervals: [m]\nreceivers:\n  - name: r\n"
       "time_intervals:\n  - name: m\n",
       "am.yml:3:24: route.mute_time_intervals: the root route must not have "
       "mute_time_intervals"},
      {"undefined receiver",
       "route:\n  receiver: r\n  routes:\n    - receiver: rr\nreceivers:\n  - name: r\n",
       R"(am.yml:4:17: route.routes[0].receiver: undefined receiver "rr" used in route (did you mean "r"?))"},
      {"undefined time interval",
       "route:\n  receiver: r\n  routes:\n    - active_time_intervals: [weekend]\nreceivers:\n"
       "  - name: r\n",
       R"(am.yml:4:31: route.routes[0].active_time_intervals[0]: undefined time interval "weekend" used in route (no time_intervals are defined))"},
      {"duplicate receiver", head + "  - name: r\n",
       R"(am.yml:5:11: receivers[1].name: duplicate receiver name "r" (first defined at line 4))"},
      {"duplicate time interval across both lists",
       head + "time_intervals:\n  - name: m\nmute_time_intervals:\n  - name: m\n",
       R"(am.yml:8:11: mute_time_intervals[0].name: duplicate time interval name "m" (first defined at line 6))"},
      {"unescaped quote in a matcher",
       "route:\n  receiver: r\n  routes:\n    - matchers: ['a=\"b\"c\"']\nreceivers:\n"
       "  - name: r\n",
       R"(am.yml:4:18: route.routes[0].matchers[0]: matcher value contains unescaped double quote: "b"c")"},
      {"bad matcher",
       "route:\n  receiver: r\n  routes:\n    - matchers: [severity]\nreceivers:\n  - name: r\n",
       "am.yml:4:18: route.routes[0].matchers[0]: bad matcher format: severity"},
      {"bad regex",
       "route:\n  receiver: r\n  routes:\n    - match_re: {a: '('}\nreceivers:\n  - name: r\n",
       "am.yml:4:21: route.routes[0].match_re.a: invalid regex \"(\": missing ): ("},
      {"invalid label name in match",
       "route:\n  receiver: r\n  routes:\n    - match: {a-b: c}\nreceivers:\n  - name: r\n",
       R"(am.yml:4:15: route.routes[0].match: invalid label name "a-b")"},
      {"wildcard with labels", "route:\n  receiver: r\n  group_by: [a, '...']\n"
                               "receivers:\n  - name: r\n",
       "am.yml:3:17: route.group_by: cannot have wildcard group_by (`...`) and other labels at "
       "the same time"},
      {"duplicate group_by label",
       "route:\n  receiver: r\n  group_by: [a, a]\nreceivers:\n  - name: r\n",
       R"(am.yml:3:17: route.group_by[1]: duplicated label "a" in group_by)"},
      {"zero group_interval",
       "route:\n  receiver: r\n  group_interval: 0s\nreceivers:\n  - name: r\n",
       "am.yml:3:19: route.group_interval: must be greater than 0"},
      {"bad duration", "route:\n  receiver: r\n  repeat_interval: 4 hours\nreceivers:\n"
                       "  - name: r\n",
       "am.yml:3:20: route.repeat_interval: "},
      {"continue not a bool",
       "route:\n  receiver: r\n  routes:\n    - continue: maybe\nreceivers:\n  - name: r\n",
       "am.yml:4:17: route.routes[0].continue: "},
      {"route labels", "route:\n  receiver: r\n  labels: {team: a}\nreceivers:\n  - name: r\n",
       "am.yml:3:11: route.labels: not supported by nines (labels added by a route)"},
      {"receiver without name", head + "  - webhook_configs: [{url: 'http://x'}]\n",
       R"(am.yml:5:5: receivers[1]: missing required field "name")"},
      {"unsupported receiver kind", head + "    victorops_configs: [{routing_key: x}]\n",
       "am.yml:5:24: receivers[0].victorops_configs: not supported by nines (nines sends to "
       "webhook_configs, pagerduty_configs, slack_configs, opsgenie_configs and email_configs)"},
      {"unknown integration field", head + "    webhook_configs:\n      - urll: http://x\n",
       R"(am.yml:6:9: unknown field "urll" in receivers[0].webhook_configs[0] (did you mean "url"?))"},
      {"webhook without url", head + "    webhook_configs:\n      - send_resolved: true\n",
       "am.yml:6:9: receivers[0].webhook_configs[0]: one of url or url_file must be configured"},
      {"webhook with both urls",
       head + "    webhook_configs:\n      - {url: 'http://x', url_file: /f}\n",
       "am.yml:6:9: receivers[0].webhook_configs[0]: at most one of url & url_file must be "
       "configured"},
      {"webhook url scheme", head + "    webhook_configs:\n      - url: ftp://x/hook\n",
       R"(am.yml:6:14: receivers[0].webhook_configs[0].url: unsupported scheme "ftp" for URL (want http or https))"},
      {"webhook url without host", head + "    webhook_configs:\n      - url: 'http:///hook'\n",
       "am.yml:6:14: receivers[0].webhook_configs[0].url: missing host for URL"},
      {"global url", "global:\n  pagerduty_url: events.pagerduty.com\n" + head,
       R"(am.yml:2:18: global.pagerduty_url: unsupported scheme "" for URL (want http or https))"},
      {"opsgenie responder without id",
       head + "    opsgenie_configs:\n      - api_key: k\n        responders: [{type: team}]\n",
       "am.yml:7:22: receivers[0].opsgenie_configs[0].responders[0]: missing one of id, username "
       "or name"},
      {"opsgenie responder type",
       head + "    opsgenie_configs:\n      - api_key: k\n        responders: [{id: a, type: "
              "squad}]\n",
       R"(am.yml:7:22: receivers[0].opsgenie_configs[0].responders[0].type: invalid responder type "squad" (want team, teams, user, escalation or schedule))"},
      {"slack field without value",
       head + "    slack_configs:\n      - api_url: https://h/x\n        fields: [{title: a}]\n",
       "am.yml:7:18: receivers[0].slack_configs[0].fields[0]: missing value"},
      {"pagerduty without key", head + "    pagerduty_configs:\n      - severity: critical\n",
       "am.yml:6:9: receivers[0].pagerduty_configs[0]: missing service_key or routing_key (or "
       "their _file forms)"},
      {"slack without url", head + "    slack_configs:\n      - channel: '#a'\n",
       "am.yml:6:9: receivers[0].slack_configs[0]: no Slack API URL nor app token set, here or in "
       "global (slack_api_url, slack_app_token or their _file forms)"},
      {"opsgenie without key", head + "    opsgenie_configs:\n      - priority: P1\n",
       "am.yml:6:9: receivers[0].opsgenie_configs[0]: no Opsgenie API key set, here or in global "
       "(opsgenie_api_key or opsgenie_api_key_file)"},
      {"email without to", head + "    email_configs:\n      - {from: a@b, smarthost: 'h:25'}\n",
       "am.yml:6:9: receivers[0].email_configs[0]: missing required field \"to\" (the recipients' "
       "addresses)"},
      {"email without smarthost", head + "    email_configs:\n      - {to: a@b, from: c@d}\n",
       "am.yml:6:9: receivers[0].email_configs[0]: no SMTP smarthost set, here (smarthost) or in "
       "global (smtp_smarthost)"},
      {"bad smarthost", "global:\n  smtp_smarthost: localhost\n" + head,
       R"(am.yml:2:19: global.smtp_smarthost: "localhost" is not host:port)"},
      {"unsupported global", "global:\n  victorops_api_key: k\n" + head,
       "am.yml:2:22: global.victorops_api_key: not supported by nines (a setting of a receiver "
       "kind nines does not have)"},
      {"global url and file", "global:\n  slack_api_url: http://a\n  slack_api_url_file: /f\n" +
                                  head,
       "am.yml:2:3: global: at most one of slack_api_url & slack_api_url_file must be "
       "configured"},
      {"inhibit equal label", head + "inhibit_rules:\n  - equal: [a.b]\n",
       R"(am.yml:6:13: inhibit_rules[0].equal[0]: invalid label name "a.b" in equal list)"},
      {"inhibit unknown field", head + "inhibit_rules:\n  - source_matcher: [a=b]\n",
       R"(am.yml:6:5: unknown field "source_matcher" in inhibit_rules[0] (did you mean "source_matchers"?))"},
      {"time interval without name", head + "time_intervals:\n  - time_intervals: []\n",
       R"(am.yml:6:5: time_intervals[0]: missing required field "name" (routes refer to the interval by it))"},
      {"bad weekday", head + "time_intervals:\n  - name: m\n    time_intervals:\n"
                             "      - weekdays: [mon]\n",
       R"(am.yml:8:20: time_intervals[0].time_intervals[0].weekdays[0]: "mon" is not a valid weekday)"},
      {"bad time", head + "time_intervals:\n  - name: m\n    time_intervals:\n"
                          "      - times: [{start_time: '17:00', end_time: '09:00'}]\n",
       "am.yml:8:17: time_intervals[0].time_intervals[0].times[0]: start_time 17:00 is not before "
       "end_time 09:00"},
      {"bad days of month", head + "time_intervals:\n  - name: m\n    time_intervals:\n"
                                   "      - days_of_month: ['-3:5']\n",
       "am.yml:8:25: time_intervals[0].time_intervals[0].days_of_month[0]: days of month "
       "\"-3:5\": end day must be negative if start day is negative"},
      {"bad location", head + "time_intervals:\n  - name: m\n    time_intervals:\n"
                              "      - location: Europe/Atlantis\n",
       "am.yml:8:19: time_intervals[0].time_intervals[0].location: unknown time zone "
       "\"Europe/Atlantis\" (want an IANA zone such as \"Europe/Berlin\")"},
      {"unknown time interval field", head + "time_intervals:\n  - name: m\n    time_intervals:\n"
                                             "      - weekday: [monday]\n",
       R"(am.yml:8:9: unknown field "weekday" in time_intervals[0].time_intervals[0] (did you mean "weekdays"?))"},
      {"templates not a list", "templates: '/etc/a/*.tmpl'\n" + head,
       "am.yml:1:12: templates: expected a list"},
      {"tracing", head + "tracing:\n  endpoint: localhost:4317\n",
       "am.yml:6:3: tracing: not supported by nines (nines does not export traces)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AlertmanagerConfig am;
    am.route.receiver = "untouched";
    std::vector<std::string> errors = ErrorStrings(ParseAlertmanagerConfig(c.yaml, "am.yml", &am));
    ASSERT_FALSE(errors.empty());
    bool found = false;
    for (const std::string& e : errors) found = found || e.rfind(c.want, 0) == 0;
    EXPECT_TRUE(found) << "want: " << c.want << "\ngot:  " << testing::PrintToString(errors);
    EXPECT_EQ(am.route.receiver, "untouched");  // nothing assigned on error
  }
}

TEST(AlertmanagerConfigTest, AValidMinimalConfigHasNoErrors) {
  AlertmanagerConfig am;
  std::vector<ConfigError> errors = ParseAlertmanagerConfig(kHead, "am.yml", &am);
  EXPECT_TRUE(errors.empty()) << ErrorStrings(errors)[0];
  EXPECT_EQ(am.route.receiver, "r");
  ASSERT_EQ(am.receivers.size(), 1u);
  EXPECT_TRUE(am.receivers[0].integrations.empty());
}

// `_file` secrets are read when the config is loaded, relative to its directory, trimmed; the
// notifiers only ever see the plain field. An unreadable one is an error naming the field.
TEST(AlertmanagerConfigTest, SecretFilesAreReadRelativeToTheConfig) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "nines-am-secret-files";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "keys");
  std::ofstream(dir / "keys" / "pd") << "  R0UT1NGKEY\n";
  std::ofstream(dir / "token") << "T0KEN\n";
  std::ofstream(dir / "smtp") << "pa55\n";
  const std::string text = R"(global:
  smtp_auth_password_file: smtp
route: {receiver: r}
receivers:
- name: r
  pagerduty_configs:
  - routing_key_file: keys/pd
    http_config:
      authorization: {credentials_file: token}
)";
  AlertmanagerConfig am;
  std::vector<ConfigError> errors =
      ParseAlertmanagerConfig(text, (dir / "am.yml").string(), &am);
  ASSERT_TRUE(errors.empty()) << ErrorStrings(errors)[0];
  ASSERT_EQ(am.receivers.at(0).integrations.size(), 1u);
  const auto& f = am.receivers[0].integrations[0].fields;
  EXPECT_EQ(f.at("routing_key"), "R0UT1NGKEY");
  EXPECT_EQ(f.at("http_config.authorization.credentials"), "T0KEN");
  EXPECT_EQ(f.count("routing_key_file"), 0u);
  EXPECT_EQ(am.global.fields.at("smtp_auth_password"), "pa55");

  std::filesystem::remove(dir / "keys" / "pd");
  errors = ParseAlertmanagerConfig(text, (dir / "am.yml").string(), &am);
  ASSERT_EQ(errors.size(), 1u);
  const std::string e = errors[0].ToString();
  EXPECT_NE(e.find("routing_key_file: cannot read"), std::string::npos) << e;
  EXPECT_NE(e.find("keys/pd"), std::string::npos) << e;
  EXPECT_EQ(e.find("R0UT1NGKEY"), std::string::npos) << e;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nines::app
