// nines' own texts for the template names Alertmanager's default.tmpl and email.tmpl define
// (template_set.h): SLO-aware (region, SLO, budget left, burn rates, exhaustion time, a link to
// nines). Parsed once, on first use.
#include <string_view>

namespace nines::alerting::template_internal {

extern const std::string_view kBuiltinTemplates;

const std::string_view kBuiltinTemplates = R"nines(
{{/* The names Alertmanager's default.tmpl and email.tmpl define (the kinds nines sends to),
     with nines' own texts. Helpers of nines' own start with "__nines_". */}}
{{ define "__alertmanager" }}nines{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/api/v1/alerts{{ end }}
{{ define "__nines_link" -}}
{{ .ExternalURL }}{{ with .CommonLabels.slo }}/api/v1/slos/{{ urlquery . }}{{ else }}/api/v1/alerts{{ end }}
{{- end }}

{{ define "__nines_what" -}}
{{ with .CommonLabels.slo }}SLO {{ . }}{{ with $.CommonLabels.region }} in {{ . }}{{ end }}
{{- with $.CommonLabels.alertname }}: {{ . }}{{ end }}
{{- with $.CommonLabels.severity }} ({{ . }}){{ end }}
{{- else }}{{ .GroupLabels.SortedPairs.Values | join " " }}{{ end }}
{{- end }}
{{ define "__subject" -}}
[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}] {{ template "__nines_what" . }}
{{- end }}
{{ define "__description" }}{{ with .CommonAnnotations.summary }}{{ . }}{{ end }}{{ end }}

{{/* One alert (dot: an alert), a line each for what an SLO alert carries. */}}
{{ define "__nines_alert" -}}
{{ .Labels.alertname }}{{ with .Labels.slo }} - SLO {{ . }}{{ end }}{{ with .Labels.region }} - {{ . }}{{ end }}{{ with .Labels.severity }} - {{ . }}{{ end }}
{{ with .Annotations.summary }}{{ . }}
{{ end }}{{ with .Annotations.description }}{{ . }}
{{ end }}{{ with .Annotations.budget_remaining }}Budget left: {{ . }}{{ with $.Annotations.budget_total }} of {{ . }}{{ end }}{{ with $.Annotations.budget_unit }} {{ . }}{{ end }}{{ with $.Annotations.budget_remaining_ratio }} (ratio {{ . }}){{ end }}
{{ end }}{{ if or .Annotations.long_burn_rate .Annotations.short_burn_rate }}Burn rate: {{ or .Annotations.long_burn_rate "?" }}x long, {{ or .Annotations.short_burn_rate "?" }}x short{{ with .Annotations.window_pair }} (windows {{ . }}){{ end }}
{{ end }}{{ with .Annotations.exhaustion_at_1h_burn }}Budget exhausted at the 1h burn rate: {{ . }}
{{ end }}{{ if eq .Status "resolved" }}Resolved: {{ .EndsAt.Format "2006-01-02 15:04:05 MST" }}{{ else }}Since: {{ .StartsAt.Format "2006-01-02 15:04:05 MST" }}{{ end }}
Labels: {{ range $i, $p := .Labels.SortedPairs }}{{ if $i }}, {{ end }}{{ $p.Name }}={{ $p.Value }}{{ end }}
{{ with .GeneratorURL }}Source: {{ . }}
{{ end }}
{{- end }}

{{/* A list of alerts (dot: .Alerts, .Alerts.Firing or .Alerts.Resolved). */}}
{{ define "__text_alert_list" }}{{ range $i, $a := . }}{{ if $i }}
{{ end }}{{ template "__nines_alert" $a }}{{ end }}{{ end }}
{{ define "__text_alert_list_markdown" }}{{ range . }}{{ template "__nines_alert_markdown" . }}{{ end }}{{ end }}
{{ define "__nines_alert_markdown" }}
**{{ .Labels.alertname }}**{{ with .Labels.slo }} SLO `{{ . }}`{{ end }}{{ with .Labels.region }} in `{{ . }}`{{ end }} ({{ .Status }})
{{ with .Annotations.summary }}- {{ . }}
{{ end }}{{ with .Annotations.budget_remaining }}- Budget left: {{ . }}{{ with $.Annotations.budget_total }} of {{ . }}{{ end }}{{ with $.Annotations.budget_unit }} {{ . }}{{ end }}
{{ end }}{{ if .Annotations.long_burn_rate }}- Burn rate: {{ .Annotations.long_burn_rate }}x long, {{ or .Annotations.short_burn_rate "?" }}x short{{ with .Annotations.window_pair }} ({{ . }}){{ end }}
{{ end }}{{ with .GeneratorURL }}- Source: {{ . }}
{{ end }}{{ end }}

{{/* The whole notification (dot: the data): firing alerts first, then resolved ones. */}}
{{ define "__nines_body" -}}
{{ with .Alerts.Firing }}Firing ({{ len . }}):
{{ template "__text_alert_list" . }}{{ end }}
{{- with .Alerts.Resolved }}{{ if $.Alerts.Firing }}
{{ end }}Resolved ({{ len . }}):
{{ template "__text_alert_list" . }}{{ end }}
{{- end }}

{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "__subject" . }} - {{ template "__nines_link" . }}{{ end }}
{{ define "slack.default.callbackid" }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__nines_link" . }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}
{{ define "slack.default.text" }}{{ template "__nines_body" . }}{{ end }}
{{ define "slack.default.footer" }}{{ end }}
{{ define "slack.default.color" -}}
{{ if eq .Status "resolved" }}good{{ else if eq .CommonLabels.severity "page" }}danger{{ else }}warning{{ end }}
{{- end }}

{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ end }}
{{ define "pagerduty.default.client" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "pagerduty.default.clientURL" }}{{ template "__nines_link" . }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ template "__text_alert_list" . }}{{ end }}

{{ define "opsgenie.default.message" }}{{ template "__subject" . }}{{ end }}
{{ define "opsgenie.default.description" -}}
{{ template "__nines_body" . }}
nines: {{ template "__nines_link" . }}
{{- end }}
{{ define "opsgenie.default.source" }}{{ template "__alertmanagerURL" . }}{{ end }}

{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{/* For TemplateSet::ExecuteHtml, which HTML-escapes every value written. */}}
{{ define "__nines_alert_html" -}}
<tr><td style="padding:12px 16px;border-top:1px solid #e5e5e5">
<div style="font-weight:bold">{{ if eq .Status "resolved" }}Resolved{{ else }}Firing{{ end }}: {{ .Labels.alertname }}{{ with .Labels.slo }} - SLO {{ . }}{{ end }}{{ with .Labels.region }} - {{ . }}{{ end }}</div>
{{ with .Annotations.summary }}<p style="margin:6px 0">{{ . }}</p>
{{ end }}{{ with .Annotations.description }}<p style="margin:6px 0;color:#444444">{{ . }}</p>
{{ end }}<table cellpadding="0" cellspacing="0" style="font-size:13px">
{{ with .Annotations.budget_remaining }}<tr><td style="padding-right:12px;color:#666666">Budget left</td><td>{{ . }}{{ with $.Annotations.budget_total }} of {{ . }}{{ end }}{{ with $.Annotations.budget_unit }} {{ . }}{{ end }}{{ with $.Annotations.budget_remaining_ratio }} (ratio {{ . }}){{ end }}</td></tr>
{{ end }}{{ if or .Annotations.long_burn_rate .Annotations.short_burn_rate }}<tr><td style="padding-right:12px;color:#666666">Burn rate</td><td>{{ or .Annotations.long_burn_rate "?" }}x long, {{ or .Annotations.short_burn_rate "?" }}x short{{ with .Annotations.window_pair }} (windows {{ . }}){{ end }}</td></tr>
{{ end }}{{ with .Annotations.exhaustion_at_1h_burn }}<tr><td style="padding-right:12px;color:#666666">Exhausted at 1h burn</td><td>{{ . }}</td></tr>
{{ end }}<tr><td style="padding-right:12px;color:#666666">Labels</td><td>{{ range $i, $p := .Labels.SortedPairs }}{{ if $i }}, {{ end }}{{ $p.Name }}={{ $p.Value }}{{ end }}</td></tr>
</table>
{{ with .GeneratorURL }}<p style="margin:6px 0"><a href="{{ . }}">Source</a></p>
{{ end }}</td></tr>
{{ end }}
{{ define "email.default.html" -}}
<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{ template "__subject" . }}</title>
</head>
<body style="margin:0;padding:16px;font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#222222;background:#f4f4f6">
<table width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;margin:0 auto;background:#ffffff;border:1px solid #dddddd">
<tr><td style="padding:12px 16px;color:#ffffff;background:{{ if eq .Status "resolved" }}#2e7d32{{ else if eq .CommonLabels.severity "page" }}#c62828{{ else }}#ef6c00{{ end }}"><strong>{{ template "__subject" . }}</strong></td></tr>
{{ range .Alerts.Firing }}{{ template "__nines_alert_html" . }}{{ end -}}
{{ range .Alerts.Resolved }}{{ template "__nines_alert_html" . }}{{ end -}}
<tr><td style="padding:12px 16px;font-size:12px;color:#666666">Sent by nines to {{ .Receiver }} - <a href="{{ template "__nines_link" . }}">open in nines</a></td></tr>
</table>
</body>
</html>
{{- end }}
)nines";

}  // namespace nines::alerting::template_internal
