// Private to app/: Alertmanager's configuration format (alertmanager.yml), parsed into the routing
// model of alerting/routing.h, so that a user's existing config means in nines what it means in
// Alertmanager, its defaults included.
//
// Read: `global` (resolve_timeout; the SMTP, Slack, PagerDuty and Opsgenie defaults and
// http_config, kept as written), `route` (the whole tree), `receivers` (webhook_configs,
// pagerduty_configs, slack_configs, opsgenie_configs, email_configs: each entry's fields kept as
// written for the notifiers, with what Alertmanager validates checked here), `inhibit_rules`,
// `time_intervals` and the older top-level `mute_time_intervals`, and `templates` (a list of
// file globs, relative to the config file's directory, as Alertmanager; a glob that matches
// nothing is fine; glob(3), so unlike Go's filepath.Glob a `*` does not match a leading dot):
// each file (a regular file of at most 4 MiB, at most 1000 files) read into an
// alerting::TemplateSet, a file's error reported at that file's FILE:LINE:COL; a default
// template the notifiers use (slack.default.text, ...) that the files redefine is checked for
// templates it calls and nobody defines, reported at `templates`.
// Refused with a message that says so: the fields and receivers nines does not support
// (`tracing`, route `labels`, receiver kinds such as `victorops_configs`, their global
// settings). Unknown keys are errors with a did-you-mean suggestion.
// Checked as Alertmanager checks them: unique receiver and time interval names, a root route with
// a receiver and no matchers or time intervals, every receiver and time interval a route names
// exists, matchers and regexes, label names, group_by (`...` alone), non-zero group_interval and
// repeat_interval, time interval fields, the required fields of each integration (with the
// global defaults they fall back to), URLs (http or https with a host; a templated webhook URL
// is checked when sent), smarthosts, Opsgenie responders, Slack fields and actions.
// Every templated field (alerting::IsTemplatedField) that holds "{{" is parsed against the
// template set (TemplateSet::Check: syntax, forms nines does not support, templates not
// defined), an error reported at the field ("PATH: template error at LINE:COL of the text: ...").
// Not checked yet (kept as written for the notifiers): http_config and tls_config contents, the
// types of the other raw fields.
// Secret files (`routing_key_file`, `api_url_file`, `http_config...credentials_file`,
// `smtp_auth_password_file`, ...) are read when the config is loaded or reloaded, relative to the
// config file's directory, white space trimmed, into the plain field (Alertmanager rereads them at
// every send: in nines a changed file takes effect at the next reload).
//
// Every error is reported at its file:line:col (YamlReader). Stateless functions, safe to call
// from any thread; nothing throws.
#ifndef NINES_APP_ALERTING_CONFIG_H_
#define NINES_APP_ALERTING_CONFIG_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/routing.h"
#include "alerting/template_set.h"
#include "app/config.h"
#include "app/yaml_reader.h"

namespace nines::app {

// Parses `text`, an alertmanager.yml named `file_name` in errors (its directory is where
// relative `templates:` globs start), into `*out`, and its template set (the built-in
// definitions plus the `templates:` files) into `*templates`.
// Returns every error, sorted by line then column; empty means success. `*out` and `*templates`
// are assigned only on success; either may be null.
// Example:
//   alerting::AlertmanagerConfig am;
//   std::shared_ptr<const alerting::TemplateSet> templates;
//   std::vector<ConfigError> errors =
//       ParseAlertmanagerConfig(text, "alertmanager.yml", &am, &templates);
std::vector<ConfigError> ParseAlertmanagerConfig(
    std::string_view text, const std::string& file_name, alerting::AlertmanagerConfig* out,
    std::shared_ptr<const alerting::TemplateSet>* templates = nullptr);

// The same for a mapping inside another file (nines.yaml's `alerting:`): reads `node` at `path`
// with `*reader`, which collects the errors (relative `templates:` globs start at the reader's
// base directory). Returns whether `node` had no error; `*templates` is assigned only then.
bool ParseAlertmanagerNode(YamlReader* reader, const YAML::Node& node, const YAML::Mark& at,
                           const std::string& path, alerting::AlertmanagerConfig* out,
                           std::shared_ptr<const alerting::TemplateSet>* templates = nullptr);

}  // namespace nines::app

#endif  // NINES_APP_ALERTING_CONFIG_H_
