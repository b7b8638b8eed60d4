// alerting/template_set.h: the named templates a notification's text fields may call, as
// Alertmanager's `templates:` files and its built-in default.tmpl provide them.
//
// A TemplateSet holds nines' built-in definitions of Alertmanager's default template names
// ("__subject", "slack.default.title", "slack.default.text", "pagerduty.default.description",
// "opsgenie.default.message", "email.default.subject", "email.default.html", ... : nines' own
// text, SLO-aware: region, SLO, budget left, burn rates) and whatever `{{ define }}` blocks the
// user's template files add (a user definition replaces a built-in one of the same name).
// A config field is a template text executed with the set's definitions available
// (`{{ template "slack.default.title" . }}`).
//
// Thread-safety: immutable once built; any number of threads may Execute at once.
#ifndef NINES_ALERTING_TEMPLATE_SET_H_
#define NINES_ALERTING_TEMPLATE_SET_H_

#include <memory>
#include <string>
#include <string_view>

#include "alerting/template.h"
#include "core/status.h"

namespace nines::alerting {

class TemplateSet {
 public:
  // The built-in definitions only.
  TemplateSet();

  // Adds the `{{ define }}`s of a template file's `text` (top-level text outside defines is
  // ignored, as in Alertmanager). Errors: INVALID_ARGUMENT "FILE:LINE:COL: ..." naming
  // `file_name`; the set is unchanged on error.
  core::Status AddFile(std::string_view text, const std::string& file_name);

  // Parses `text` (a config field) against the set: errors INVALID_ARGUMENT "LINE:COL: ..." as
  // Template::Parse, including a `{{ template "x" }}` of a name the set does not define.
  core::Status Check(std::string_view text) const;

  // Parses and executes `text` for `data`. Errors: as Check and Template::Execute.
  core::Result<std::string> Execute(std::string_view text, const TemplateData& data) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nines::alerting

#endif  // NINES_ALERTING_TEMPLATE_SET_H_
