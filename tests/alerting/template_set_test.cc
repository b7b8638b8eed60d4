#include "alerting/template_set.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace nines::alerting {
namespace {

using core::StatusCode;
using core::Timestamp;

// An SLO burn page in eu-west-1 (firing) and the same SLO's page in us-east-1 (resolved), with
// the annotations nines' evaluator writes.
TemplateData Data() {
  TemplateData d;
  d.receiver = "team pager";
  d.status = "firing";
  d.external_url = "http://nines:9099";
  d.group_labels = {{"alertname", "SloBurnRate"}, {"slo", "api"}};
  d.common_labels = {{"alertname", "SloBurnRate"}, {"slo", "api"}, {"severity", "page"}};
  d.common_annotations = {{"objective", "0.999"}};
  TemplateAlert a;
  a.status = "firing";
  a.labels = {
      {"alertname", "SloBurnRate"}, {"slo", "api"}, {"severity", "page"}, {"region", "eu-west-1"}};
  a.annotations = {{"summary", "SLO api in eu-west-1 burns its error budget at 14.4x"},
                   {"budget_remaining", "16.4"},
                   {"budget_total", "86.4"},
                   {"budget_unit", "seconds"},
                   {"budget_remaining_ratio", "0.189815"},
                   {"long_burn_rate", "14.4"},
                   {"short_burn_rate", "15.2"},
                   {"window_pair", "1h/5m"},
                   {"exhaustion_at_1h_burn", "2026-12-07T18:10:00Z"}};
  a.starts_at = Timestamp::FromUnixSeconds(1796662950);  // 2026-12-07 17:02:30 UTC
  a.generator_url = "http://nines:9099/api/v1/slos/api";
  a.fingerprint = "1b9e3c6a2f0d4e57";
  d.alerts.push_back(a);
  a.status = "resolved";
  a.labels["region"] = "us-east-1";
  a.annotations = {{"summary", "SLO api in us-east-1 recovered"}};
  a.ends_at = Timestamp::FromUnixSeconds(1796663010);
  a.generator_url = "";
  d.alerts.push_back(a);
  return d;
}

std::string Render(const TemplateSet& set, std::string_view text, const TemplateData& data) {
  auto out = set.Execute(text, data);
  EXPECT_TRUE(out.ok()) << text << ": " << out.status().ToString();
  return out.ok() ? *out : "";
}

TEST(TemplateSetTest, ExecutesAPlainText) {
  TemplateSet set;
  EXPECT_EQ(Render(set, "{{ .Status }} {{ .CommonLabels.slo }}", Data()), "firing api");
  EXPECT_EQ(Render(set, "", Data()), "");
}

TEST(TemplateSetTest, CheckReportsLineAndColumn) {
  TemplateSet set;
  core::Status s = set.Check("ok\n{{ .Status ");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().substr(0, 4), "2:1:") << s.message();
}

// The names Alertmanager's default.tmpl and email.tmpl define for the kinds nines sends to.
constexpr const char* kAlertmanagerNames[] = {
    "__alertmanager",
    "__alertmanagerURL",
    "__subject",
    "__description",
    "__text_alert_list",
    "__text_alert_list_markdown",
    "slack.default.title",
    "slack.default.username",
    "slack.default.fallback",
    "slack.default.callbackid",
    "slack.default.pretext",
    "slack.default.titlelink",
    "slack.default.iconemoji",
    "slack.default.iconurl",
    "slack.default.text",
    "slack.default.footer",
    "slack.default.color",
    "pagerduty.default.description",
    "pagerduty.default.client",
    "pagerduty.default.clientURL",
    "pagerduty.default.instances",
    "opsgenie.default.message",
    "opsgenie.default.description",
    "opsgenie.default.source",
    "email.default.subject",
    "email.default.html",
};

TEST(TemplateSetTest, DefinesAlertmanagersNamesAndEachRuns) {
  TemplateSet set;
  TemplateData empty;
  empty.status = "resolved";
  for (const char* name : kAlertmanagerNames) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(set.Defined(name));
    // The instance lists take a list of alerts as dot, the others the data.
    std::string arg = std::string_view(name).find("list") != std::string_view::npos ||
                              std::string_view(name) == "pagerduty.default.instances"
                          ? ".Alerts"
                          : ".";
    std::string text = std::string("{{ template \"") + name + "\" " + arg + " }}";
    EXPECT_TRUE(set.Check(text).ok()) << set.Check(text).ToString();
    EXPECT_TRUE(set.Execute(text, Data()).ok()) << set.Execute(text, Data()).status().ToString();
    EXPECT_TRUE(set.Execute(text, empty).ok()) << set.Execute(text, empty).status().ToString();
  }
  EXPECT_FALSE(set.Defined("wechat.default.message"));  // a kind nines does not send to
}

TEST(TemplateSetTest, BuiltinTextsAreSloAware) {
  TemplateSet set;
  TemplateData d = Data();
  EXPECT_EQ(Render(set, "{{ template \"__subject\" . }}", d),
            "[FIRING:1] SLO api: SloBurnRate (page)");
  EXPECT_EQ(Render(set, "{{ template \"slack.default.titlelink\" . }}", d),
            "http://nines:9099/api/v1/slos/api");
  EXPECT_EQ(Render(set, "{{ template \"slack.default.fallback\" . }}", d),
            "[FIRING:1] SLO api: SloBurnRate (page) - http://nines:9099/api/v1/slos/api");
  EXPECT_EQ(Render(set, "{{ template \"slack.default.color\" . }}", d), "danger");
  EXPECT_EQ(Render(set, "{{ template \"__alertmanager\" . }}", d), "nines");
  EXPECT_EQ(Render(set, "{{ template \"slack.default.text\" . }}", d),
            "Firing (1):\n"
            "SloBurnRate - SLO api - eu-west-1 - page\n"
            "SLO api in eu-west-1 burns its error budget at 14.4x\n"
            "Budget left: 16.4 of 86.4 seconds (ratio 0.189815)\n"
            "Burn rate: 14.4x long, 15.2x short (windows 1h/5m)\n"
            "Budget exhausted at the 1h burn rate: 2026-12-07T18:10:00Z\n"
            "Since: 2026-12-07 17:02:30 UTC\n"
            "Labels: alertname=SloBurnRate, region=eu-west-1, severity=page, slo=api\n"
            "Source: http://nines:9099/api/v1/slos/api\n"
            "\n"
            "Resolved (1):\n"
            "SloBurnRate - SLO api - us-east-1 - page\n"
            "SLO api in us-east-1 recovered\n"
            "Resolved: 2026-12-07 17:03:30 UTC\n"
            "Labels: alertname=SloBurnRate, region=us-east-1, severity=page, slo=api\n");
  std::string opsgenie = Render(set, "{{ template \"opsgenie.default.description\" . }}", d);
  EXPECT_NE(opsgenie.find("Budget left: 16.4 of 86.4 seconds"), std::string::npos) << opsgenie;
  EXPECT_NE(opsgenie.find("\nnines: http://nines:9099/api/v1/slos/api"), std::string::npos)
      << opsgenie;

  // All resolved, a ticket, no SLO: the group labels name it.
  d.status = "resolved";
  d.alerts.erase(d.alerts.begin());
  d.common_labels = {{"alertname", "NinesAgentDown"}, {"severity", "ticket"}};
  d.group_labels = {{"alertname", "NinesAgentDown"}, {"location", "fra"}};
  EXPECT_EQ(Render(set, "{{ template \"__subject\" . }}", d), "[RESOLVED] NinesAgentDown fra");
  EXPECT_EQ(Render(set, "{{ template \"slack.default.color\" . }}", d), "good");
  EXPECT_EQ(Render(set, "{{ template \"pagerduty.default.clientURL\" . }}", d),
            "http://nines:9099/api/v1/alerts");
}

TEST(TemplateSetTest, EmailHtmlEscapesValues) {
  TemplateSet set;
  TemplateData d = Data();
  d.alerts[0].annotations["summary"] = "<script>alert(1)</script> & 'x' + \"y\"";
  d.alerts[0].labels["region"] = "<b>eu</b>";
  auto html = set.ExecuteHtml("{{ template \"email.default.html\" . }}", d);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_EQ(html->find("<script>"), std::string::npos) << *html;
  EXPECT_EQ(html->find("<b>eu"), std::string::npos) << *html;
  EXPECT_NE(html->find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39; &#43; &#34;y&#34;"),
            std::string::npos)
      << *html;
  EXPECT_NE(html->find("region=&lt;b&gt;eu&lt;/b&gt;"), std::string::npos) << *html;
  EXPECT_NE(html->find("<tr><td style=\"padding-right:12px;color:#666666\">Budget left</td>"
                       "<td>16.4 of 86.4 seconds (ratio 0.189815)</td></tr>"),
            std::string::npos)
      << *html;
  EXPECT_EQ(html->substr(0, 15), "<!DOCTYPE html>");

  // safeHtml passes through; the same text unescaped by Execute.
  auto out = set.ExecuteHtml("{{ .Receiver }} {{ safeHtml \"<i>x</i>\" }} <p>", d);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  d.receiver = "a<b";
  out = set.ExecuteHtml("{{ .Receiver }}|{{ safeHtml \"<i>x</i>\" }}|<p>", d);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "a&lt;b|<i>x</i>|<p>");
  EXPECT_EQ(Render(set, "{{ .Receiver }}|{{ safeHtml \"<i>x</i>\" }}", d), "a<b|<i>x</i>");
}

TEST(TemplateSetTest, HtmlUrlAttributesAreFilteredAndNormalized) {
  TemplateSet set;
  struct HtmlCase {
    const char* receiver;
    const char* text;
    const char* want;
  };
  const std::vector<HtmlCase> cases = {
      {"javascript:alert(1)", "<a href=\"{{ .Receiver }}\">", "<a href=\"#ZgotmplZ\">"},
      {"JavaScript:alert(1)", "<img alt=\"x\" src='{{ .Receiver }}'>",
       "<img alt=\"x\" src='#ZgotmplZ'>"},
      {"data:text/html,x", "<a class=b href={{ .Receiver }}>", "<a class=b href=#ZgotmplZ>"},
      {"mailto:a@b.org", "<a href=\"{{ .Receiver }}\">", "<a href=\"mailto:a@b.org\">"},
      {"http://a/b c?q=<x>&y='z'+1", "<a href=\"{{ .Receiver }}\">",
       "<a href=\"http://a/b%20c?q=%3cx%3e&amp;y=%27z%27&#43;1\">"},
      {"javascript:1", "<a href=\"/x/{{ .Receiver }}\">", "<a href=\"/x/javascript:1\">"},
      {"100%", "<a href=\"/{{ .Receiver }}%41\">", "<a href=\"/100%25%41\">"},
      {"javascript:1", "<p title=\"{{ .Receiver }}\">{{ .Receiver }}</p>",
       "<p title=\"javascript:1\">javascript:1</p>"},
      {"javascript:1",
       "{{ define \"u\" }}{{ .Receiver }}{{ end }}<a href=\"{{ template \"u\" . }}\">"
       "{{ template \"u\" . }}</a>",
       "<a href=\"#ZgotmplZ\">javascript:1</a>"},
      {"a\"b", "<a data-url=\"{{ .Receiver }}\" title=\"{{ .Receiver }}\">",
       "<a data-url=\"a%22b\" title=\"a&#34;b\">"},
  };
  for (const HtmlCase& c : cases) {
    SCOPED_TRACE(c.text);
    TemplateData d = Data();
    d.receiver = c.receiver;
    auto out = set.ExecuteHtml(c.text, d);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, c.want);
  }
}

TEST(TemplateSetTest, FilesAddAndReplaceDefinitions) {
  TemplateSet set;
  ASSERT_TRUE(
      set.AddFile(
             "ignored top-level text\n"
             "{{ define \"slack.default.title\" }}custom {{ .Status }}{{ end }}\n"
             "{{ define \"slack.default.color\" }}{{ end }}\n"
             "{{ define \"team.text\" }}{{ template \"team.inner\" .CommonLabels }}{{ end }}\n",
             "team.tmpl")
          .ok());
  ASSERT_TRUE(set.AddFile("{{ define \"team.inner\" }}slo={{ .slo }}{{ end }}", "inner.tmpl").ok());
  TemplateData d = Data();
  EXPECT_EQ(Render(set, "{{ template \"slack.default.title\" . }}", d), "custom firing");
  // An empty definition does not replace the built-in one (Go's rule).
  EXPECT_EQ(Render(set, "{{ template \"slack.default.color\" . }}", d), "danger");
  EXPECT_EQ(Render(set, "{{ template \"team.text\" . }}", d), "slo=api");
  // The field's own define wins over the set's.
  EXPECT_EQ(
      Render(set, "{{ define \"team.inner\" }}mine{{ end }}{{ template \"team.text\" . }}", d),
      "mine");
  // ... unless it is empty and the set's is not (Go's rule).
  EXPECT_EQ(Render(set, "{{ define \"team.inner\" }} {{ end }}{{ template \"team.text\" . }}", d),
            "slo=api");
  // A later file replaces an earlier one.
  ASSERT_TRUE(set.AddFile("{{ define \"team.inner\" }}v2{{ end }}", "v2.tmpl").ok());
  EXPECT_EQ(Render(set, "{{ template \"team.text\" . }}", d), "v2");
  // A copy keeps what it had.
  TemplateSet copy = set;
  ASSERT_TRUE(set.AddFile("{{ define \"team.inner\" }}v3{{ end }}", "v3.tmpl").ok());
  EXPECT_EQ(Render(copy, "{{ template \"team.text\" . }}", d), "v2");
  EXPECT_EQ(Render(set, "{{ template \"team.text\" . }}", d), "v3");
}

TEST(TemplateSetTest, FileErrorsNameTheFileAndLeaveTheSetUnchanged) {
  TemplateSet set;
  core::Status s =
      set.AddFile("{{ define \"a\" }}x{{ end }}\n{{ define \"b\" }}{{ .Status }", "t.tmpl");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "t.tmpl:2:28: unexpected \"}\" in action") << s.message();
  EXPECT_FALSE(set.Defined("a"));
  s = set.AddFile("{{ define \"a\" }}{{ break }}{{ end }}", "t.tmpl");
  EXPECT_EQ(s.message(), "t.tmpl:1:20: {{break}} is not supported by nines");
  s = set.AddFile("{{ define \"a\" }}{{ tz \"UTC\" .StartsAt }}{{ end }}", "t.tmpl");
  EXPECT_EQ(s.message(), "t.tmpl:1:20: function \"tz\" is not supported by nines");

  // An execution error inside a file's template names the file.
  ASSERT_TRUE(set.AddFile("\n{{ define \"bad\" }}{{ .Nope }}{{ end }}", "bad.tmpl").ok());
  auto out = set.Execute("{{ template \"bad\" . }}", Data());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "bad.tmpl:2:22: executing <.Nope>: can't evaluate field Nope in type template.Data");
}

TEST(TemplateSetTest, CheckFindsUndefinedTemplates) {
  TemplateSet set;
  ASSERT_TRUE(
      set.AddFile("{{ define \"a\" }}{{ template \"missing\" . }}{{ end }}", "a.tmpl").ok());
  EXPECT_TRUE(set.Check("{{ template \"slack.default.title\" . }}").ok());
  EXPECT_TRUE(set.Check("{{ define \"own\" }}x{{ end }}{{ template \"own\" }}").ok());
  core::Status s = set.Check("x\n  {{ template \"nope\" . }}");
  EXPECT_EQ(s.message(), "2:6: template \"nope\" not defined");
  s = set.Check("{{ if . }}{{ template \"a\" . }}{{ end }}");
  EXPECT_EQ(s.message(), "1:14: template \"a\" calls template \"missing\", which is not defined");
  // Recursion is not an error for Check.
  EXPECT_TRUE(
      set.Check("{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}").ok());
}

std::string ReadInstalled(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path << " is missing: install prometheus-alertmanager "
                         << "(scripts/install-deps.sh)";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Alertmanager's own default.tmpl and email.tmpl, as Debian's prometheus-alertmanager (0.25)
// installs them (read from the package, not copied): they load as template files and print what
// Alertmanager prints.
TEST(TemplateSetTest, AlertmanagersOwnTemplatesLoadAndRenderAsAlertmanagerDoes) {
  const std::string dir = "/usr/share/prometheus/alertmanager/";
  TemplateSet set;
  for (const char* name : {"default.tmpl", "email.tmpl"}) {
    core::Status s = set.AddFile(ReadInstalled(dir + name), dir + name);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  TemplateData d = Data();
  EXPECT_EQ(Render(set, "{{ template \"__subject\" . }}", d), "[FIRING:1] SloBurnRate api (page)");
  EXPECT_EQ(Render(set, "{{ template \"__alertmanagerURL\" . }}", d),
            "http://nines:9099/#/alerts?receiver=team+pager");
  EXPECT_EQ(Render(set, "{{ template \"slack.default.color\" . }}", d), "danger");
  EXPECT_EQ(Render(set, "{{ template \"slack.default.username\" . }}", d), "Alertmanager");
  EXPECT_EQ(Render(set, "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}", d),
            "Labels:\n"
            " - alertname = SloBurnRate\n"
            " - region = us-east-1\n"
            " - severity = page\n"
            " - slo = api\n"
            "Annotations:\n"
            " - summary = SLO api in us-east-1 recovered\n"
            "Source: \n");
  EXPECT_EQ(Render(set, "{{ template \"opsgenie.default.description\" . }}", d).substr(0, 41),
            "0.999\nAlerts Firing:\nLabels:\n - alertname");

  d.alerts[0].labels["region"] = "<eu>";
  auto html = set.ExecuteHtml("{{ template \"email.default.html\" . }}", d);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_NE(html->find("<title>[FIRING:1] SloBurnRate api (page)</title>"), std::string::npos);
  // In the href, '+' escaped as html/template escapes attribute values.
  EXPECT_NE(html->find("<a href=\"http://nines:9099/#/alerts?receiver=team&#43;pager\""),
            std::string::npos);
  EXPECT_NE(html->find("region = &lt;eu&gt;<br"), std::string::npos);
  EXPECT_EQ(html->find("<eu>"), std::string::npos);
}

TEST(TemplateSetTest, TemplatedFieldsAreAlertmanagers) {
  using K = IntegrationKind;
  struct FieldCase {
    K kind;
    const char* path;
    bool templated;
  };
  const std::vector<FieldCase> cases = {
      {K::kSlack, "title", true},
      {K::kSlack, "text", true},
      {K::kSlack, "fields.0.value", true},
      {K::kSlack, "fields.12.title", true},
      {K::kSlack, "fields.0.short", false},
      {K::kSlack, "actions.1.url", true},
      {K::kSlack, "actions.0.confirm.ok_text", true},
      {K::kSlack, "api_url", false},
      {K::kSlack, "send_resolved", false},
      {K::kSlack, "mrkdwn_in.0", false},
      {K::kSlack, "fields.x.value", false},
      {K::kPagerDuty, "description", true},
      {K::kPagerDuty, "details.firing", true},
      {K::kPagerDuty, "links.0.href", true},
      {K::kPagerDuty, "images.0.src", true},
      {K::kPagerDuty, "routing_key", true},
      {K::kPagerDuty, "url", false},
      {K::kOpsgenie, "message", true},
      {K::kOpsgenie, "details.team", true},
      {K::kOpsgenie, "tags", true},
      {K::kOpsgenie, "responders.0.name", true},
      {K::kOpsgenie, "api_url", false},
      {K::kOpsgenie, "update_alerts", false},
      {K::kEmail, "headers.Subject", true},
      {K::kEmail, "html", true},
      {K::kEmail, "to", true},
      {K::kEmail, "smarthost", false},
      {K::kEmail, "auth_password", false},
      {K::kWebhook, "url", true},
      {K::kWebhook, "payload.text", true},
      {K::kWebhook, "max_alerts", false},
  };
  for (const FieldCase& c : cases)
    EXPECT_EQ(IsTemplatedField(c.kind, c.path), c.templated)
        << IntegrationKindName(c.kind) << " " << c.path;
}

}  // namespace
}  // namespace nines::alerting
