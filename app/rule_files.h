// Private to app/: rule files, the YAML files that define nines' SLOs and plain alert rules,
// parsed into the shared model rules::RuleSet. Two formats are accepted, even mixed in one file
// set: nines' own (top-level `slos:` and `alerts:`) and OpenSLO v1 documents (`apiVersion:
// openslo/v1`, kinds SLO, SLI, AlertPolicy, AlertCondition, Service). The formats, and what of
// OpenSLO is supported, are described at the top of rule_files_nines.cc and rule_files_openslo.cc
// and in examples/rules/README.md.
//
// Loading is all-or-nothing: any error in any file yields no RuleSet, so a broken file never
// half-loads and the caller keeps the rules it has. Every error is reported, each at its
// file:line:col, as the config's ConfigError.
//
// Stateless functions; they read the file system (glob(3) and the files), never throw, and are
// safe to call from any thread.
#ifndef NINES_APP_RULE_FILES_H_
#define NINES_APP_RULE_FILES_H_

#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "core/time.h"
#include "rules/rules.h"

namespace nines::app {

// What rule files inherit from the main config.
struct RuleFileDefaults {
  double objective = 99.8;                           // config slo.default_objective
  core::Duration window = core::Duration::Days(30);  // config slo.default_window
  // The regions the config declares. When not empty, an SLO's `regions` must be among them.
  std::vector<std::string> regions;
  // Where the globs come from (the config file), named in "matches no files" errors. "" names
  // the glob itself.
  std::string origin;
};

// The defaults a config gives its rule files.
RuleFileDefaults RuleFileDefaultsFrom(const Config& config, std::string origin = {});

// Expands `globs` (glob(3) patterns; relative ones against `base_dir`) into files: each
// pattern's matches sorted, patterns in order, a file matched twice listed once.
// Errors (appended to `*errors`): a pattern that matches no file, or that glob(3) fails on.
std::vector<std::string> ExpandRuleGlobs(const std::vector<std::string>& globs,
                                         std::string_view base_dir,
                                         const RuleFileDefaults& defaults,
                                         std::vector<ConfigError>* errors);

// Parses the rule files `files` (read from disk, named as given in errors) into `*out`.
// OpenSLO references (SLO.indicatorRef, alertPolicies, conditionRef) resolve across all of
// them. SLO names and alert names are unique across all files; a duplicate's error names the
// first definition's file:line. Every SLO passes slo::ValidateSlo.
// Returns every error, per file in `files` order, each file's sorted by line then column; empty
// means success. `*out` is assigned only on success; `out` may be null to validate only.
std::vector<ConfigError> ParseRuleFiles(const std::vector<std::string>& files,
                                        const RuleFileDefaults& defaults, rules::RuleSet* out);

// ExpandRuleGlobs then ParseRuleFiles: the rule set of a config, or every error.
// Example (at startup and on SIGHUP):
//   rules::RuleSet rules;
//   std::vector<ConfigError> errors = LoadRuleFiles(cfg.rule_files, cfg.rule_files_dir,
//                                                   RuleFileDefaultsFrom(cfg, path), &rules);
//   if (!errors.empty()) { log every error; keep the old rules; }
std::vector<ConfigError> LoadRuleFiles(const std::vector<std::string>& globs,
                                       std::string_view base_dir, const RuleFileDefaults& defaults,
                                       rules::RuleSet* out);

// LoadRuleFiles as a Result: INVALID_ARGUMENT whose message is every error's ToString(), one
// per line.
core::Result<rules::RuleSet> LoadRuleSet(const std::vector<std::string>& globs,
                                         std::string_view base_dir,
                                         const RuleFileDefaults& defaults);

// Parses one rule file's text (named `file_name` in errors), without cross-file references;
// for tests and tools. Same contract as ParseRuleFiles.
std::vector<ConfigError> ParseRuleText(std::string_view yaml_text, std::string_view file_name,
                                       const RuleFileDefaults& defaults, rules::RuleSet* out);

// Whether `yaml_text` looks like a rule file rather than a config file: a line starting with
// "slos:", "alerts:" or "apiVersion:" (also as "- apiVersion:") at column 1. Used by
// `nines check` to decide how to check a file; it does not validate anything.
bool LooksLikeRuleFile(std::string_view yaml_text);

}  // namespace nines::app

#endif  // NINES_APP_RULE_FILES_H_
