// `templates:` in an Alertmanager config (app/alerting_config.h): template files found by glob
// relative to the config file, their errors at their own file:line:col, and every templated
// integration field parsed against them at config time.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "alerting/notifiers.h"
#include "app/alerting_config.h"
#include "tests/testutil/testutil.h"

namespace nines::app {
namespace {

using alerting::AlertmanagerConfig;
using alerting::TemplateSet;

std::vector<std::string> ErrorStrings(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  return out;
}

alerting::TemplateData Data() {
  alerting::TemplateData d;
  d.receiver = "team";
  d.status = "firing";
  d.common_labels = {{"alertname", "SloBurnRate"}, {"slo", "api"}};
  alerting::TemplateAlert a;
  a.status = "firing";
  a.labels = d.common_labels;
  d.alerts.push_back(a);
  return d;
}

TEST(AlertmanagerTemplatesTest, GlobsRelativeToTheConfigFileLoadInOrder) {
  testutil::TempDir dir;
  std::filesystem::create_directory(dir.File("tmpl"));
  dir.Write("tmpl/a.tmpl",
            "{{ define \"team.title\" }}A {{ .CommonLabels.slo }}{{ end }}\n"
            "{{ define \"slack.default.title\" }}custom{{ end }}\n");
  // Later in glob order: replaces a.tmpl's team.title.
  dir.Write("tmpl/b.tmpl", "{{ define \"team.title\" }}B {{ .CommonLabels.slo }}{{ end }}\n");
  dir.Write("tmpl/notes.txt", "{{ not a template");  // not matched by *.tmpl
  const std::string text = R"(
templates:
  - 'tmpl/*.tmpl'
  - '/nonexistent/dir/*.tmpl'
route:
  receiver: r
receivers:
  - name: r
    slack_configs:
      - api_url: http://127.0.0.1:1/hook
        channel: '#x'
        title: '{{ template "team.title" . }}'
)";
  AlertmanagerConfig am;
  std::shared_ptr<const TemplateSet> templates;
  std::vector<ConfigError> errors =
      ParseAlertmanagerConfig(text, dir.File("alertmanager.yml"), &am, &templates);
  ASSERT_TRUE(errors.empty()) << ErrorStrings(errors)[0];
  ASSERT_NE(templates, nullptr);
  const std::string& title = am.receivers[0].integrations[0].fields.at("title");
  auto out = templates->Execute(title, Data());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "B api");
  out = templates->Execute("{{ template \"slack.default.title\" . }}", Data());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "custom");
}

TEST(AlertmanagerTemplatesTest, TemplateFileErrorsAreAtTheirFileLineAndColumn) {
  testutil::TempDir dir;
  const std::string bad = dir.Write("bad.tmpl", "{{ define \"x\" }}\n  {{ .Status \n{{ end }}\n");
  const std::string unsupported = dir.Write(
      "unsupported.tmpl", "{{ define \"y\" }}{{ .StartsAt | tz \"Asia/Tokyo\" }}{{ end }}");
  const std::string text =
      "templates: ['bad.tmpl', 'unsupported.tmpl']\n"
      "route: {receiver: r}\nreceivers: [{name: r}]\n";
  std::shared_ptr<const TemplateSet> templates;
  std::vector<std::string> errors =
      ErrorStrings(ParseAlertmanagerConfig(text, dir.File("am.yml"), nullptr, &templates));
  // Sorted by line, then column, whatever the file.
  EXPECT_EQ(errors, (std::vector<std::string>{
                        unsupported + ":1:32: function \"tz\" is not supported by nines",
                        bad + ":3:1: unexpected \"{\" in action",
                    }));
  EXPECT_EQ(templates, nullptr);  // not assigned on error

  // A glob that matches a directory or a device: refused, not read.
  std::filesystem::create_directory(dir.File("d.tmpl"));
  errors = ErrorStrings(ParseAlertmanagerConfig(
      "templates: ['d.tmpl', '/dev/nul*']\nroute: {receiver: r}\nreceivers: [{name: r}]\n",
      dir.File("am.yml"), nullptr));
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                dir.File("am.yml") + ":1:13: templates[0]: template file \"" + dir.File("d.tmpl") +
                    "\" is not a regular file",
                dir.File("am.yml") +
                    ":1:23: templates[1]: template file \"/dev/null\" is not a regular file",
            }));
}

TEST(AlertmanagerTemplatesTest, TemplatedFieldsAreCheckedAtTheirPosition) {
  testutil::TempDir dir;
  dir.Write("t.tmpl", "{{ define \"calls.missing\" }}{{ template \"missing\" . }}{{ end }}");
  const std::string text = R"(templates: ['*.tmpl']
route: {receiver: r}
receivers:
  - name: r
    slack_configs:
      - api_url: http://127.0.0.1:1/hook
        title: '{{ .Status'
        text: '{{ template "nope" . }}'
        fields:
          - title: ok
            value: 'x {{ break }}'
        actions:
          - type: button
            text: '{{ template "calls.missing" . }}'
            url: 'http://x/{{ .Receiver }}'
    pagerduty_configs:
      - routing_key: k
        details:
          firing: '{{ template "__text_alert_list" .Alerts.Firing }}'
          bad: '{{ if }}'
    email_configs:
      - to: a@example.org
        from: b@example.org
        smarthost: localhost:25
        headers:
          Subject: '{{ .CommonLabels.slo | frob }}'
        html: '{{ template "email.default.html" . }}'
    webhook_configs:
      - url: 'http://127.0.0.1:1/{{ .GroupLabels.x'
)";
  std::vector<std::string> errors =
      ErrorStrings(ParseAlertmanagerConfig(text, dir.File("am.yml"), nullptr));
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                dir.File("am.yml") + ":7:16: receivers[0].slack_configs[0].title: template error "
                                     "at 1:1 of the text: unclosed action: expected \"}}\"",
                dir.File("am.yml") + ":8:15: receivers[0].slack_configs[0].text: template error "
                                     "at 1:4 of the text: template \"nope\" not defined",
                dir.File("am.yml") + ":11:20: receivers[0].slack_configs[0].fields[0].value: "
                                     "template error at 1:6 of the text: {{break}} is not "
                                     "supported by nines",
                dir.File("am.yml") + ":14:19: receivers[0].slack_configs[0].actions[0].text: "
                                     "template error at 1:4 of the text: template "
                                     "\"calls.missing\" calls template \"missing\", which is not "
                                     "defined",
                dir.File("am.yml") + ":20:16: receivers[0].pagerduty_configs[0].details.bad: "
                                     "template error at 1:7 of the text: missing value for if",
                dir.File("am.yml") + ":26:20: receivers[0].email_configs[0].headers.Subject: "
                                     "template error at 1:24 of the text: function \"frob\" not "
                                     "defined",
                dir.File("am.yml") + ":29:14: receivers[0].webhook_configs[0].url: template "
                                     "error at 1:20 of the text: unclosed action: expected "
                                     "\"}}\"",
            }));
}

TEST(AlertmanagerTemplatesTest, RedefinedDefaultTemplatesAreChecked) {
  testutil::TempDir dir;
  dir.Write("t.tmpl", "{{ define \"slack.default.text\" }}{{ template \"team.body\" . }}{{ end }}");
  const std::string text = "route: {receiver: r}\nreceivers: [{name: r}]\ntemplates: ['*.tmpl']\n";
  std::vector<std::string> errors =
      ErrorStrings(ParseAlertmanagerConfig(text, dir.File("am.yml"), nullptr));
  EXPECT_EQ(errors, (std::vector<std::string>{
                        dir.File("am.yml") +
                        ":3:12: templates: the default template \"slack.default.text\", as the "
                        "template files define it: template \"slack.default.text\" calls template "
                        "\"team.body\", which is not defined"}));
  // Defined in another file: fine.
  dir.Write("u.tmpl", "{{ define \"team.body\" }}body{{ end }}");
  std::shared_ptr<const TemplateSet> templates;
  EXPECT_TRUE(ParseAlertmanagerConfig(text, dir.File("am.yml"), nullptr, &templates).empty());
  ASSERT_NE(templates, nullptr);
  auto out = templates->Execute("{{ template \"slack.default.text\" . }}", Data());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "body");
}

// The set a config builds is the one the notifiers render with: a Slack title from the user's
// file, the built-in SLO-aware text, and an email body HTML-escaped.
TEST(AlertmanagerTemplatesTest, NotifiersRenderWithTheConfigsTemplates) {
  testutil::TempDir dir;
  dir.Write("team.tmpl",
            "{{ define \"team.title\" }}[{{ .Status | toUpper }}] {{ "
            ".CommonLabels.slo }} in {{ .CommonLabels.region }}{{ end }}");
  const std::string text = R"(templates: ['*.tmpl']
route: {receiver: r}
receivers:
  - name: r
    slack_configs:
      - api_url: http://127.0.0.1:1/hook
        title: '{{ template "team.title" . }}'
    email_configs:
      - to: a@example.org
        from: b@example.org
        smarthost: 127.0.0.1:25
        require_tls: false
)";
  AlertmanagerConfig am;
  std::shared_ptr<const TemplateSet> templates;
  std::vector<ConfigError> errors =
      ParseAlertmanagerConfig(text, dir.File("am.yml"), &am, &templates);
  ASSERT_TRUE(errors.empty()) << ErrorStrings(errors)[0];

  alerting::Notification n;
  n.receiver = "r";
  n.group_key = "{}:{alertname=\"SloBurnRate\"}";
  n.group_labels = *core::ParseLabels("{alertname=\"SloBurnRate\"}");
  alerting::Alert a;
  a.labels = *core::ParseLabels(
      "{alertname=\"SloBurnRate\",slo=\"api\",region=\"eu<west>\",severity=\"page\"}");
  a.annotations = {{"budget_remaining", "16.4"}, {"budget_total", "86.4"}};
  a.starts_at = core::Timestamp::FromUnixSeconds(1796662950);
  n.alerts.push_back(a);
  alerting::NotifyContext context{"http://nines:9099", templates.get()};

  n.integration_kind = alerting::IntegrationKind::kSlack;
  auto slack = alerting::BuildRequests(n, am.receivers[0].integrations[0], am.global, context);
  ASSERT_TRUE(slack.ok()) << slack.status().ToString();
  ASSERT_EQ(slack->size(), 1u);
  const std::string& body = (*slack)[0].http.body;
  EXPECT_NE(body.find("\"title\":\"[FIRING] api in eu<west>\""), std::string::npos) << body;
  EXPECT_NE(body.find("Budget left: 16.4 of 86.4"), std::string::npos) << body;

  n.integration_kind = alerting::IntegrationKind::kEmail;
  n.integration_index = 1;
  auto email = alerting::BuildRequests(n, am.receivers[0].integrations[1], am.global, context);
  ASSERT_TRUE(email.ok()) << email.status().ToString();
  ASSERT_EQ(email->size(), 1u);
  const alerting::EmailMessage& m = (*email)[0].email;
  EXPECT_NE(m.html.find("eu&lt;west&gt;"), std::string::npos) << m.html;
  EXPECT_EQ(m.html.find("eu<west>"), std::string::npos) << m.html;
}

}  // namespace
}  // namespace nines::app
