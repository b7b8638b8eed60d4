#include "rules/threshold.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace nines::rules {
namespace {

// Prometheus' value.StaleNaN.
constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

std::string FormatTemplateValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Where(const ThresholdRule& rule) {
  if (rule.file.empty()) return fmt::format("alert {}", rule.name);
  return fmt::format("{}:{}: alert {}", rule.file, rule.line, rule.name);
}

struct Group {
  core::Labels labels;  // group labels, before the rule's labels and alertname
  int64_t count = 0;
  double x = 0;  // of the (last) meeting series
};

}  // namespace

bool IsStaleMarker(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

std::string ExpandAlertTemplate(std::string_view text, const core::Labels& labels, double value) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    std::string_view expr = Trim(text.substr(open + 2, close - open - 2));
    constexpr std::string_view kLabels = "$labels.";
    if (expr == "$value") {
      out.append(FormatTemplateValue(value));
    } else if (expr.starts_with(kLabels)) {
      out.append(labels.Get(expr.substr(kLabels.size())));
    } else {
      out.append(text.substr(open, close + 2 - open));  // not ours: leave it as written
    }
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

namespace {

core::Status ValidateRule(const ThresholdRule& rule) {
  if (!core::IsValidLabelName(rule.name)) {
    return core::InvalidArgumentError("{}: invalid alert name", Where(rule));
  }
  if (rule.selector.empty()) return core::InvalidArgumentError("{}: no selector", Where(rule));
  if (rule.min_count < 1) {
    return core::InvalidArgumentError("{}: min_count {} must be at least 1", Where(rule),
                                      rule.min_count);
  }
  for (const std::string& name : rule.group_by) {
    if (!core::IsValidLabelName(name)) {
      return core::InvalidArgumentError("{}: invalid group_by label \"{}\"", Where(rule), name);
    }
  }
  return core::Status::Ok();
}

// The group a series counts in: its group_by labels, or all its labels but __name__.
core::Result<core::Labels> GroupOf(const ThresholdRule& rule, const core::Labels& series) {
  if (rule.group_by.empty()) {
    return core::Labels::Builder(series).Del(core::kMetricNameLabel).Build();
  }
  core::Labels::Builder b;
  for (const std::string& name : rule.group_by) {
    if (name != core::kMetricNameLabel) b.Set(name, series.Get(name));
  }
  return b.Build();
}

// Whether a lost series' last value (at `last_ms`, before `mint`) was followed by a staleness
// marker: a removed scrape target is retired, not lost. Aggregates skip markers, so this looks
// after its last value (rare: only for lost series that met the rule).
core::Result<bool> Retired(store::Reader& reader, const core::Labels& labels, int64_t last_ms,
                           int64_t mint) {
  std::vector<store::Matcher> exact;
  for (const core::Label& l : labels) {
    ASSIGN_OR_RETURN(store::Matcher m,
                     store::Matcher::Create(store::Matcher::Op::kEqual, l.name, l.value));
    exact.push_back(std::move(m));
  }
  ASSIGN_OR_RETURN(std::vector<store::SeriesSamples> after,
                   reader.Select(exact, last_ms + 1, mint - 1));
  for (const store::SeriesSamples& ss : after) {
    for (const core::Sample& smp : ss.samples) {
      if (IsStaleMarker(smp.value)) return true;
    }
  }
  return false;
}

// Lost series (none in `reporting`, a sample in the no_data_horizon before `mint`) that met the
// rule when they last reported, counted per group. Errors: the reader's, with the rule's place.
core::Result<std::map<core::Labels, int64_t>> LostMeeting(const ThresholdRule& rule,
                                                          store::Reader& reader,
                                                          core::Timestamp now, int64_t mint,
                                                          const std::set<core::Labels>& reporting,
                                                          core::Duration no_data_horizon) {
  std::map<core::Labels, int64_t> lost;
  const double now_seconds = now.UnixSecondsDouble();
  const int64_t since = (now - rule.lookback - no_data_horizon).UnixMillis();
  auto series = reader.Series(rule.selector, since, mint - 1);
  if (!series.ok()) return series.status().WithContext(Where(rule));
  for (const core::Labels& labels : *series) {
    if (reporting.contains(labels)) continue;
    auto agg = reader.Aggregate(labels, since, mint, store::Reader::Fields::kCounts);
    if (!agg.ok()) return agg.status().WithContext(Where(rule));
    if (agg->count == 0 || std::isnan(agg->last)) continue;
    const double x = rule.time_until ? agg->last - now_seconds : agg->last;
    if (!Compare(x, rule.op, rule.threshold)) continue;
    core::Result<bool> retired = Retired(reader, labels, agg->last_timestamp_ms, mint);
    if (!retired.ok()) return retired.status().WithContext(Where(rule));
    if (*retired) continue;
    ASSIGN_OR_RETURN(core::Labels key, GroupOf(rule, labels));
    ++lost[key];
  }
  return lost;
}

// The conditions of the active groups and, marked no_data, of the groups that lost series would
// make active (see EvaluateThresholdRule), sorted by labels.
core::Result<std::vector<ActiveCondition>> ConditionsOf(
    const ThresholdRule& rule, const std::map<core::Labels, Group>& groups,
    const std::map<core::Labels, int64_t>& lost) {
  const bool value_is_x = rule.group_by.empty() && rule.min_count == 1;
  std::vector<ActiveCondition> out;
  // A condition's labels: the group's, the rule's, and the alert name.
  auto labels_of = [&rule](const core::Labels& key) -> core::Result<core::Labels> {
    core::Labels::Builder b(key);
    for (const core::Label& l : rule.labels) b.Set(l.name, l.value);
    b.Set("alertname", rule.name);
    core::Result<core::Labels> labels = b.Build();
    if (!labels.ok()) return labels.status().WithContext(Where(rule));
    return labels;
  };
  for (const auto& [key, g] : groups) {
    if (g.count < rule.min_count) continue;
    ActiveCondition c;
    ASSIGN_OR_RETURN(c.labels, labels_of(key));
    c.value = value_is_x ? g.x : static_cast<double>(g.count);
    for (const auto& [name, text] : rule.annotations) {
      c.annotations[name] = ExpandAlertTemplate(text, c.labels, c.value);
    }
    out.push_back(std::move(c));
  }
  for (const auto& [key, n] : lost) {
    auto g = groups.find(key);
    const int64_t meeting = g == groups.end() ? 0 : g->second.count;
    if (meeting >= rule.min_count || meeting + n < rule.min_count) continue;
    ActiveCondition c;
    ASSIGN_OR_RETURN(c.labels, labels_of(key));
    c.no_data = true;
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const ActiveCondition& a, const ActiveCondition& b) { return a.labels < b.labels; });
  return out;
}

}  // namespace

core::Result<std::vector<ActiveCondition>> EvaluateThresholdRule(const ThresholdRule& rule,
                                                                 store::Reader& reader,
                                                                 core::Timestamp now,
                                                                 core::Duration no_data_horizon) {
  RETURN_IF_ERROR(ValidateRule(rule));
  const int64_t maxt = now.UnixMillis();
  const int64_t mint = (now - rule.lookback).UnixMillis() + 1;  // (now - lookback, now]
  if (mint > maxt) return std::vector<ActiveCondition>();
  core::Result<std::vector<store::SeriesSamples>> selected =
      reader.Select(rule.selector, mint, maxt);
  if (!selected.ok()) return selected.status().WithContext(Where(rule));

  const double now_seconds = now.UnixSecondsDouble();
  std::map<core::Labels, Group> groups;
  std::set<core::Labels> reporting;  // series with a sample in the lookback
  for (const store::SeriesSamples& s : *selected) {
    if (s.samples.empty()) continue;
    reporting.insert(s.labels);
    const double v = s.samples.back().value;
    if (IsStaleMarker(v)) continue;
    const double x = rule.time_until ? v - now_seconds : v;
    if (!Compare(x, rule.op, rule.threshold)) continue;
    ASSIGN_OR_RETURN(core::Labels key, GroupOf(rule, s.labels));
    Group& g = groups[key];
    ++g.count;
    g.x = x;
  }
  std::map<core::Labels, int64_t> lost;
  if (no_data_horizon > core::Duration::Zero()) {
    ASSIGN_OR_RETURN(lost, LostMeeting(rule, reader, now, mint, reporting, no_data_horizon));
  }
  return ConditionsOf(rule, groups, lost);
}

}  // namespace nines::rules
