// Fuzzes the rule-file parser (app::ParseRuleText: nines' SLO/alert YAML and OpenSLO v1
// documents, then validation into rules::RuleSet), which reads every rule file at start and on
// every reload.
#include <cstdint>
#include <string_view>

#include "app/rule_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nines::app::RuleFileDefaults defaults = [] {
    nines::app::RuleFileDefaults d;
    d.regions = {"eu-west-1", "us-east-1"};
    d.origin = "fuzz-config.yaml";
    return d;
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nines::rules::RuleSet rules;
  for (const nines::app::ConfigError& e :
       nines::app::ParseRuleText(text, "fuzz-rules.yaml", defaults, &rules)) {
    (void)e.ToString();
  }
  (void)nines::app::LooksLikeRuleFile(text);
  return 0;
}
