// rules: what nines evaluates on a schedule, and what that produces.
//
//  - SloRule: an SLO (slo::SloSpec: objective, window, method, alert policy) plus where its
//    events come from in the store (SliSource).
//  - ThresholdRule: a plain alert on series ("probe_success == 0 from at least 2 locations for
//    2m", "certificate expires in under 14d"), without PromQL.
//  - RuleSet: everything loaded from the rule files (app/rule_files.h parses them).
//  - Alert, AlertState: the alerts both kinds of rule produce and their lifecycle (inactive ->
//    pending -> firing -> resolved, with `for` and `keep_firing_for`), as the AlertTracker
//    (rules/alerts.h) keeps them. What leaves the rule engine is an alerting::Alert
//    (alerting/alerting.h), sent to an alerting::AlertSink by the RuleManager (rules/manager.h).
//
// Thread-safety: the structs are values (thread-compatible).
#ifndef NINES_RULES_RULES_H_
#define NINES_RULES_RULES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "alerting/alerting.h"
#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"
#include "slo/slo.h"
#include "store/store.h"

namespace nines::rules {

// Where an SLO's events come from. Which fields apply depends on spec.sli:
//  - kProbeAvailability: `selector` picks probe_success series (the metric name is implied:
//    {probe="api-eu"} means probe_success{probe="api-eu"}); they are split into regions by
//    `region_label` and into locations by the `location` label, and combined by the SLO's quorum.
//  - kLatency from observations: `selector` picks a series of durations in seconds (e.g.
//    probe_duration_seconds{probe="api-eu"}); each sample is one event, good when <= `threshold`.
//  - kLatency from a histogram, and kRequestRatio: `good` (or `bad`) and `total` pick counters
//    (e.g. good http_requests_total{code!~"5.."}, total http_requests_total; for a histogram
//    good = the _bucket series with le="0.3", total = the _count series). Counters matching a
//    selector are summed per region. Exactly one of good and bad is set.
//  - kFreshness: `selector` picks a gauge whose value is the Unix time (seconds) of the last
//    success; each minute is one event, good when its age is <= max_age.
struct SliSource {
  std::vector<store::Matcher> selector;
  std::vector<store::Matcher> good;
  std::vector<store::Matcher> bad;
  std::vector<store::Matcher> total;
  double threshold = 0;     // kLatency: seconds
  core::Duration max_age;   // kFreshness
  std::string region_label = "region";
};

// An SLO as loaded from a rule file: the math's spec plus its data. `file` and `line` say where
// it was defined (for messages and the API).
struct SloRule {
  slo::SloSpec spec;
  SliSource source;
  // The regions the config declares (app: `regions:`; empty when it declares none). An SLO
  // without its own spec.regions counts only these; samples with another region value are
  // counted apart (StoreCounts::undeclared_samples), named as a warning in /api/v1/slos and
  // never added to region="global". Empty: every region value counts.
  std::vector<std::string> declared_regions;
  std::string file;
  int line = 0;
};

enum class Comparison { kLess, kLessEqual, kEqual, kNotEqual, kGreaterEqual, kGreater };
// "<", "<=", "==", "!=", ">=", ">".
std::string_view ComparisonName(Comparison c);
bool Compare(double value, Comparison c, double threshold);

// A plain alert rule on series, evaluated on each series' latest sample:
//   for each series matching `selector` with a sample in (now - lookback, now]:
//     x = value            (or value - now in seconds when `time_until`, for expiry times)
//     the series "meets" the rule when  x <op> threshold
//   series meeting it are counted per `group_by` labels; a group with at least `min_count` such
//   series is active, with labels = its group_by labels + `labels` + alertname.
// Example: "api failing from at least 2 locations":
//   selector probe_success{probe="api-eu"}, op ==, threshold 0, group_by [probe, region],
//   min_count 2, for 2m.
// Example: "certificate expiring in under 14 days":
//   selector probe_ssl_earliest_cert_expiry, time_until, op <, threshold 14*86400,
//   group_by [probe, region, location] (min_count 1).
struct ThresholdRule {
  std::string name;  // REQUIRED: the alertname label, [A-Za-z_][A-Za-z0-9_]*
  std::vector<store::Matcher> selector;  // REQUIRED, with a metric name
  core::Duration lookback = core::Duration::Minutes(5);
  Comparison op = Comparison::kGreater;
  double threshold = 0;
  bool time_until = false;
  std::vector<std::string> group_by;  // empty: every series is its own group (all its labels)
  int64_t min_count = 1;
  core::Duration for_duration;     // pending this long before firing; 0 fires at once
  core::Duration keep_firing_for;  // keeps firing this long after the condition clears
  core::Labels labels;             // added to the alert (severity, team, ...)
  // Annotation templates: "{{ $labels.region }}", "{{ $value }}" (the count, or the value of
  // the series for min_count 1 without grouping) are replaced.
  std::map<std::string, std::string> annotations;
  std::string file;
  int line = 0;
};

// Everything the rule files define. SLO and alert names are unique across all files.
struct RuleSet {
  std::vector<SloRule> slos;
  std::vector<ThresholdRule> alerts;
};

// One rule's verdict at one evaluation for one label set: the condition holds. Rules (SLO
// burn-rate conditions, threshold rules) produce these; the AlertTracker (rules/alerts.h) turns
// them into alerts with a lifecycle. `labels` include alertname and identify the alert.
// With `no_data` set the rule could not decide for these labels because the data behind them
// stopped (a lost prober, a region gone dark): an alert already pending or firing for them stays
// as it is, marked no_data, instead of resolving by silence; no alert is started (see
// AlertTracker::Update). Its annotations and value are then unused.
struct ActiveCondition {
  core::Labels labels;
  std::map<std::string, std::string> annotations;
  double value = 0;
  bool no_data = false;
};

enum class AlertState { kInactive, kPending, kFiring, kResolved };
// "inactive", "pending", "firing", "resolved".
std::string_view AlertStateName(AlertState s);

// One alert instance as the AlertTracker keeps it: a rule (SLO burn-rate rule or ThresholdRule)
// for one label set. Labels: alertname, plus for SLO alerts slo, service, region, severity,
// window pair, plus the rule's labels. Its identity is alerting::Fingerprint::Of(labels):
// stable across restarts.
struct Alert {
  std::string rule_key;           // the rule that produced it (AlertTracker::Update's rule_key)
  core::Labels labels;
  std::map<std::string, std::string> annotations;
  AlertState state = AlertState::kInactive;
  core::Timestamp active_since;   // when the condition started holding (pending began)
  core::Timestamp fired_at;       // when it started firing; zero if it never did
  core::Timestamp resolved_at;    // when it resolved; zero unless kResolved
  core::Timestamp last_active;    // the last evaluation at which the condition held
  double value = 0;               // the rule's value at the last evaluation

  alerting::Fingerprint Fingerprint() const { return alerting::Fingerprint::Of(labels); }
};

}  // namespace nines::rules

#endif  // NINES_RULES_RULES_H_
