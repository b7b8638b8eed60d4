#include "app/check.h"

#include <algorithm>
#include <map>

#include "app/config.h"
#include "app/rule_files.h"
#include "app/yaml_reader.h"
#include "core/log.h"

namespace nines::app {
namespace {

// " (3 SLOs, 2 alerts from 2 rule files)".
std::string RuleSummary(const rules::RuleSet& rules, size_t files) {
  return fmt::format(" ({} SLO{}, {} alert{} from {} rule file{})", rules.slos.size(),
                     rules.slos.size() == 1 ? "" : "s", rules.alerts.size(),
                     rules.alerts.size() == 1 ? "" : "s", files, files == 1 ? "" : "s");
}

// `rules` (" (...)" or "") with what the config's alerting section does added inside the
// parentheses: " (...; alerting: 2 receivers, pushed to 1 Alertmanager)".
std::string AlertingSummary(const AlertingConfig& a, const std::string& rules) {
  if (!a.enabled()) return rules;
  std::string what;
  if (a.routing) {
    const size_t n = a.alertmanager.receivers.size();
    what = fmt::format("{} receiver{}", n, n == 1 ? "" : "s");
  }
  if (!a.alertmanagers.empty()) {
    const size_t n = a.alertmanagers.size();
    what += fmt::format("{}pushed to {} Alertmanager{}", what.empty() ? "" : ", ", n,
                        n == 1 ? "" : "s");
  }
  if (rules.empty()) return " (alerting: " + what + ")";
  return rules.substr(0, rules.size() - 1) + "; alerting: " + what + ")";
}

// Checks a config file with the rule files it references, or a rule file on its own (with the
// defaults of an empty config; `*cfg` is left so).
std::vector<ConfigError> CheckFile(const std::string& file, Config* cfg, std::string* summary) {
  std::string text, read_error;
  if (ReadWholeFile(file, &text, &read_error) && LooksLikeRuleFile(text)) {
    rules::RuleSet rules;
    std::vector<ConfigError> errors = ParseRuleFiles({file}, RuleFileDefaultsFrom(*cfg), &rules);
    *summary = RuleSummary(rules, 1);
    return errors;
  }
  std::vector<ConfigError> errors = LoadConfigFile(file, cfg);
  if (!errors.empty()) return errors;
  if (cfg->rule_files.empty()) {
    *summary = AlertingSummary(cfg->alerting, "");
    return errors;
  }
  RuleFileDefaults defaults = RuleFileDefaultsFrom(*cfg, file);
  std::vector<std::string> rule_files =
      ExpandRuleGlobs(cfg->rule_files, cfg->rule_files_dir, defaults, &errors);
  rules::RuleSet rules;
  std::vector<ConfigError> rule_errors = ParseRuleFiles(rule_files, defaults, &rules);
  errors.insert(errors.end(), rule_errors.begin(), rule_errors.end());
  *summary = AlertingSummary(cfg->alerting, RuleSummary(rules, rule_files.size()));
  return errors;
}


// One warning line per icmp check that this process would run but cannot, for lack of an ICMP
// socket. The permission is asked once per address family.
void WarnUnrunnableIcmpChecks(const std::string& file, const Config& cfg,
                              const CheckOptions& options, std::ostream& err) {
  const std::string& location = cfg.collector.location;
  std::map<collector::IpPreference, core::Status> permitted;
  for (const ServiceConfig& service : cfg.services) {
    for (const CheckConfig& c : service.checks) {
      if (c.spec.kind != collector::CheckKind::kIcmp) continue;
      // With a location, only its checks run here; without one, any of them may (an agent takes
      // its location from the command line).
      if (!location.empty() &&
          std::find(c.locations.begin(), c.locations.end(), location) == c.locations.end()) {
        continue;
      }
      const collector::IpPreference ip = c.spec.icmp.ip_preference;
      auto it = permitted.find(ip);
      if (it == permitted.end()) it = permitted.emplace(ip, options.icmp_permitted(ip)).first;
      if (it->second.ok()) continue;
      err << file << ':' << c.line << ": warning: icmp check \"" << c.spec.name
          << "\" cannot run in this process: " << it->second.message() << '\n';
    }
  }
}

}  // namespace

int RunCheck(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
             const CheckOptions& options) {
  if (files.empty()) {
    err << "usage: nines check FILE...\n";
    return kCheckUsage;
  }
  int rc = kCheckOk;
  for (const std::string& file : files) {
    Config cfg;
    std::string rules;
    std::vector<ConfigError> errors = CheckFile(file, &cfg, &rules);
    for (const ConfigError& e : errors) err << e.ToString() << '\n';
    if (errors.empty()) {
      WarnUnrunnableIcmpChecks(file, cfg, options, err);
      out << file << ": ok" << rules << "\n";
    } else {
      rc = kCheckFailed;
    }
  }
  out.flush();
  err.flush();
  return rc;
}

void WarnIfIcmpNotPermitted(const std::vector<collector::CheckSpec>& checks) {
  using collector::IpPreference;
  for (IpPreference ip : {IpPreference::kIp4, IpPreference::kIp6}) {
    const auto n = std::count_if(checks.begin(), checks.end(), [&](const collector::CheckSpec& c) {
      return c.kind == collector::CheckKind::kIcmp && c.icmp.ip_preference == ip;
    });
    if (n == 0) continue;
    if (core::Status s = collector::IcmpPermitted(ip); !s.ok()) {
      LOG_WARNING("{} icmp check(s) preferring {} will fail: {}", n,
                  ip == IpPreference::kIp6 ? "IPv6" : "IPv4", s.message());
    }
  }
}

}  // namespace nines::app
