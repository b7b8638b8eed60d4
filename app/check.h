// `nines check FILE...`: validates config files (with the rule files they reference) and rule
// files, and reports every problem, for CI and editors.
// It also warns (without failing) when the config has icmp checks this process could not run
// because it may open no ICMP socket: that is a property of the host, not of the file, but it
// is the one check kind that fails for lack of a privilege, so it is best said up front.
//
// Stateless; safe to call from any thread with distinct streams.
#ifndef NINES_APP_CHECK_H_
#define NINES_APP_CHECK_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "collector/collector.h"
#include "core/status.h"

namespace nines::app {

// Exit codes of RunCheck.
inline constexpr int kCheckOk = 0;
inline constexpr int kCheckFailed = 1;
inline constexpr int kCheckUsage = 2;

struct CheckOptions {
  // Whether this process may open ICMP sockets (collector::IcmpPermitted). Tests replace it to
  // reach the "not permitted" warning on a host where they run as root.
  std::function<core::Status(collector::IpPreference)> icmp_permitted = collector::IcmpPermitted;
};

// Loads each file in `files` and writes, for each, either every error as
// "file:line:col: message" (one per line, to `err`) or "file: ok" (to `out`; followed by
// " (N SLOs, M alerts from K rule files)" when rules were loaded). A file that looks like a rule
// file (LooksLikeRuleFile: top-level slos:/alerts: or OpenSLO apiVersion) is checked as one,
// with the defaults of an empty config; a config file's rule_files are loaded and checked too.
// For a clean file it also writes, to `err`, one line per icmp check this process would run
// (those of collector.location when set, else every icmp check) when it cannot open ICMP
// sockets: "file:line: warning: icmp check \"name\" cannot run in this process: <why>".
// Warnings do not change the exit code.
// Returns kCheckOk when every file is clean, kCheckFailed when any has an error, kCheckUsage
// (after a usage line on `err`) when `files` is empty.
int RunCheck(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
             const CheckOptions& options = {});

// ICMP is the one probe kind that needs a privilege (a ping_group_range group or CAP_NET_RAW):
// `nines serve` and `nines agent` say so once at start, as a log warning per address family,
// rather than only in every failed result.
void WarnIfIcmpNotPermitted(const std::vector<collector::CheckSpec>& checks);

}  // namespace nines::app

#endif  // NINES_APP_CHECK_H_
