// api/json.h: the documents of the /api/v1 endpoints, built from the domain modules' structured
// snapshots (the SLO evaluator's published results, the alert tracker's alerts, the collector's
// check and scrape-target status). The domain modules know nothing of JSON; this is the one
// place that decides the bytes a client sees. Every function is pure: thread-safe, no I/O, the
// arguments only read during the call.
#ifndef NINES_API_JSON_H_
#define NINES_API_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "collector/agent.h"
#include "collector/probe_engine.h"
#include "collector/scrape_manager.h"
#include "core/status.h"
#include "rules/evaluator.h"
#include "rules/rules.h"

namespace nines::api {

// ---- SLOs (rules::SloEvaluator::Snapshot) ----------------------------------------------------

// GET /api/v1/slos: {"status":"success","data":[<slo>...]} with, per SLO, its definition,
// "warnings" (strings: e.g. samples of undeclared regions, not counted) and
// "undeclared_regions" ({region: samples}), and per region then "global": status, sli,
// objective, good/total, coverage, reduced_coverage (null, or {"quorum","live","lost":[...]}
// when the newest minute was decided by fewer probers than the quorum), budget (total,
// consumed, remaining, remaining_ratio, unit "events"|"minutes"), burn rates per window,
// exhaustion times at the 1h and 6h burn, and the window's bounds. Unknown numbers are null.
std::string SlosJson(const std::vector<rules::SloEvaluator::Published>& slos);

// GET /api/v1/slos/NAME: {"status":"success","data":<slo>} as above, plus per region every
// burn-rate rule's evaluation, plus the SLO's active alert conditions.
// Errors: NOT_FOUND when there is no SLO `name`.
core::Result<std::string> SloJson(const std::vector<rules::SloEvaluator::Published>& slos,
                                  std::string_view name);

// ---- alerts (rules::AlertTracker::Alerts) ----------------------------------------------------

// Which alerts AlertsJson lists: all when a field is empty.
struct AlertFilter {
  std::vector<rules::AlertState> states;  // any of these
  // The alert's region label is one of these, or one of them is in its comma-separated
  // `regions` label (NinesAgentDown).
  std::vector<std::string> regions;
};

// Parses GET /api/v1/alerts' `state` and `region` parameters (each repeatable, or
// comma-separated) into a filter. Errors: INVALID_ARGUMENT naming an unknown state and the
// known ones (pending, firing, resolved).
core::Result<AlertFilter> ParseAlertFilter(const std::vector<std::string>& states,
                                           const std::vector<std::string>& regions);

// The body of GET /api/v1/alerts, in the Prometheus HTTP API's shape:
//   {"status":"success","data":{"alerts":[{"labels":{...},"annotations":{...},
//    "state":"pending|firing|resolved","activeAt":"<RFC 3339>","value":"<Go %e float>",
//    "firedAt":"<RFC 3339>" (once it fired),"resolvedAt":"<RFC 3339>" (when resolved)}]}}
// for the `alerts` that pass `filter`, in their order (AlertTracker::Alerts sorts them).
std::string AlertsJson(const std::vector<rules::Alert>& alerts, const AlertFilter& filter = {});

// Formats a value the way Prometheus' API does (Go's strconv.FormatFloat(v, 'e', -1, 64)):
// "1e+00", "1.5e-03", "NaN", "+Inf", "-Inf".
std::string FormatAlertValue(double v);

// ---- checks and scrape targets (collector) ---------------------------------------------------

// An agent's GET /api/v1/checks: {"status":"success","data":[{"probe","service","kind","target",
// "region","location","interval_seconds","last_run","success","duration_seconds","reason",
// "last_success","runs","failures","skipped"}, ...]} (statuses without a check are left out).
std::string CheckStatusesJson(const std::vector<collector::CheckStatus>& statuses);

// The engine's GET /api/v1/checks, from collector::LatestResults: {"status":"success","data":
// [{"probe","service","target","region","location","last_run","success","reason"}, ...]}.
std::string LatestResultsJson(const std::vector<collector::LatestCheckResult>& results);

// GET /api/v1/targets, in Prometheus' shape: {"status":"success","data":{"activeTargets":
// [{"labels":{...},"scrapePool":job,"scrapeUrl":url,"lastError":"","lastScrape":"RFC 3339",
// "lastScrapeDuration":0.012,"health":"up"|"down"|"unknown","scrapeInterval":"15s",
// "scrapeTimeout":"5s","scrapes":N,"failures":N,"skipped":N}, ...],"droppedTargets":[]}}.
std::string ScrapeTargetsJson(const std::vector<collector::ScrapeTargetStatus>& targets);

}  // namespace nines::api

#endif  // NINES_API_JSON_H_
