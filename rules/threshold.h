// Threshold rules: evaluating a ThresholdRule (rules/rules.h) against the store at one instant.
//
// The result is the rule's active conditions, which the AlertTracker (rules/alerts.h) turns into
// alerts with `for` and `keep_firing_for`. Pure apart from the store read: time is passed in.
// Thread-safety: EvaluateThresholdRule is thread-safe as far as the Reader is.
#ifndef NINES_RULES_THRESHOLD_H_
#define NINES_RULES_THRESHOLD_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"
#include "rules/rules.h"
#include "store/store.h"

namespace nines::rules {

// Evaluates `rule` at `now` with the semantics documented on ThresholdRule:
//  - every series matching rule.selector is considered by its latest sample in
//    (now - lookback, now] (millisecond resolution, as the store keeps time). A series whose
//    latest sample there is a staleness marker (Prometheus' stale NaN) has no sample: it is
//    skipped, as is a series with no sample in the range;
//  - x = the sample's value, or, with time_until, value - now in seconds (the value being a Unix
//    time in seconds, like probe_ssl_earliest_cert_expiry); the series meets the rule when
//    Compare(x, rule.op, rule.threshold);
//  - with group_by, meeting series are counted per distinct values of the group_by labels (an
//    absent label counts as ""); without group_by, each series is its own group, identified by
//    all its labels but __name__ (series differing only by metric name share a group);
//  - a group with at least min_count meeting series is active. Its labels are the group's labels
//    (empty values dropped), then rule.labels (which win on a clash), then
//    alertname = rule.name;
//  - its value is x of its meeting series when there is no group_by and min_count is 1, else
//    the count of meeting series;
//  - annotations are rule.annotations with "{{ $labels.NAME }}" replaced by the alert's label
//    NAME ("" when absent) and "{{ $value }}" by the value (shortest round-trip decimal, "NaN",
//    "+Inf", "-Inf"); spaces inside the braces are optional; anything else is left as written.
//  - lost series (with no_data_horizon > 0): a series with no sample in the lookback but one in
//    the `no_data_horizon` before it (a prober or target that stopped reporting) is judged by its
//    last value there. A group that is not active, but would be if its lost series still
//    reported what they last did (meeting + lost meeting >= min_count), is undecidable: it is
//    returned as a condition with no_data set (no annotations), so that its alert, if active,
//    stays active instead of resolving by silence (AlertTracker). With min_count 2 and two
//    locations failing, one location's prober dying leaves the alert firing, marked no_data.
// Returns the conditions sorted by labels (possibly none).
// Errors: INVALID_ARGUMENT for a rule without a selector, with an invalid name, group_by label or
// a min_count < 1 (naming the rule's file:line); the store's errors, with the rule's name.
core::Result<std::vector<ActiveCondition>> EvaluateThresholdRule(
    const ThresholdRule& rule, store::Reader& reader, core::Timestamp now,
    core::Duration no_data_horizon = core::Duration::Zero());

// Expands the annotation template `text` for an alert with `labels` and `value` (see above).
std::string ExpandAlertTemplate(std::string_view text, const core::Labels& labels, double value);

// Whether `v` is Prometheus' staleness marker (a NaN with a payload no computation produces).
bool IsStaleMarker(double v);

}  // namespace nines::rules

#endif  // NINES_RULES_THRESHOLD_H_
