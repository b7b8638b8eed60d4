// `nines check FILE...`: validates config files (with the rule files they reference) and rule
// files, and reports every problem, for CI and editors.
//
// Stateless; safe to call from any thread with distinct streams.
#ifndef NINES_APP_CHECK_H_
#define NINES_APP_CHECK_H_

#include <ostream>
#include <string>
#include <vector>

namespace nines::app {

// Exit codes of RunCheck.
inline constexpr int kCheckOk = 0;
inline constexpr int kCheckFailed = 1;
inline constexpr int kCheckUsage = 2;

// Loads each file in `files` and writes, for each, either every error as
// "file:line:col: message" (one per line, to `err`) or "file: ok" (to `out`; followed by
// " (N SLOs, M alerts from K rule files)" when rules were loaded). A file that looks like a rule
// file (LooksLikeRuleFile: top-level slos:/alerts: or OpenSLO apiVersion) is checked as one,
// with the defaults of an empty config; a config file's rule_files are loaded and checked too.
// Returns kCheckOk when every file is clean, kCheckFailed when any has an error, kCheckUsage
// (after a usage line on `err`) when `files` is empty.
int RunCheck(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

}  // namespace nines::app

#endif  // NINES_APP_CHECK_H_
