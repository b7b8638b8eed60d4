#include "rules/manager.h"

#include <utility>

#include "rules/heartbeat.h"
#include "rules/threshold.h"

namespace nines::rules {
namespace {

constexpr std::string_view kSloPrefix = "slo:";
constexpr std::string_view kThresholdPrefix = "alert:";

}  // namespace

std::string SloRuleKey(std::string_view slo_name) {
  return std::string(kSloPrefix) + std::string(slo_name);
}

std::string ThresholdRuleKey(std::string_view rule_name) {
  return std::string(kThresholdPrefix) + std::string(rule_name);
}

RuleManager::RuleManager(store::Reader& reader, SloEvaluator& slos, AlertTracker& alerts,
                         alerting::AlertSink& sink, core::Timestamp watching_since,
                         RuleManagerOptions options)
    : reader_(reader),
      slos_(slos),
      alerts_(alerts),
      sink_(sink),
      watching_since_(watching_since),
      options_(std::move(options)) {}

void RuleManager::SetRules(RuleSet rules, core::Timestamp now) {
  std::set<std::string> keys;
  for (const SloRule& r : rules.slos) keys.insert(SloRuleKey(r.spec.name));
  for (const ThresholdRule& r : rules.alerts) keys.insert(ThresholdRuleKey(r.name));
  keys.insert(std::string(kAgentsRuleKey));
  std::lock_guard lock(mu_);
  slos_.SetRules(std::move(rules.slos));
  threshold_rules_ = std::move(rules.alerts);
  alerts_.RetainRules(keys, now);
}

RuleEvaluation RuleManager::EvaluateOnce(core::Timestamp now) {
  std::lock_guard lock(mu_);
  RuleEvaluation result;
  result.at = now;
  EvaluateSlosLocked(now, &result);
  EvaluateAgentsLocked(now, &result);
  EvaluateThresholdRulesLocked(now, &result);
  // Recorded before it is sent (AlertTracker::Finish): a resolution is sent at most once.
  result.alert_state = alerts_.Finish(now);
  std::vector<alerting::Alert> out = ToAlerting(alerts_.TakeNotifications(), now);
  result.sent = out.size();
  sink_.Send(out);
  return result;
}

void RuleManager::EvaluateSlosLocked(core::Timestamp now, RuleEvaluation* result) {
  result->slos = slos_.Evaluate(now);
  for (const auto& [rule, e] : *slos_.Snapshot()) {
    if (!e->error.empty()) {
      result->errors.push_back(
          {SloRuleKey(rule->spec.name), RuleKind::kSlo, rule->spec.name, e->status});
      continue;
    }
    // A failed write-back (or every SLO failing) leaves every SLO's alerts as they were.
    if (!result->slos.ok()) continue;
    alerts_.Update(SloRuleKey(rule->spec.name), core::Duration::Zero(), core::Duration::Zero(),
                   e->conditions, now);
  }
}

void RuleManager::EvaluateAgentsLocked(core::Timestamp now, RuleEvaluation* result) {
  auto heartbeats = ReadAgentHeartbeats(reader_, now, options_.agent_down_after);
  if (!heartbeats.ok()) {
    result->errors.push_back(
        {std::string(kAgentsRuleKey), RuleKind::kAgents, "", heartbeats.status()});
    return;
  }
  alerts_.Update(
      kAgentsRuleKey, core::Duration::Zero(), core::Duration::Zero(),
      AgentDownConditions(
          AgentStatuses(*heartbeats, now, options_.agent_down_after, watching_since_), now,
          options_.agent_down_after),
      now);
}

void RuleManager::EvaluateThresholdRulesLocked(core::Timestamp now, RuleEvaluation* result) {
  for (const ThresholdRule& r : threshold_rules_) {
    auto active = EvaluateThresholdRule(r, reader_, now, options_.no_data_resolve_after);
    if (!active.ok()) {
      result->errors.push_back({ThresholdRuleKey(r.name), RuleKind::kAlert, r.name, active.status()});
      continue;
    }
    alerts_.Update(ThresholdRuleKey(r.name), r.for_duration, r.keep_firing_for, *active, now);
  }
}

std::vector<alerting::Alert> RuleManager::ToAlerting(const std::vector<Alert>& alerts,
                                                     core::Timestamp now) const {
  const core::Timestamp firing_ends_at =
      alerting::FiringEndsAt(now, options_.resend_delay, options_.interval);
  std::vector<alerting::Alert> out;
  out.reserve(alerts.size());
  for (const Alert& a : alerts) {
    alerting::Alert o;
    o.labels = a.labels;
    o.annotations = a.annotations;
    o.value = a.value;
    o.starts_at = a.fired_at;
    if (a.state == AlertState::kResolved) {
      o.status = alerting::AlertStatus::kResolved;
      o.ends_at = a.resolved_at;
    } else {
      o.status = alerting::AlertStatus::kFiring;
      o.ends_at = firing_ends_at;
    }
    std::string_view key = a.rule_key;
    o.generator_url = options_.external_url;
    if (key.starts_with(kSloPrefix)) {
      o.generator_url += "/api/v1/slos/";
      o.generator_url += key.substr(kSloPrefix.size());
    } else {
      o.generator_url += "/api/v1/alerts";
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace nines::rules
