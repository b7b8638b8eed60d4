// Private to app/config*.cc: the `alerting:` section of nines.yaml. It holds
// either a user's Alertmanager configuration inline (global, route, receivers,
// inhibit_rules, time_intervals, mute_time_intervals, templates: read by
// app/alerting_config.h's ParseAlertmanagerNode, every error at its line:col in
// nines.yaml) or `config_file: PATH` (an alertmanager.yml read by
// ParseAlertmanagerConfig, its errors naming that file), and nines' own keys
// beside them: external_url and alertmanagers.
//
// Thread-compatible; reports through the YamlReader it is given.
#ifndef NINES_APP_CONFIG_ALERTING_H_
#define NINES_APP_CONFIG_ALERTING_H_

#include <string>
#include <vector>

#include "app/config.h"
#include "app/yaml_reader.h"

namespace nines::app {

// Reads `node` (the value of `alerting` at `at`, path `path`) into `*out`.
// Errors in nines.yaml go to `*reader`; errors of the file alerting.config_file
// names are appended to `*other_errors` (they name that file). A null node
// (`alerting:` alone) is an error: it asks for nothing.
void ParseAlertingSection(YamlReader *reader, const YAML::Node &node, const YAML::Mark &at,
                          const std::string &path, AlertingConfig *out,
                          std::vector<ConfigError> *other_errors);

}  // namespace nines::app

#endif  // NINES_APP_CONFIG_ALERTING_H_
