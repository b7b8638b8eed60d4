// {{define}}, {{template}} and {{block}} (alerting/template.h), with Go's semantics; the html,
// urlquery, date and humanizeDuration functions and time.Time's methods.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alerting/template.h"

namespace nines::alerting {
namespace {

using core::StatusCode;

TemplateData Data() {
  TemplateData d;
  d.receiver = "team pager";
  d.status = "firing";
  d.common_labels = {{"alertname", "SloBurnRate"}, {"slo", "api"}};
  TemplateAlert a;
  a.status = "firing";
  a.labels = {{"alertname", "SloBurnRate"}, {"region", "eu-west-1"}};
  d.alerts.push_back(a);
  a.labels["region"] = "us-east-1";
  d.alerts.push_back(a);
  return d;
}

struct Case {
  const char* name;
  const char* text;
  const char* want;  // the output, or the whole error message
};

TEST(TemplateNamedTest, DefineTemplateAndBlockRunAsInGo) {
  const std::vector<Case> cases = {
      {"define is not output, template runs it",
       "a{{ define \"t\" }}x{{ end }}b{{ template \"t\" }}", "abx"},
      {"pipeline is dot", "{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" .Status }}",
       "[firing]"},
      {"no pipeline: no value", "{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" }}",
       "[<no value>]"},
      {"a map as dot", "{{ define \"t\" }}{{ .slo }}{{ end }}{{ template \"t\" .CommonLabels }}",
       "api"},
      {"$ is the template's dot", "{{ define \"t\" }}{{ $ }}{{ end }}{{ template \"t\" \"x\" }}",
       "x"},
      {"in a range",
       "{{ define \"r\" }}{{ .Labels.region }};{{ end }}"
       "{{ range .Alerts }}{{ template \"r\" . }}{{ end }}",
       "eu-west-1;us-east-1;"},
      {"a template calls another, defined later",
       "{{ define \"a\" }}<{{ template \"b\" . }}>{{ end }}{{ define \"b\" }}{{ .Receiver }}{{ end "
       "}}{{ template \"a\" . }}",
       "<team pager>"},
      {"pipeline with a function",
       "{{ define \"t\" }}{{ . }}{{ end }}{{ template \"t\" len .Alerts }}", "2"},
      {"block defines and runs",
       "{{ block \"b\" .Status }}<{{ . }}>{{ end }}|{{ template \"b\" 1 }}", "<firing>|<1>"},
      {"block inside if", "{{ if true }}{{ block \"b\" . }}{{ .Status }}{{ end }}{{ end }}",
       "firing"},
      {"an empty define does not replace",
       "{{ define \"e\" }}z{{ end }}{{ define \"e\" }} {{ end }}"
       "{{ template \"e\" }}",
       "z"},
      {"an empty define is replaced",
       "{{ define \"e\" }}{{ end }}{{ define \"e\" }}z{{ end }}"
       "{{ template \"e\" }}",
       "z"},
      {"trim markers around define", "a\n{{- define \"t\" -}}\n x \n{{- end -}}\nb", "ab"},
      {"urlquery",
       "{{ urlquery \"a b&c=d/\\xc3\\xa9~\" }}|{{ .Receiver | urlquery }}|{{ urlquery 1 2 }}",
       "a+b%26c%3Dd%2F%C3%A9~|team+pager|1+2"},
      {"html", "{{ html \"<a href='x'>&\\\"+\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;&#34;+"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    auto out = t->Execute(Data());
    ASSERT_TRUE(out.ok()) << c.text << ": " << out.status().ToString();
    EXPECT_EQ(*out, c.want) << c.text;
  }
}

TEST(TemplateNamedTest, TimesFormatWithGoLayouts) {
  TemplateData d = Data();
  d.alerts[0].starts_at = core::Timestamp::FromUnixSeconds(1796662950);  // Mon 2026-12-07 17:02:30
  d.alerts[1].starts_at = core::Timestamp::FromUnixNanos(1796662950'500000000);
  d.alerts[1].ends_at = core::Timestamp::FromUnixSeconds(1796718630);  // 2026-12-08 08:30:30
  const std::vector<Case> cases = {
      {"RFC 3339", "{{ (index .Alerts 0).StartsAt.Format \"2006-01-02T15:04:05Z07:00\" }}",
       "2026-12-07T17:02:30Z"},
      {"UnixDate", "{{ (index .Alerts 0).StartsAt.Format \"Mon Jan _2 15:04:05 MST 2006\" }}",
       "Mon Dec  7 17:02:30 UTC 2026"},
      {"words and 12-hour clock",
       "{{ (index .Alerts 0).StartsAt.Format \"Monday, January 2, 2006 3:04 PM\" }}",
       "Monday, December 7, 2026 5:02 PM"},
      {"zero padding, pm, numeric zones",
       "{{ (index .Alerts 1).StartsAt.Format \"02/01/06 03:04:05.000 pm -0700 -07:00 -07\" }}",
       "07/12/26 05:02:30.500 pm +0000 +00:00 +00"},
      {"fractions", "{{ (index .Alerts 1).StartsAt.Format \"05.999 05,999 .000000 .9\" }}",
       "30.5 30,5 .500000 .5"},
      {"no fraction when zero", "{{ (index .Alerts 0).StartsAt.Format \"15:04:05.999\" }}",
       "17:02:30"},
      {"year day, single digits, literal words",
       "{{ (index .Alerts 1).EndsAt.Format \"002 __2 1/2 3:4:5 Janet Monk\" }}",
       "342 342 12/8 8:30:30 Janet Monk"},
      {"String layout equals printing",
       "{{ $t := (index .Alerts 1).StartsAt }}"
       "{{ if eq ($t.Format \"2006-01-02 15:04:05.999999999 -0700 MST\") (printf \"%v\" $t) }}"
       "same{{ end }}",
       "same"},
      {"Unix, UnixMilli, UTC",
       "{{ with index .Alerts 1 }}{{ .StartsAt.Unix }} "
       "{{ .StartsAt.UnixMilli }} {{ .StartsAt.UTC.Format \"15:04\" }}{{ end }}",
       "1796662950 1796662950500 17:02"},
      {"IsZero", "{{ (index .Alerts 0).EndsAt.IsZero }} {{ (index .Alerts 1).EndsAt.IsZero }}",
       "true false"},
      {"date", "{{ date \"15:04 MST\" (index .Alerts 0).StartsAt }}", "17:02 UTC"},
      {"the zero time is Go's",
       "{{ with (index .Alerts 0).EndsAt }}{{ . }}|{{ .Unix }}|"
       "{{ .Format \"Mon 2006-01-02\" }}{{ end }}",
       "0001-01-01 00:00:00 +0000 UTC|-62135596800|Mon 0001-01-01"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    auto out = t->Execute(d);
    ASSERT_TRUE(out.ok()) << c.text << ": " << out.status().ToString();
    EXPECT_EQ(*out, c.want) << c.text;
  }
  const std::vector<Case> errors = {
      {"layout not a string", "{{ (index .Alerts 0).StartsAt.Format 1 }}",
       "1:4: executing <(index .Alerts 0).StartsAt.Format>: wrong type for value; expected "
       "string; got int"},
      {"unknown method", "{{ (index .Alerts 0).StartsAt.Hour }}",
       "1:4: executing <(index .Alerts 0).StartsAt.Hour>: can't evaluate field Hour in type "
       "time.Time"},
      {"date of a string", "{{ date \"15:04\" .Status }}",
       "1:4: executing <date>: wrong type for value; expected time.Time; got string"},
  };
  for (const Case& c : errors) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    auto out = t->Execute(d);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().message(), c.want);
  }
}

TEST(TemplateNamedTest, HumanizeDurationIsPrometheuss) {
  TemplateData d = Data();
  d.common_labels["took"] = "60.5";
  const std::vector<Case> cases = {
      {"whole units",
       "{{ humanizeDuration 0 }}|{{ humanizeDuration 1 }}|{{ humanizeDuration 60 }}|"
       "{{ humanizeDuration 3600 }}|{{ humanizeDuration 90000 }}",
       "0s|1s|1m 0s|1h 0m 0s|1d 1h 0m 0s"},
      {"negative", "{{ humanizeDuration -183845 }}", "-2d 3h 4m 5s"},
      {"fractions",
       "{{ humanizeDuration 899.99 }}|{{ humanizeDuration 1.2345 }}|"
       "{{ humanizeDuration 12.345 }}",
       "14m 59s|1.234s|12.35s"},
      {"below a second",
       "{{ humanizeDuration .1 }}|{{ humanizeDuration .0001 }}|"
       "{{ humanizeDuration .12345 }}",
       "100ms|100us|123.5ms"},
      {"a string", "{{ .CommonLabels.took | humanizeDuration }}", "1m 0s"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    auto out = t->Execute(d);
    ASSERT_TRUE(out.ok()) << c.text << ": " << out.status().ToString();
    EXPECT_EQ(*out, c.want) << c.text;
  }
  auto t = Template::Parse("{{ humanizeDuration .Status }}");
  ASSERT_TRUE(t.ok());
  auto out = t->Execute(d);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "1:4: executing <humanizeDuration>: error calling humanizeDuration: "
            "strconv.ParseFloat: parsing \"firing\": invalid syntax");
}

TEST(TemplateNamedTest, ParseErrorsSayWhere) {
  const std::vector<Case> cases = {
      {"define nested", "{{if true}}{{define \"x\"}}a{{end}}{{end}}",
       "1:14: {{define}} is allowed only at the top level, outside other actions"},
      {"define without a name", "{{define x}}a{{end}}",
       "1:10: unexpected \"x\" in define clause; expected a template name (string)"},
      {"define without end", "{{define \"x\"}}a", "1:3: unexpected EOF: {{define}} has no {{end}}"},
      {"else in define", "{{define \"x\"}}a{{else}}b{{end}}",
       "1:18: unexpected {{else}} in define clause"},
      {"template of a non-string", "{{template .Status}}",
       "1:12: unexpected \".Status\" in template clause; expected a template name (string)"},
      {"block without a pipeline", "{{block \"b\"}}x{{end}}",
       "1:12: missing value for block clause"},
      {"outer variables are not visible", "{{$v := 1}}{{define \"x\"}}{{$v}}{{end}}",
       "1:28: undefined variable \"$v\""},
      {"defined twice", "{{define \"a\"}}1{{end}}{{define \"a\"}}2{{end}}",
       "1:25: template: multiple definition of template \"a\""},
      {"block then define", "{{block \"a\" .}}1{{end}}{{define \"a\"}}2{{end}}",
       "1:26: template: multiple definition of template \"a\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(t.status().message(), c.want);
  }
}

TEST(TemplateNamedTest, ExecutionErrorsAndRecursionAreBounded) {
  auto t = Template::Parse("ok {{template \"nope\" .}}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();  // as in Go, found when executed
  auto out = t->Execute(Data());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "1:6: executing <template \"nope\">: template \"nope\" not defined");

  t = Template::Parse("{{define \"r\"}}x{{template \"r\" .}}{{end}}{{template \"r\" .}}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  out = t->Execute(Data());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out.status().message().find("exceeded maximum template depth"), std::string::npos)
      << out.status().message();

  // Fan-out (each level calls the next twice) hits the step budget instead.
  std::string text;
  for (int i = 0; i < 30; ++i)
    text += "{{define \"t" + std::to_string(i) + "\"}}{{template \"t" + std::to_string(i + 1) +
            "\"}}{{template \"t" + std::to_string(i + 1) + "\"}}{{end}}";
  text += "{{define \"t30\"}}x{{end}}{{template \"t0\"}}";
  TemplateOptions small;
  small.max_steps = 10'000;
  t = Template::Parse(text, small);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  out = t->Execute(Data());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();
}

}  // namespace
}  // namespace nines::alerting
