// The SLO documents (api/json.h), from the evaluator's published results.
#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "api/json.h"
#include "core/json.h"
#include "slo/slo.h"

namespace nines::api {
namespace {

std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{}", v);
}
std::string Number(const std::optional<double>& v) { return v ? Number(*v) : "null"; }
std::string Time(const std::optional<core::Timestamp>& t) {
  if (!t) return "null";
  std::string out;
  core::AppendJsonString(&out, t->ToRfc3339());
  return out;
}

// The objective as a ratio, without binary noise (99.8 / 100 prints as 0.998).
std::string Objective(const slo::SloSpec& spec) {
  return fmt::format("{:.12g}", spec.objective / 100.0);
}

// What the budget counts: events (occurrences) or minutes (time slices).
std::string_view Unit(const slo::SloSpec& spec) {
  return spec.method == slo::BudgetingMethod::kOccurrences ? "events" : "minutes";
}

// null, or the quorum, the live regions and the lost ones of a region's reduced coverage.
void AppendReducedCoverageJson(std::string* out, const rules::ReducedCoverage* reduced) {
  if (reduced == nullptr) {
    *out += "null";
    return;
  }
  *out += fmt::format("{{\"quorum\":{},\"live\":{},\"lost\":[", reduced->quorum,
                      reduced->live);
  for (size_t i = 0; i < reduced->lost.size(); ++i) {
    if (i > 0) out->push_back(',');
    core::AppendJsonString(out, reduced->lost[i]);
  }
  *out += "]}";
}

// The comma-led "burn_rate_rules" member: each multi-window rule with its burn rates.
void AppendBurnRateRulesJson(std::string* out, const std::vector<slo::AlertCondition>& alerts) {
  *out += ",\"burn_rate_rules\":[";
  for (size_t i = 0; i < alerts.size(); ++i) {
    const slo::AlertCondition& c = alerts[i];
    if (i > 0) out->push_back(',');
    *out += fmt::format(
        "{{\"severity\":\"{}\",\"long_window\":\"{}\",\"short_window\":\"{}\",\"factor\":{},"
        "\"long_burn_rate\":{},\"short_burn_rate\":{},\"long_events\":{},\"guarded\":{},"
        "\"firing\":{}}}",
        slo::SeverityName(c.rule.severity), c.rule.long_window.ToString(),
        c.rule.short_window.ToString(), Number(c.factor), Number(c.long_burn.rate),
        Number(c.short_burn.rate), c.long_burn.tally.total, c.guarded, c.firing);
  }
  *out += "]";
}

void AppendReportJson(std::string* out, const slo::SloSpec& spec, const slo::SloReport& r,
                      const rules::ReducedCoverage* reduced, bool detail) {
  *out += "{\"region\":";
  core::AppendJsonString(out, r.region);
  *out += ",\"status\":";
  core::AppendJsonString(out, slo::SloStatusName(r.status));
  *out += fmt::format(
      ",\"sli\":{},\"objective\":{},\"good\":{},\"total\":{},\"coverage\":{}", Number(r.sli),
      Objective(spec), r.tally.good, r.tally.total, Number(r.coverage));
  *out += ",\"reduced_coverage\":";
  AppendReducedCoverageJson(out, reduced);
  *out += fmt::format(
      ",\"budget\":{{\"unit\":\"{}\",\"total\":{},\"consumed\":{},\"remaining\":{},"
      "\"remaining_ratio\":{},\"consumed_ratio\":{},\"exhaustion_guarded\":{}}}",
      Unit(spec), Number(r.budget_total), Number(r.budget_consumed), Number(r.budget_remaining),
      Number(r.budget_remaining_ratio),
      r.budget_remaining_ratio ? Number(1 - *r.budget_remaining_ratio) : "null",
      r.exhaustion_guarded);
  *out += ",\"burn_rates\":{";
  for (size_t i = 0; i < r.burn_rates.size(); ++i) {
    if (i > 0) out->push_back(',');
    core::AppendJsonString(out, r.burn_rates[i].window.ToString());
    *out += ":" + Number(r.burn_rates[i].rate);
  }
  *out += "}";
  *out += ",\"exhaustion\":{\"at_1h_burn\":" + Time(r.exhaustion_at_1h) +
          ",\"at_6h_burn\":" + Time(r.exhaustion_at_6h) + "}";
  *out += ",\"window\":{\"start\":" + Time(slo::MinuteStart(r.window.begin_minute)) +
          ",\"end\":" + Time(slo::MinuteStart(r.window.end_minute)) +
          ",\"period\":" + fmt::format("\"{}\"", r.window.period.ToString()) + "}";
  if (detail) AppendBurnRateRulesJson(out, r.alerts);
  out->push_back('}');
}

// The comma-led "warnings" and "undeclared_regions" members: samples from regions that the
// config does not declare, which the SLO does not count.
void AppendUndeclaredRegionsJson(std::string* out, const rules::SloEvaluation& e) {
  *out += ",\"warnings\":[";
  bool first = true;
  for (const auto& [region, samples] : e.undeclared_samples) {
    if (!first) out->push_back(',');
    first = false;
    core::AppendJsonString(
        out, fmt::format("{} samples with region=\"{}\", which the config does not declare, are "
                         "not counted (a typo in a check's or agent's region?)",
                         samples, region));
  }
  *out += "],\"undeclared_regions\":{";
  first = true;
  for (const auto& [region, samples] : e.undeclared_samples) {
    if (!first) out->push_back(',');
    first = false;
    core::AppendJsonString(out, region);
    *out += fmt::format(":{}", samples);
  }
  *out += "}";
}

// The comma-led "alerts" member: the active alert conditions with their labels and value.
void AppendActiveAlertsJson(std::string* out, const rules::SloEvaluation& e) {
  *out += ",\"alerts\":[";
  bool first_condition = true;
  for (size_t i = 0; i < e.conditions.size(); ++i) {
    if (e.conditions[i].no_data) continue;  // not active: only keeps an alert from resolving
    if (!first_condition) out->push_back(',');
    first_condition = false;
    *out += "{\"labels\":";
    core::AppendJsonLabels(out, e.conditions[i].labels);
    *out += ",\"annotations\":";
    core::AppendJsonStringMap(out, e.conditions[i].annotations);
    *out += ",\"value\":" + Number(e.conditions[i].value) + "}";
  }
  *out += "]";
}

void AppendSloJson(std::string* out, const rules::SloRule& rule,
                   const rules::SloEvaluation& e, bool detail) {
  const slo::SloSpec& spec = rule.spec;
  *out += "{\"name\":";
  core::AppendJsonString(out, spec.name);
  *out += ",\"service\":";
  core::AppendJsonString(out, spec.service);
  *out += ",\"description\":";
  core::AppendJsonString(out, spec.description);
  *out += fmt::format(",\"sli_kind\":\"{}\",\"objective\":{},\"window\":",
                      slo::SliKindName(spec.sli), Objective(spec));
  core::AppendJsonString(out, spec.window.ToString());
  *out += fmt::format(",\"budgeting_method\":\"{}\",\"labels\":",
                      slo::BudgetingMethodName(spec.method));
  core::AppendJsonLabels(out, spec.labels);
  *out += ",\"file\":";
  core::AppendJsonString(out, rule.file);
  *out += fmt::format(",\"line\":{},\"evaluated_at\":", rule.line);
  *out += e.evaluated_at == core::Timestamp() ? "null" : Time(e.evaluated_at);
  *out += ",\"error\":";
  if (e.error.empty()) {
    *out += "null";
  } else {
    core::AppendJsonString(out, e.error);
  }
  AppendUndeclaredRegionsJson(out, e);
  *out += ",\"regions\":[";
  for (size_t i = 0; i < e.reports.size(); ++i) {
    if (i > 0) out->push_back(',');
    auto rc = e.reduced_coverage.find(e.reports[i].region);
    AppendReportJson(out, spec, e.reports[i],
                     rc == e.reduced_coverage.end() ? nullptr : &rc->second, detail);
  }
  *out += "]";
  if (detail) AppendActiveAlertsJson(out, e);
  out->push_back('}');
}

}  // namespace

std::string SlosJson(const std::vector<rules::SloEvaluator::Published>& slos) {
  std::string out = "{\"status\":\"success\",\"data\":[";
  for (size_t i = 0; i < slos.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendSloJson(&out, *slos[i].rule, *slos[i].eval, /*detail=*/false);
  }
  out += "]}";
  return out;
}

core::Result<std::string> SloJson(const std::vector<rules::SloEvaluator::Published>& slos,
                                  std::string_view name) {
  for (const rules::SloEvaluator::Published& p : slos) {
    if (p.rule->spec.name != name) continue;
    std::string out = "{\"status\":\"success\",\"data\":";
    AppendSloJson(&out, *p.rule, *p.eval, /*detail=*/true);
    out += "}";
    return out;
  }
  return core::NotFoundError("no SLO named \"{}\"", name);
}

}  // namespace nines::api
