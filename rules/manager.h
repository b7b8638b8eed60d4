// RuleManager: evaluates a rule set once at `now` and hands the resulting alerts to a sink.
//
// One EvaluateOnce(now):
//   1. the SLOs (SloEvaluator::Evaluate: counts, reports, nines_slo_* write-back, burn-rate,
//      exhaustion and no-data conditions),
//   2. the lost agents (NinesAgentDown, rules/heartbeat.h), whatever the rule files say,
//   3. every threshold rule (rules/threshold.h),
// each rule's conditions go to the AlertTracker (its lifecycle: for, keep_firing_for, no data),
// the tracker's state is persisted (AlertTracker::Finish), and then every firing alert and every
// alert that resolved goes to the sink as an alerting::Alert: starts_at = when it fired; ends_at
// = the resolve time for a resolved alert and alerting::FiringEndsAt(now, resend_delay,
// interval) for a firing one, so each resend extends it and a receiver expires the alerts of an
// engine that died.
//
// A rule that fails (a store read error, labels that cannot be built) is reported in the result
// (RuleEvaluation::errors, by rule key) and its alerts are left as they were: a read error
// neither resolves nor fires them. The other rules are evaluated all the same.
//
// Rule keys name a rule in the AlertTracker and in its state file across restarts: "slo:NAME",
// "alert:NAME" and kAgentsRuleKey; they are built here only (SloRuleKey, ThresholdRuleKey).
//
// Nothing here reads a clock or sleeps: the caller schedules (app/engine.cc runs EvaluateOnce
// every slo.evaluation_interval on its Clock; tests call it with a FakeClock's now).
//
// Thread-safety: thread-safe; SetRules and EvaluateOnce serialize. The Reader, SloEvaluator,
// AlertTracker and sink are the caller's and must outlive the manager (the HTTP API reads the
// evaluator and the tracker directly).
#ifndef NINES_RULES_MANAGER_H_
#define NINES_RULES_MANAGER_H_

#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alerting.h"
#include "core/status.h"
#include "core/time.h"
#include "rules/alerts.h"
#include "rules/evaluator.h"
#include "rules/rules.h"
#include "store/store.h"

namespace nines::rules {

// The AlertTracker key of NinesAgentDown (rules/heartbeat.h).
inline constexpr std::string_view kAgentsRuleKey = "nines:agents";
// "slo:NAME": the key of an SLO's alerts.
std::string SloRuleKey(std::string_view slo_name);
// "alert:NAME": the key of a threshold rule's alerts.
std::string ThresholdRuleKey(std::string_view rule_name);

struct RuleManagerOptions {
  // How often the caller runs EvaluateOnce (the manager does not schedule; this sets ends_at).
  core::Duration interval = core::Duration::Seconds(10);
  // A receiver should hear about a firing alert at least this often. Alerts are sent every
  // evaluation; ends_at = now + 4 x max(resend_delay, interval) (alerting::FiringEndsAt).
  core::Duration resend_delay = core::Duration::Minutes(1);
  // NinesAgentDown: an agent whose newest heartbeat is this old is down (slo.agent_down_after).
  core::Duration agent_down_after = core::Duration::Minutes(2);
  // Threshold rules: how far back a lost series is judged by its last value (no data is not
  // recovery; slo.no_data_resolve_after).
  core::Duration no_data_resolve_after = core::Duration::Hours(24);
  // Prefix of the alerts' generator URLs ("https://nines.example.com"); empty: the URLs are
  // paths ("/api/v1/slos/NAME" for an SLO's alerts, "/api/v1/alerts" for the others).
  std::string external_url;
};

// What kind of rule a RuleError is about.
enum class RuleKind { kSlo, kAlert, kAgents };

// One rule that failed in an evaluation: its key (see above), its kind and bare name (the SLO's
// or threshold rule's name; empty for kAgents), and why.
struct RuleError {
  std::string rule;
  RuleKind kind = RuleKind::kAlert;
  std::string name;
  core::Status status;
};

// What one EvaluateOnce did.
struct RuleEvaluation {
  core::Timestamp at;
  // One per rule that failed; its alerts were left as they were. Every other rule was evaluated.
  std::vector<RuleError> errors;
  // The SLO evaluation as a whole (SloEvaluator::Evaluate): the write-back's commit error, or
  // INTERNAL when every SLO failed. When not OK, no SLO's alerts were updated in this evaluation.
  core::Status slos = core::Status::Ok();
  // AlertTracker::Finish's: the state file could not be written (retried next evaluation).
  core::Status alert_state = core::Status::Ok();
  // The alerts handed to the sink (firing, and resolved in this evaluation).
  size_t sent = 0;

  bool ok() const { return errors.empty() && slos.ok() && alert_state.ok(); }
};

class RuleManager {
 public:
  // `watching_since`: when the manager began watching agents' heartbeats (the engine's start):
  // agents get agent_down_after from then to deliver queued heartbeats before they count as
  // lost (rules::AgentStatuses).
  RuleManager(store::Reader& reader, SloEvaluator& slos, AlertTracker& alerts,
              alerting::AlertSink& sink, core::Timestamp watching_since,
              RuleManagerOptions options = {});
  RuleManager(const RuleManager&) = delete;
  RuleManager& operator=(const RuleManager&) = delete;

  // Replaces the rules (start or reload). Cannot fail: the rule set was validated when it was
  // loaded (app/rule_files.h). The SloEvaluator keeps the counts of unchanged SLOs; the alerts
  // of rules no longer present resolve (firing) or are dropped (pending) at `now`.
  void SetRules(RuleSet rules, core::Timestamp now);

  // One evaluation of every rule at `now` (see the file comment).
  // REQUIRES: now is not before the previous evaluation's.
  RuleEvaluation EvaluateOnce(core::Timestamp now);

  const RuleManagerOptions& options() const { return options_; }

 private:
  void EvaluateSlosLocked(core::Timestamp now, RuleEvaluation* result);
  void EvaluateAgentsLocked(core::Timestamp now, RuleEvaluation* result);
  void EvaluateThresholdRulesLocked(core::Timestamp now, RuleEvaluation* result);
  std::vector<alerting::Alert> ToAlerting(const std::vector<Alert>& alerts,
                                          core::Timestamp now) const;

  store::Reader& reader_;
  SloEvaluator& slos_;
  AlertTracker& alerts_;
  alerting::AlertSink& sink_;
  const core::Timestamp watching_since_;
  const RuleManagerOptions options_;

  std::mutex mu_;  // one evaluation or rule change at a time
  std::vector<ThresholdRule> threshold_rules_;  // guarded by mu_
};

}  // namespace nines::rules

#endif  // NINES_RULES_MANAGER_H_
