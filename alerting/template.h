// alerting/template.h: the templated text fields of an Alertmanager configuration (Slack title
// and text, email subject and body, PagerDuty description, ...), so a pasted alertmanager.yml
// renders in nines as it does in Alertmanager.
//
//  - TemplateData: what a template sees, Alertmanager's notification data (template.Data).
//  - Template: a subset of Go's text/template, parsed once and executed per notification.
//
// The data model, as Alertmanager exposes it (Go names, which templates use):
//   .Receiver .Status ("firing"/"resolved") .ExternalURL          strings
//   .GroupLabels .CommonLabels .CommonAnnotations                   label maps (KV)
//   .Alerts                                                         list of alerts
//   .Alerts.Firing .Alerts.Resolved                                 the alerts in that status
//   alert: .Status .Labels .Annotations .StartsAt .EndsAt .GeneratorURL .Fingerprint
//   KV: .key (a missing key is "", Alertmanager's missingkey=zero), .SortedPairs (alertname
//       first, then by name; each pair has .Name and .Value), .Names, .Values (in that order),
//       .Remove LIST (a copy without those keys); printed as "alertname=X, a=b".
//   Names/Values/stringSlice lists: printed "[a b]", .Join SEP.
//   times (.StartsAt, .EndsAt): printed as Go prints a time.Time in UTC
//       ("2026-12-07 17:02:30.5 +0000 UTC"); methods .Format LAYOUT (Go's reference-time
//       layouts, "2006-01-02T15:04:05Z07:00"; the zone is always UTC: MST prints "UTC", -0700
//       "+0000", Z07:00 "Z"), .Unix, .UnixMilli, .UTC, .IsZero. The zero Timestamp (a firing
//       alert's EndsAt) is Go's zero time, "0001-01-01 00:00:00 +0000 UTC".
// Inside the engine a value is one of: nil, bool, int, float, string, time, list, KV map, struct
// (an alert, a pair, the data itself): a struct's unknown field is an error, a map's is "".
//
// Supported Go template forms: text and {{ actions }} with trim markers "{{- " and " -}}";
// comments {{/* */}}; . and field chains .A.B, $ and variables ($x := p, $x = p, chains $x.A);
// string (interpreted and raw), number and bool literals, nil; parenthesised pipelines and
// pipelines x | f a; {{if}} {{else if}} {{else}} {{end}}, {{range}} over lists and maps (maps in
// sorted key order) with {{else}} and $v / $i, $v; {{with}} {{else}}; Go's truthiness.
// Named templates as in Go: {{define "name"}}...{{end}} (top level only), {{template "name"}}
// (dot nil) and {{template "name" pipeline}} (the pipeline's value as dot and $, no other
// variables), {{block "name" pipeline}}...{{end}} (a define plus a template); a name defined
// twice with non-empty bodies in one text is a parse error, an empty body never replaces a
// non-empty one; an undefined name is an execution error (TemplateSet::Check finds it early).
// Functions: and or (short-circuit) not len index printf print eq ne lt le gt ge html urlquery,
// and Alertmanager's toUpper toLower title trimSpace join match safeHtml reReplaceAll
// stringSlice date (date LAYOUT TIME, as .Format) humanizeDuration (seconds, a number or a
// numeric string, as "1d 2h 3m 4s", "1.5s", "250ms"). printf knows %v %s %d %q %f %e %g %x %t %%
// with flags "-" "0" "+" and width/precision, and prints a wrong or missing operand as Go does
// ("%!d(string=x)").
// Not supported, a parse error that says "not supported by nines": {{break}} {{continue}}, char
// literals, Go's other functions (call js println slice) and Alertmanager's other ones (tz since
// now toDate toJson safeUrl urlUnescape base64encode list dict ...); time methods other than
// those above (an execution error), durations.
// Known differences: title and toUpper/toLower change ASCII letters only; reReplaceAll expands
// $0..$9 and ${n} in the replacement but not named groups; safeHtml's result passes where Go
// wants a string.
//
// Bounded: Execute stops with RESOURCE_EXHAUSTED past TemplateOptions' step and output limits,
// and past 200 nested blocks and template calls together ("exceeded maximum template depth"),
// so a hostile template (nested ranges, huge printf widths, recursion) cannot run away; parse
// nesting is bounded too. Thread-safety: a Template is immutable once parsed; any number of
// threads may Execute it at once.
#ifndef NINES_ALERTING_TEMPLATE_H_
#define NINES_ALERTING_TEMPLATE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace nines::alerting {

// One alert as templates see it (Alertmanager's template.Alert).
struct TemplateAlert {
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  core::Timestamp starts_at;
  core::Timestamp ends_at;
  std::string generator_url;
  std::string fingerprint;  // 16 hex digits (Fingerprint::ToString)
};

// A notification as templates see it (Alertmanager's template.Data).
struct TemplateData {
  std::string receiver;
  std::string status;  // "firing" if any alert fires, else "resolved"
  std::vector<TemplateAlert> alerts;
  std::map<std::string, std::string> group_labels;
  std::map<std::string, std::string> common_labels;
  std::map<std::string, std::string> common_annotations;
  std::string external_url;
};

struct TemplateOptions {
  // Execute fails once the output (or any string a function builds) exceeds this many bytes.
  size_t max_output_bytes = 1 << 20;
  // Execute fails after this many steps (a step: one action, one loop iteration, one function
  // call, one byte position tried by reReplaceAll, ...).
  uint64_t max_steps = 1'000'000;
};

namespace template_internal {
struct ListNode;
}  // namespace template_internal

class Template {
 public:
  // Parses `text`. Errors: INVALID_ARGUMENT "LINE:COL: what is wrong" (1-based, columns in
  // bytes) for a syntax error (saying what was expected), an undefined variable or function, or
  // a form nines does not support (saying "not supported by nines"). The caller prefixes where
  // the text came from.
  static core::Result<Template> Parse(std::string_view text, TemplateOptions options = {});

  // Renders the template for `data`. Errors: INVALID_ARGUMENT "LINE:COL: executing <form>:
  // what" for what Go reports at execution (a field of a string, an index out of range, a wrong
  // argument type or count, an incomparable comparison, an invalid regex); RESOURCE_EXHAUSTED
  // past the options' limits.
  core::Result<std::string> Execute(const TemplateData& data) const;

  // The text it was parsed from.
  const std::string& text() const { return text_; }

 private:
  using Defines =
      std::map<std::string, std::shared_ptr<const template_internal::ListNode>, std::less<>>;
  Template(std::string text, std::shared_ptr<const template_internal::ListNode> root,
           std::shared_ptr<const Defines> defines, TemplateOptions options)
      : text_(std::move(text)),
        root_(std::move(root)),
        defines_(std::move(defines)),
        options_(options) {}

  std::string text_;
  std::shared_ptr<const template_internal::ListNode> root_;  // never null
  std::shared_ptr<const Defines> defines_;                   // never null; its {{define}}s
  TemplateOptions options_;
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_TEMPLATE_H_
