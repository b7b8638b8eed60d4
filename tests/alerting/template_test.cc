#include "alerting/template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nines::alerting {
namespace {

using core::StatusCode;
using core::Timestamp;

// Two firing alerts and one resolved, in group {alertname="SLOBurn"}.
TemplateData Data() {
  TemplateData d;
  d.receiver = "pager";
  d.status = "firing";
  d.external_url = "http://nines:9090";
  d.group_labels = {{"alertname", "SLOBurn"}};
  d.common_labels = {{"alertname", "SLOBurn"}, {"slo", "api"}, {"severity", "page"}};
  d.common_annotations = {{"runbook", "http://wiki/slo"}};
  TemplateAlert a;
  a.status = "firing";
  a.labels = {
      {"alertname", "SLOBurn"}, {"slo", "api"}, {"severity", "page"}, {"region", "eu-west-1"}};
  a.annotations = {{"summary", "api burns 14.4x in eu-west-1"}};
  a.starts_at = Timestamp::FromUnixSeconds(1765126950);  // 2025-12-07 17:02:30 UTC
  a.generator_url = "http://nines:9090/slo/api";
  a.fingerprint = "1b9e3c6a2f0d4e57";
  d.alerts.push_back(a);
  a.labels["region"] = "us-east-1";
  a.annotations["summary"] = "api burns 6x in us-east-1";
  a.starts_at = Timestamp::FromUnixNanos(1765126950'500000000);
  a.fingerprint = "00000000000000aa";
  d.alerts.push_back(a);
  a.status = "resolved";
  a.labels["region"] = "ap-south-1";
  a.annotations["summary"] = "api recovered in ap-south-1";
  a.ends_at = Timestamp::FromUnixSeconds(1765127010);
  a.fingerprint = "00000000000000bb";
  d.alerts.push_back(a);
  return d;
}

struct Case {
  const char* name;
  const char* text;
  const char* want;
};

void RunCases(const std::vector<Case>& cases, const TemplateData& data) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    auto out = t->Execute(data);
    ASSERT_TRUE(out.ok()) << c.text << ": " << out.status().ToString();
    EXPECT_EQ(*out, c.want) << c.text;
  }
}

TEST(TemplateTest, RendersTextActionsAndTrimMarkers) {
  RunCases(
      {
          {"plain text", "no actions here", "no actions here"},
          {"field", "{{ .Status }}", "firing"},
          {"field no spaces", "{{.Receiver}}", "pager"},
          {"chain", "{{ .CommonLabels.slo }}", "api"},
          {"missing label is empty", "[{{ .CommonLabels.nope }}]", "[]"},
          {"trim left", "a  \n {{- .Status }}", "afiring"},
          {"trim right", "{{ .Status -}}  \n b", "firingb"},
          {"trim both", "x {{- .Status -}} y", "xfiringy"},
          {"comment", "a{{/* ignored */}}b", "ab"},
          {"trimmed comment", "a {{- /* ignored */ -}} b", "ab"},
          {"multi-line comment", "a{{/* one\ntwo */}}b", "ab"},
          {"negative number is not a trim", "{{-3}}", "-3"},
          {"dollar is the root", "{{ range .Alerts }}{{ $.Receiver }}{{ end }}", "pagerpagerpager"},
          {"string literal", "{{ \"a\\tb\\\"c\" }}", "a\tb\"c"},
          {"raw string literal", "{{ `a\\n` }}", "a\\n"},
          {"int literal", "{{ 42 }}", "42"},
          {"float literal", "{{ 1.5 }}", "1.5"},
          {"float prints like Go", "{{ 1000000.0 }} {{ 100000.0 }} {{ 0.00001 }}",
           "1e+06 100000 1e-05"},
          {"nil argument", "{{ printf \"%v\" nil }}", "<nil>"},
          {"bool literal", "{{ true }} {{ false }}", "true false"},
          {"KV prints as Alertmanager's String()", "{{ .CommonLabels }}",
           "alertname=SLOBurn, severity=page, slo=api"},
          {"time prints as Go's time.Time",
           "{{ (index .Alerts 0).StartsAt }}|{{ (index .Alerts 1).StartsAt }}",
           "2025-12-07 17:02:30 +0000 UTC|2025-12-07 17:02:30.5 +0000 UTC"},
          {"zero time", "{{ (index .Alerts 0).EndsAt }}", "0001-01-01 00:00:00 +0000 UTC"},
          {"alert fields",
           "{{ with index .Alerts 0 }}{{ .GeneratorURL }} {{ .Fingerprint }} {{ .Status }}{{ end "
           "}}",
           "http://nines:9090/slo/api 1b9e3c6a2f0d4e57 firing"},
          {"external url", "{{ .ExternalURL }}/#/alerts", "http://nines:9090/#/alerts"},
      },
      Data());
}

TEST(TemplateTest, ControlStructuresFollowGosTruthiness) {
  RunCases(
      {
          {"if true", "{{ if .Status }}yes{{ end }}", "yes"},
          {"if empty string", "{{ if .CommonLabels.nope }}yes{{ else }}no{{ end }}", "no"},
          {"else if",
           "{{ if eq .Status \"resolved\" }}R{{ else if eq .Status \"firing\" }}F{{ else }}?{{ end "
           "}}",
           "F"},
          {"else if falls to else", "{{ if false }}a{{ else if 0 }}b{{ else }}c{{ end }}", "c"},
          {"zero is false", "{{ if 0 }}a{{ else }}b{{ end }}{{ if 0.0 }}a{{ else }}b{{ end }}",
           "bb"},
          {"empty list is false",
           "{{ if .Alerts }}a{{ end }}{{ if stringSlice }}b{{ else }}c{{ end }}", "ac"},
          {"empty map is false",
           "{{ if .CommonLabels.Remove .CommonLabels.Names }}a{{ else }}b{{ end }}", "b"},
          {"range list", "{{ range .Alerts }}{{ .Labels.region }};{{ end }}",
           "eu-west-1;us-east-1;ap-south-1;"},
          {"range index and value",
           "{{ range $i, $a := .Alerts }}{{ $i }}={{ $a.Status }} {{ end }}",
           "0=firing 1=firing 2=resolved "},
          {"range one variable",
           "{{ range $a := .Alerts.Resolved }}{{ $a.Labels.region }}{{ end }}", "ap-south-1"},
          {"range map sorted by key",
           "{{ range $k, $v := .CommonLabels }}{{ $k }}:{{ $v }} {{ end }}",
           "alertname:SLOBurn severity:page slo:api "},
          {"range map values", "{{ range .GroupLabels }}{{ . }}{{ end }}", "SLOBurn"},
          {"range else", "{{ range stringSlice }}x{{ else }}none{{ end }}", "none"},
          {"range strings", "{{ range stringSlice \"a\" \"b\" }}<{{ . }}>{{ end }}", "<a><b>"},
          {"with", "{{ with .CommonAnnotations.runbook }}see {{ . }}{{ end }}",
           "see http://wiki/slo"},
          {"with else", "{{ with .CommonAnnotations.nope }}see {{ . }}{{ else }}none{{ end }}",
           "none"},
          {"variable", "{{ $s := .Status }}{{ $s }}/{{ $s | toUpper }}", "firing/FIRING"},
          {"variable assign", "{{ $n := 0 }}{{ range .Alerts }}{{ $n = .Status }}{{ end }}{{ $n }}",
           "resolved"},
          {"variable in if pipeline", "{{ if $r := .CommonLabels.slo }}{{ $r }}{{ end }}", "api"},
          {"variable chain", "{{ $a := index .Alerts 1 }}{{ $a.Labels.region }}", "us-east-1"},
          {"if variable reaches else",
           "{{ if $x := .CommonLabels.nope }}a{{ else }}[{{ $x }}]{{ end }}", "[]"},
          {"positions after newlines", "{{ if true }}\n  {{ $y := 2 }}{{ $y }}\n{{ end }}",
           "\n  2\n"},
          {"with declares", "{{ with $x := .Receiver }}{{ $x }}{{ end }}", "pager"},
      },
      Data());
}

TEST(TemplateTest, FunctionsBehaveAsGosAndAlertmanagers) {
  RunCases(
      {
          {"eq", "{{ eq .Status \"firing\" }} {{ eq 1 2 }}", "true false"},
          {"eq any of", "{{ eq .Status \"resolved\" \"firing\" }}", "true"},
          {"ne lt le gt ge ints", "{{ ne 1 2 }}{{ lt 1 2 }}{{ le 2 2 }}{{ gt 1 2 }}{{ ge 3 2 }}",
           "truetruetruefalsetrue"},
          {"lt strings", "{{ lt \"a\" \"b\" }}", "true"},
          {"and returns first false", "{{ and 1 0 2 }} {{ and 1 2 }}", "0 2"},
          {"or returns first true", "{{ or \"\" \"x\" }} {{ or 0 \"\" }}", "x "},
          {"and short-circuits", "{{ and false (index .Alerts 9) }}", "false"},
          {"not", "{{ not .Alerts }} {{ not \"\" }}", "false true"},
          {"len",
           "{{ len .Alerts }} {{ len .Alerts.Firing }} {{ len .CommonLabels }} {{ len \"abc\" }}",
           "3 2 3 3"},
          {"index map", "{{ index .CommonLabels \"slo\" }}[{{ index .CommonLabels \"nope\" }}]",
           "api[]"},
          {"index list then field", "{{ (index .Alerts 2).Labels.region }}", "ap-south-1"},
          {"index nested", "{{ index (index .Alerts 0).Labels \"region\" }}", "eu-west-1"},
          {"printf s d", "{{ printf \"%s has %d\" .Receiver (len .Alerts) }}", "pager has 3"},
          {"printf v q", "{{ printf \"%v %q\" .CommonLabels.Names .Status }}",
           "[alertname severity slo] \"firing\""},
          {"printf float", "{{ printf \"%.2f|%f|%e|%g\" 3.14159 1.5 1234.5 0.25 }}",
           "3.14|1.500000|1.234500e+03|0.25"},
          {"printf width and flags",
           "{{ printf \"[%5s][%-5s][%05d][%+d][%x][%%]\" \"ab\" \"ab\" 42 3 255 }}",
           "[   ab][ab   ][00042][+3][ff][%]"},
          {"printf wrong verb like Go", "{{ printf \"%d %f\" \"x\" 3 }}",
           "%!d(string=x) %!f(int=3)"},
          {"printf missing and extra",
           "{{ printf \"%s %s\" \"a\" }}|{{ printf \"%s\" \"a\" \"b\" }}",
           "a %!s(MISSING)|a%!(EXTRA string=b)"},
          {"printf KV and list", "{{ printf \"%s / %v\" .GroupLabels .GroupLabels.Values }}",
           "alertname=SLOBurn / [SLOBurn]"},
          {"print", "{{ print 1 2 \"a\" \"b\" 3 }}", "1 2ab3"},
          {"pipeline", "{{ .Status | toUpper }}", "FIRING"},
          {"pipeline appends last arg",
           "{{ \"firing\" | eq .Status }} {{ 2 | printf \"%d-%d\" 1 }}", "true 1-2"},
          {"long pipeline", "{{ .CommonLabels.slo | toUpper | printf \"[%s]\" | toLower }}",
           "[api]"},
          {"toUpper toLower", "{{ toUpper \"aBc\" }}{{ toLower \"AbC\" }}", "ABCabc"},
          {"title", "{{ title \"hello wORLD-foo bar_baz it's\" }}", "Hello World-Foo Bar_baz It's"},
          {"trimSpace", "[{{ trimSpace \"  a b \\n\" }}]", "[a b]"},
          {"join", "{{ join \", \" .CommonLabels.Values }}", "SLOBurn, page, api"},
          {"join piped", "{{ .CommonLabels.Names | join \"+\" }}", "alertname+severity+slo"},
          {"Strings.Join", "{{ .GroupLabels.Values.Join \":\" }}", "SLOBurn"},
          {"safeHtml", "{{ safeHtml \"<b>x</b>\" }}", "<b>x</b>"},
          {"stringSlice", "{{ stringSlice \"a\" \"b\" }}", "[a b]"},
          {"match", "{{ match \"^eu-\" (index .Alerts 0).Labels.region }}", "true"},
          {"reReplaceAll", "{{ reReplaceAll \"-(\\\\d)$\" \"_$1\" \"eu-west-1\" }}", "eu-west_1"},
          {"reReplaceAll braces and names",
           "{{ reReplaceAll \"(?P<k>[a-z]+)=(\\\\w+)\" \"${2}:${k}\" \"a=1 b=2\" }}", "1:a 2:b"},
          {"reReplaceAll empty matches", "{{ reReplaceAll \"x*\" \"-\" \"abxd\" }}", "-a-b-d-"},
          {"reReplaceAll anchored once", "{{ reReplaceAll \"^foo\" \"X\" \"foofoo\" }}", "Xfoo"},
          {"reReplaceAll $$", "{{ reReplaceAll \"a\" \"$$\" \"bab\" }}", "b$b"},
      },
      Data());
}

TEST(TemplateTest, KvMethodsAreAlertmanagers) {
  RunCases(
      {
          {"SortedPairs puts alertname first",
           "{{ range (index .Alerts 0).Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}",
           "alertname=SLOBurn region=eu-west-1 severity=page slo=api "},
          {"Names", "{{ .CommonLabels.Names }}", "[alertname severity slo]"},
          {"Values", "{{ .CommonLabels.Values }}", "[SLOBurn page api]"},
          {"Pairs print", "{{ .CommonLabels.SortedPairs }}",
           "alertname=SLOBurn, severity=page, slo=api"},
          {"Pairs Names", "{{ .CommonLabels.SortedPairs.Names }}", "[alertname severity slo]"},
          {"Remove GroupLabels' names", "{{ .CommonLabels.Remove .GroupLabels.Names }}",
           "severity=page, slo=api"},
          {"Remove stringSlice",
           "{{ (.CommonLabels.Remove (stringSlice \"slo\" \"severity\")).Names }}", "[alertname]"},
          {"Remove piped", "{{ stringSlice \"slo\" | .CommonLabels.Remove }}",
           "alertname=SLOBurn, severity=page"},
          {"method wins over a label of that name", "{{ len .CommonLabels.Names }}", "3"},
          {"Firing and Resolved", "{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }}", "2/1"},
      },
      Data());
}

// Snippets as Alertmanager's documentation and the Prometheus community write them.
TEST(TemplateTest, RendersCommonSlackAndEmailSnippets) {
  RunCases(
      {
          {"slack title",
           "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ "
           "end }}] "
           "{{ .CommonLabels.alertname }}",
           "[FIRING:2] SLOBurn"},
          {"slack text summaries",
           "{{ range .Alerts }}*Alert:* {{ .Annotations.summary }}\n{{ end }}",
           "*Alert:* api burns 14.4x in eu-west-1\n*Alert:* api burns 6x in us-east-1\n"
           "*Alert:* api recovered in ap-south-1\n"},
          {"label pairs", "{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}",
           "alertname=SLOBurn severity=page slo=api "},
          {"docs' slack text with details",
           "{{ range .Alerts -}}\n*Alert:* {{ .Annotations.summary }}{{ if .Labels.severity }} - "
           "`{{ .Labels.severity }}`{{ end }}\n"
           "*Details:*\n{{ range .Labels.SortedPairs }} • *{{ .Name }}:* `{{ .Value }}`\n{{ end "
           "}}{{ end }}",
           "*Alert:* api burns 14.4x in eu-west-1 - `page`\n*Details:*\n • *alertname:* `SLOBurn`\n"
           " • *region:* `eu-west-1`\n • *severity:* `page`\n • *slo:* `api`\n"
           "*Alert:* api burns 6x in us-east-1 - `page`\n*Details:*\n • *alertname:* `SLOBurn`\n"
           " • *region:* `us-east-1`\n • *severity:* `page`\n • *slo:* `api`\n"
           "*Alert:* api recovered in ap-south-1 - `page`\n*Details:*\n • *alertname:* `SLOBurn`\n"
           " • *region:* `ap-south-1`\n • *severity:* `page`\n • *slo:* `api`\n"},
          {"email subject as Alertmanager's default",
           "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ "
           "end }}] "
           "{{ .GroupLabels.SortedPairs.Values | join \" \" }} {{ if gt (len .CommonLabels) (len "
           ".GroupLabels) }}"
           "({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join \" \" }}{{ end "
           "}}){{ end }}",
           "[FIRING:2] SLOBurn (page api)"},
          {"firing and resolved sections",
           "{{ if gt (len .Alerts.Firing) 0 }}Firing:\n{{ range .Alerts.Firing }}- {{ "
           ".Labels.region }}\n{{ end }}{{ end -}}\n"
           "{{ if gt (len .Alerts.Resolved) 0 }}Resolved:\n{{ range .Alerts.Resolved }}- {{ "
           ".Labels.region }}\n{{ end }}{{ end }}",
           "Firing:\n- eu-west-1\n- us-east-1\nResolved:\n- ap-south-1\n"},
          {"pagerduty description",
           "{{ .CommonLabels.alertname }} in {{ range $i, $a := .Alerts.Firing }}{{ if $i }}, {{ "
           "end }}{{ $a.Labels.region }}{{ end }}",
           "SLOBurn in eu-west-1, us-east-1"},
      },
      Data());
}

TEST(TemplateTest, ParseErrorsSayWhereAndWhatWasExpected) {
  struct ErrCase {
    const char* name;
    std::string text;
    const char* want;  // the whole message ("" for the nesting case)
  };
  const std::vector<ErrCase> cases = {
      {"unclosed action", "ab\n  {{ .Status ", "2:3: unclosed action: expected \"}}\""},
      {"unclosed comment", "{{/* x", "1:1: unclosed comment"},
      {"comment not closing", "{{/* x */ .A }}", "1:10: comment ends before closing delimiter"},
      {"if without end", "x{{ if .Status }}y", "1:5: unexpected EOF: {{if}} has no {{end}}"},
      {"stray end", "a\nb{{ end }}", "2:5: unexpected {{end}}"},
      {"stray else", "{{ else }}", "1:4: unexpected {{else}}"},
      {"empty action", "{{ }}", "1:4: unexpected \"}}\" in command; expected an operand"},
      {"if without value", "{{ if }}{{ end }}", "1:7: missing value for if"},
      {"unclosed paren", "{{ (len .Alerts }}",
       "1:17: unexpected \"}}\" in parenthesized pipeline; expected \")\""},
      {"stray paren", "{{ .Status ) }}", "1:12: unexpected \")\" in command; expected \"}}\""},
      {"undefined variable", "{{ $x }}", "1:4: undefined variable \"$x\""},
      {"variable out of scope", "{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}",
       "1:39: undefined variable \"$x\""},
      {"body variable not in else", "{{ if 1 }}{{ $x := 1 }}{{ else }}{{ $x }}{{ end }}",
       "1:37: undefined variable \"$x\""},
      {"assign undeclared", "{{ $x = 1 }}", "1:4: undefined variable \"$x\""},
      {"nil command", "{{ nil }}", "1:4: nil is not a command"},
      {"unknown function", "{{ frobnicate .Status }}", "1:4: function \"frobnicate\" not defined"},
      {"unterminated string", "{{ \"abc }}", "1:4: unterminated quoted string"},
      {"bad number", "{{ 12ab }}", "1:4: bad number syntax: \"12ab\""},
      {"bad character", "{{ .A ; }}", "1:7: unexpected \";\" in action"},
      {"field after literal", "{{ \"a\".B }}", "1:7: unexpected .B after \"a\""},
      {"else after else", "{{ if 1 }}a{{ else }}b{{ else }}c{{ end }}",
       "1:26: unexpected {{else}} after {{else}}"},
      {"deep nesting", "{{ " + std::string(200, '(') + "1" + std::string(200, ')') + " }}", ""},
  };
  for (const ErrCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    if (*c.want)
      EXPECT_EQ(t.status().message(), c.want);
    else
      EXPECT_NE(t.status().message().find("nested too deeply"), std::string::npos)
          << t.status().message();
  }
}

TEST(TemplateTest, UnsupportedFormsAreNamedNotIgnored) {
  struct ErrCase {
    const char* name;
    const char* text;
    const char* want;
  };
  const std::vector<ErrCase> cases = {
      {"break", "{{ range .Alerts }}{{ break }}{{ end }}",
       "1:23: {{break}} is not supported by nines"},
      {"continue", "{{ range .Alerts }}{{ continue }}{{ end }}",
       "1:23: {{continue}} is not supported by nines"},
      {"alertmanager's tz", "{{ .Status | tz \"UTC\" }}",
       "1:14: function \"tz\" is not supported by nines"},
      {"alertmanager's toJson", "{{ toJson .Alerts }}",
       "1:4: function \"toJson\" is not supported by nines"},
      {"go's js", "{{ js .Status }}", "1:4: function \"js\" is not supported by nines"},
      {"go's call", "{{ call .X }}", "1:4: function \"call\" is not supported by nines"},
      {"char constant", "{{ eq 'a' 97 }}", "1:7: character constant 'a' is not supported by nines"},
      {"else with", "{{ with .A }}a{{ else with .B }}b{{ end }}",
       "1:23: {{else with}} in {{with}} is not supported by nines"},
  };
  for (const ErrCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().message(), c.want);
  }
}

TEST(TemplateTest, ExecutionErrorsComeBackAsStatus) {
  struct ErrCase {
    const char* name;
    const char* text;
    const char* want;
  };
  const std::vector<ErrCase> cases = {
      {"field of a string", "{{ .Status.Foo }}",
       "1:4: executing <.Status.Foo>: can't evaluate field Foo in type string"},
      {"unknown field of data", "{{ .Nope }}",
       "1:4: executing <.Nope>: can't evaluate field Nope in type template.Data"},
      {"unknown field of an alert", "{{ range .Alerts }}{{ .Label }}{{ end }}",
       "1:23: executing <.Label>: can't evaluate field Label in type template.Alert"},
      {"field of a missing label", "{{ .CommonLabels.nope.x }}",
       "1:4: executing <.CommonLabels.nope.x>: can't evaluate field x in type string"},
      {"index out of range", "{{ index .Alerts 5 }}",
       "1:4: executing <index>: error calling index: index out of range: 5"},
      {"index wrong key", "{{ index .Alerts \"a\" }}",
       "1:4: executing <index>: error calling index: cannot index template.Alerts with string"},
      {"incompatible comparison", "{{ eq 1 \"1\" }}",
       "1:4: executing <eq>: error calling eq: incompatible types for comparison"},
      {"int against float", "{{ lt 1 1.5 }}",
       "1:4: executing <lt>: error calling lt: incompatible types for comparison"},
      {"map comparison", "{{ eq .CommonLabels .GroupLabels }}",
       "1:4: executing <eq>: error calling eq: invalid type for comparison"},
      {"len of int", "{{ len 3 }}", "1:4: executing <len>: error calling len: len of type int"},
      {"wrong argument count", "{{ toUpper \"a\" \"b\" }}",
       "1:4: executing <toUpper>: wrong number of args for toUpper: want 1 got 2"},
      {"wrong argument type", "{{ toUpper 1 }}",
       "1:4: executing <toUpper>: wrong type for value; expected string; got int"},
      {"argument to a non-function", "{{ .Status \"x\" }}",
       "1:4: executing <.Status>: Status is not a method but has arguments"},
      {"argument to a variable", "{{ $ 1 }}",
       "1:4: executing <$>: can't give argument to non-function $"},
      {"range over a string", "{{ range .Status }}{{ end }}",
       "1:4: executing <range>: range can't iterate over firing"},
      {"bad regex", "{{ reReplaceAll \"(\" \"\" \"x\" }}",
       "1:4: executing <reReplaceAll>: error calling reReplaceAll: regexp: Compile(\"(\"): missing "
       "): ("},
      {"method of a time", "{{ (index .Alerts 0).StartsAt.Unknown }}",
       "1:4: executing <(index .Alerts 0).StartsAt.Unknown>: can't evaluate field Unknown in type "
       "time.Time"},
  };
  for (const ErrCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    auto out = t->Execute(Data());
    ASSERT_FALSE(out.ok()) << c.text << " gave " << *out;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(out.status().message(), c.want);
  }
}

TEST(TemplateTest, HostileTemplatesHitTheBudget) {
  TemplateOptions small;
  small.max_output_bytes = 1000;
  small.max_steps = 10000;
  const std::vector<Case> cases = {
      {"nested ranges",
       "{{ range .Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}"
       "{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}x"
       "{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}",
       ""},
      {"huge printf width", "{{ printf \"%999999999s\" \"x\" }}", ""},
      {"output too long", "{{ range .Alerts }}{{ printf \"%900s\" \"x\" }}{{ end }}", ""},
      {"doubling string",
       "{{ $s := \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" }}"
       "{{ $s = printf \"%s%s\" $s $s }}{{ $s = printf \"%s%s\" $s $s }}"
       "{{ $s = printf \"%s%s\" $s $s }}{{ $s = printf \"%s%s\" $s $s }}"
       "{{ $s = printf \"%s%s\" $s $s }}",
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto t = Template::Parse(c.text, small);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto out = t->Execute(Data());
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted) << out.status().ToString();
  }
  // The same nested ranges fit the default budget: 3^8 iterations.
  auto t = Template::Parse(cases[0].text);
  ASSERT_TRUE(t.ok());
  auto out = t->Execute(Data());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->size(), 6561u);
}

TEST(TemplateTest, ParsedTemplateRunsForManyNotifications) {
  auto t = Template::Parse("{{ .Status }}:{{ len .Alerts }}");
  ASSERT_TRUE(t.ok());
  TemplateData d = Data();
  EXPECT_EQ(*t->Execute(d), "firing:3");
  d.status = "resolved";
  d.alerts.resize(1);
  EXPECT_EQ(*t->Execute(d), "resolved:1");
  EXPECT_EQ(*t->Execute(TemplateData{}), ":0");
}

}  // namespace
}  // namespace nines::alerting
