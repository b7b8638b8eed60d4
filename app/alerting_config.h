// Private to app/: Alertmanager's configuration format (alertmanager.yml), parsed into the routing
// model of alerting/routing.h, so that a user's existing config means in nines what it means in
// Alertmanager, its defaults included.
//
// Read: `global` (resolve_timeout; the SMTP, Slack, PagerDuty and Opsgenie defaults and
// http_config, kept as written), `route` (the whole tree), `receivers` (webhook_configs,
// pagerduty_configs, slack_configs, opsgenie_configs, email_configs: each entry's fields kept as
// written for the notifiers, with what Alertmanager validates checked here), `inhibit_rules`,
// `time_intervals` and the older top-level `mute_time_intervals`.
// Refused with a message that says so: the fields and receivers nines does not support
// (`templates`, `tracing`, route `labels`, receiver kinds such as `victorops_configs`, their
// global settings). Unknown keys are errors with a did-you-mean suggestion.
// Checked as Alertmanager checks them: unique receiver and time interval names, a root route with
// a receiver and no matchers or time intervals, every receiver and time interval a route names
// exists, matchers and regexes, label names, group_by (`...` alone), non-zero group_interval and
// repeat_interval, time interval fields, the required fields of each integration (with the
// global defaults they fall back to), URLs (http or https with a host; a templated webhook URL
// is checked when sent), smarthosts, Opsgenie responders, Slack fields and actions.
// Not checked yet (kept as written for the notifiers): templates inside text fields, http_config
// and tls_config contents, the types of the other raw fields.
//
// Every error is reported at its file:line:col (YamlReader). Stateless functions, safe to call
// from any thread; nothing throws.
#ifndef NINES_APP_ALERTING_CONFIG_H_
#define NINES_APP_ALERTING_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "alerting/routing.h"
#include "app/config.h"
#include "app/yaml_reader.h"

namespace nines::app {

// Parses `text`, an alertmanager.yml named `file_name` in errors, into `*out`.
// Returns every error, sorted by line then column; empty means success. `*out` is assigned only
// on success; `out` may be null to validate only.
// Example:
//   alerting::AlertmanagerConfig am;
//   std::vector<ConfigError> errors = ParseAlertmanagerConfig(text, "alertmanager.yml", &am);
std::vector<ConfigError> ParseAlertmanagerConfig(std::string_view text,
                                                 const std::string& file_name,
                                                 alerting::AlertmanagerConfig* out);

// The same for a mapping inside another file (nines.yaml's `alerting:`): reads `node` at `path`
// with `*reader`, which collects the errors. Returns whether `node` had no error.
bool ParseAlertmanagerNode(YamlReader* reader, const YAML::Node& node, const YAML::Mark& at,
                           const std::string& path, alerting::AlertmanagerConfig* out);

}  // namespace nines::app

#endif  // NINES_APP_ALERTING_CONFIG_H_
