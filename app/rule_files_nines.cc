// Rule files in nines' own format, parsed into SloRule and ThresholdRule (see
// rule_files_internal.h for how the rule_files*.cc files divide the work).
//
// A file is a mapping with two optional lists (a file may hold several YAML documents):
//
//   slos:
//     - name: api-availability        # REQUIRED, unique across files: letters, digits, . _ -
//       service: api
//       description: The API answers its health check
//       objective: 99.8               # percent, 0 < x < 100; default: config slo.default_objective
//       window: 30d                   # rolling (>= 1h); or {calendar: week|month|quarter,
//                                     # time_zone: Europe/Berlin}; default: config
//                                     slo.default_window
//       budgeting: occurrences        # or timeslices (a minute is good when good/total >=
//       timeslice_target: 0.95        #   timeslice_target; default: the objective as a ratio)
//       regions: [us-east-1]          # default: every region (names must be declared in the
//       config) labels: {team: api}           # added to the SLO's alerts (not alertname, slo,
//       region,
//                                     # severity, service)
//       no_data: unknown              # good | bad: how a minute without data counts
//       sli:                          # exactly one kind:
//         probe_availability: {selector: '{probe=~"api-.*"}', quorum: 2}
//             # probe_success (implied) per location; a region's minute is bad when at least
//             # `quorum` locations failed (default 0: a majority of those that reported)
//         latency: {selector: 'probe_duration_seconds{probe="api"}', threshold: 1s}
//             # each observation is an event, good when <= threshold (seconds or a duration)
//         latency: {histogram: 'http_request_duration_seconds{job="api"}', threshold: 0.3}
//             # good = <name>_bucket{le="0.3"}, total = <name>_count
//         request_ratio: {good: 'http_requests_total{code!~"5.."}', total: http_requests_total}
//             # or bad: instead of good; counters summed per region
//         freshness: {selector: 'pipeline_last_success_timestamp_seconds', max_age: 26h}
//         region_label: region        # the label that names the region (default "region")
//       alerting:
//         min_events: 20              # a burn-rate rule fires only over this many events
//         exhaustion_min_events: 1000   # request SLIs: "exhausted" needs this many events
//         exhaustion_min_coverage: 0.5  # ... and this share of the period's minutes with data
//         burn_rates:                 # replaces the SRE Workbook defaults; [] turns them off
//           - {severity: page, long: 1h, short: 5m, budget_fraction: 0.02}   # or factor: 14.4
//   alerts:
//     - name: CheckFailingFromTwoLocations   # REQUIRED, unique: [A-Za-z_][A-Za-z0-9_]*
//       selector: probe_success              # REQUIRED, with a metric name
//       op: "=="                             # REQUIRED: < <= == != >= >
//       threshold: 0                         # REQUIRED: a number, or a duration in seconds
//       time_until: false                    # compare value - now (seconds), for expiry times
//       group_by: [probe, region]            # default: each series on its own
//       min_count: 2                         # series meeting the condition per group (>= 1)
//       lookback: 5m                         # a series counts if it has a sample this recent
//       for: 2m                              # pending this long before firing
//       keep_firing_for: 1m
//       labels: {severity: page}
//       annotations: {summary: "{{ $labels.probe }} fails from {{ $value }} locations"}
//
// Selectors are PromQL series selectors (no functions). Unknown keys are errors, with a
// suggestion when one is close.
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "app/rule_files_internal.h"

namespace nines::app::internal {

namespace {

bool IsValidAlertName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace

std::optional<std::string> FileParser::SloName(const YAML::Node& v, const YAML::Mark& a,
                                               const std::string& p) {
  std::optional<std::string> s = String(v, a, p);
  if (!s) return std::nullopt;
  if (!IsValidSloName(*s)) {
    Error(a, fmt::format("{}: invalid SLO name {}: use letters, digits, '-', '_' and '.', "
                         "starting with a letter or digit",
                         p, Quote(*s)));
    return std::nullopt;
  }
  return s;
}

void FileParser::ParseSlo(const YAML::Node& item, const YAML::Mark& at, const std::string& path) {
  const size_t before = ErrorCount();
  SloRule rule;
  rule.file = file_;
  rule.line = at.line + 1;
  slo::SloSpec& spec = rule.spec;
  spec.objective = shared_.defaults.objective;
  spec.window = slo::Window::Rolling(shared_.defaults.window);
  bool has_name = false, has_sli = false;
  YAML::Mark name_at = at;
  std::optional<YAML::Mark> slice_target_at;
  bool is_map = WalkItemMap(
      item, at, path,
      {
          {"name",
           [&](auto& v, auto& a, auto& p) {
             has_name = true;
             name_at = a;
             if (auto s = SloName(v, a, p)) spec.name = *s;
           }},
          {"service", [&](auto& v, auto& a, auto& p) { Set(String(v, a, p), &spec.service); }},
          {"description",
           [&](auto& v, auto& a, auto& p) { Set(Scalar(v, a, p, "a string"), &spec.description); }},
          {"objective",
           [&](auto& v, auto& a, auto& p) { Set(Objective(v, a, p), &spec.objective); }},
          {"window", [&](auto& v, auto& a, auto& p) { ParseWindow(v, a, p, &spec.window); }},
          {"budgeting",
           [&](auto& v, auto& a, auto& p) {
             if (auto m = Enum<slo::BudgetingMethod>(
                     v, a, p, "budgeting method",
                     {{"occurrences", slo::BudgetingMethod::kOccurrences},
                      {"timeslices", slo::BudgetingMethod::kTimeslices}})) {
               spec.method = *m;
             }
           }},
          {"timeslice_target",
           [&](auto& v, auto& a, auto& p) {
             slice_target_at = a;
             if (auto d = Ratio(v, a, p)) spec.timeslice_target = *d;
           }},
          {"regions",
           [&](auto& v, auto& a, auto& p) {
             StringList(v, a, p, &spec.regions, "region",
                        [&](const std::string& r, const YAML::Mark& ra, const std::string& rp) {
                          CheckDeclaredRegion(r, ra, rp);
                        });
           }},
          {"labels",
           [&](auto& v, auto& a, auto& p) {
             if (auto l = SloLabels(v, a, p, false)) {
               spec.labels = *l;
             }
           }},
          {"no_data",
           [&](auto& v, auto& a, auto& p) {
             if (auto n = Enum<slo::NoDataPolicy>(v, a, p, "no-data policy",
                                                  {{"unknown", slo::NoDataPolicy::kUnknown},
                                                   {"good", slo::NoDataPolicy::kGood},
                                                   {"bad", slo::NoDataPolicy::kBad}})) {
               spec.no_data = *n;
             }
           }},
          {"sli",
           [&](auto& v, auto& a, auto& p) {
             has_sli = true;
             ParseSli(v, a, p, &spec, &rule.source);
           }},
          {"alerting", [&](auto& v, auto& a, auto& p) { ParseAlerting(v, a, p, &spec.alerting); }},
      });
  if (!is_map) return;
  if (!has_name) Required(at, path, "name", "");
  if (!has_sli) {
    Required(at, path, "sli", "one of probe_availability, latency, request_ratio or freshness");
  }
  if (slice_target_at && spec.method != slo::BudgetingMethod::kTimeslices) {
    Error(*slice_target_at,
          fmt::format("{}.timeslice_target: applies only to budgeting: timeslices", path));
  }
  AddSlo(std::move(rule), at, name_at, path, before);
}

void FileParser::CheckDeclaredRegion(const std::string& region, const YAML::Mark& at,
                                     const std::string& path) {
  if (!CheckRegionName(region, at, path)) return;
  const std::vector<std::string>& known = shared_.defaults.regions;
  if (!known.empty() && std::find(known.begin(), known.end(), region) == known.end()) {
    std::vector<std::string_view> names(known.begin(), known.end());
    Error(at, fmt::format(
                  "{}: unknown region {} ({})", path, Quote(region),
                  SuggestOr(region, names, fmt::format("the config declares {}", JoinOr(names)))));
  }
}

void FileParser::ParseWindow(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                             slo::Window* window) {
  if (v.IsScalar()) {
    if (std::optional<Duration> d = WholeMinutes(v, at, path, Duration::Hours(1))) {
      *window = slo::Window::Rolling(*d);
    }
    return;
  }
  std::optional<Duration> rolling;
  std::optional<slo::CalendarUnit> unit;
  std::string tz = "UTC";
  YAML::Mark tz_at = at;
  bool has_tz = false;
  if (!WalkMap(
          v, at, path,
          {
              {"rolling", [&](auto& x, auto& a,
                              auto& p) { rolling = WholeMinutes(x, a, p, Duration::Hours(1)); }},
              {"calendar",
               [&](auto& x, auto& a, auto& p) {
                 unit = Enum<slo::CalendarUnit>(x, a, p, "calendar period",
                                                {{"week", slo::CalendarUnit::kWeek},
                                                 {"month", slo::CalendarUnit::kMonth},
                                                 {"quarter", slo::CalendarUnit::kQuarter}});
               }},
              {"time_zone",
               [&](auto& x, auto& a, auto& p) {
                 has_tz = true;
                 tz_at = a;
                 if (auto s = String(x, a, p)) tz = *s;
               }},
          })) {
    return;
  }
  if (rolling && (unit || has_tz)) {
    Error(at, fmt::format("{}: set either rolling or calendar (with time_zone), not both", path));
    return;
  }
  if (rolling) {
    *window = slo::Window::Rolling(*rolling);
    return;
  }
  if (has_tz && !CheckTimeZone(tz, tz_at, Join(path, "time_zone"))) return;
  if (unit) {
    *window = slo::Window::Calendar(*unit, tz);
  } else if (v.IsNull() || v.size() == 0 || has_tz) {
    Error(at, fmt::format("{}: expected a duration (as in \"30d\") or {{calendar: "
                          "week|month|quarter, time_zone: ...}}",
                          path));
  }
}

void FileParser::ParseSli(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                          slo::SloSpec* spec, SliSource* source) {
  std::vector<std::string> kinds;
  auto kind = [&](slo::SliKind k, std::string_view name) {
    kinds.emplace_back(name);
    spec->sli = k;
  };
  bool ok = WalkMap(node, at, path,
                    {
                        {"probe_availability",
                         [&](auto& v, auto& a, auto& p) {
                           kind(slo::SliKind::kProbeAvailability, "probe_availability");
                           ParseProbeAvailability(v, a, p, spec, source);
                         }},
                        {"latency",
                         [&](auto& v, auto& a, auto& p) {
                           kind(slo::SliKind::kLatency, "latency");
                           ParseLatency(v, a, p, source);
                         }},
                        {"request_ratio",
                         [&](auto& v, auto& a, auto& p) {
                           kind(slo::SliKind::kRequestRatio, "request_ratio");
                           ParseRequestRatio(v, a, p, source);
                         }},
                        {"freshness",
                         [&](auto& v, auto& a, auto& p) {
                           kind(slo::SliKind::kFreshness, "freshness");
                           ParseFreshness(v, a, p, source);
                         }},
                        {"region_label",
                         [&](auto& v, auto& a, auto& p) {
                           std::optional<std::string> s = String(v, a, p);
                           if (!s) return;
                           if (!core::IsValidLabelName(*s)) {
                             Error(a, fmt::format("{}: invalid label name {}", p, Quote(*s)));
                             return;
                           }
                           source->region_label = *s;
                         }},
                    });
  if (!ok) return;
  if (kinds.size() != 1) {
    Error(at, kinds.empty()
                  ? fmt::format("{}: set one of probe_availability, latency, request_ratio or "
                                "freshness",
                                path)
                  : fmt::format("{}: set exactly one SLI kind, got {}", path,
                                fmt::join(kinds, " and ")));
  }
}

void FileParser::ParseProbeAvailability(const YAML::Node& v, const YAML::Mark& a,
                                        const std::string& p, slo::SloSpec* spec,
                                        SliSource* source) {
  bool has_selector = false;
  if (!WalkMap(v, a, p,
               {
                   {"selector",
                    [&](auto& x, auto& xa, auto& xp) {
                      has_selector = true;
                      ProbeSelector(x, xa, xp, &source->selector);
                    }},
                   {"quorum",
                    [&](auto& x, auto& xa, auto& xp) {
                      if (auto n = Int(x, xa, xp, 0, 1000)) spec->quorum = static_cast<int>(*n);
                    }},
               })) {
    return;
  }
  if (!has_selector) Required(a, p, "selector", "as in '{probe=\"api-eu\"}'");
}

void FileParser::ParseFreshness(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                SliSource* source) {
  bool has_selector = false, has_max_age = false;
  if (!WalkMap(v, a, p,
               {
                   {"selector",
                    [&](auto& x, auto& xa, auto& xp) {
                      has_selector = true;
                      if (auto m = Selector(x, xa, xp, true)) source->selector = *m;
                    }},
                   {"max_age",
                    [&](auto& x, auto& xa, auto& xp) {
                      has_max_age = true;
                      if (auto d = PositiveDuration(x, xa, xp)) source->max_age = *d;
                    }},
               })) {
    return;
  }
  if (!has_selector) {
    Required(a, p, "selector", "a gauge holding the Unix time of the last success");
  }
  if (!has_max_age) Required(a, p, "max_age", "as in \"26h\"");
}

void FileParser::ProbeSelector(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                               std::vector<Matcher>* out) {
  std::optional<std::vector<Matcher>> m = Selector(v, at, path, false);
  if (!m) return;
  bool has_name = false;
  for (const Matcher& x : *m) {
    if (x.name() != core::kMetricNameLabel) continue;
    if (x.op() != Matcher::Op::kEqual || x.value() != "probe_success") {
      Error(at, fmt::format("{}: probe_availability reads probe_success; select the probes "
                            "by label only, as in '{{probe=\"api-eu\"}}'",
                            path));
      return;
    }
    has_name = true;
  }
  if (!has_name) {
    m->insert(m->begin(), Matcher::Create(Matcher::Op::kEqual, std::string(core::kMetricNameLabel),
                                          "probe_success")
                              .value());
  }
  *out = std::move(*m);
}

void FileParser::ParseLatency(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                              SliSource* source) {
  std::optional<std::vector<Matcher>> selector, histogram;
  bool has_selector = false, has_histogram = false, has_threshold = false;
  YAML::Mark histogram_at = at;
  std::string histogram_path;
  std::optional<double> threshold;
  if (!WalkMap(v, at, path,
               {
                   {"selector",
                    [&](auto& x, auto& a, auto& p) {
                      has_selector = true;
                      selector = Selector(x, a, p, true);
                    }},
                   {"histogram",
                    [&](auto& x, auto& a, auto& p) {
                      has_histogram = true;
                      histogram_at = a;
                      histogram_path = p;
                      histogram = Selector(x, a, p, true);
                    }},
                   {"threshold",
                    [&](auto& x, auto& a, auto& p) {
                      has_threshold = true;
                      threshold = Seconds(x, a, p);
                      if (threshold && !(*threshold > 0)) {
                        Error(a, fmt::format("{}: must be greater than 0", p));
                        threshold.reset();
                      }
                    }},
               })) {
    return;
  }
  if (has_selector == has_histogram) {
    Error(at, fmt::format("{}: set either selector (observed durations, as in "
                          "'probe_duration_seconds{{probe=\"api\"}}') or histogram (the base "
                          "name of a Prometheus histogram)",
                          path));
    return;
  }
  if (!has_threshold) {
    Required(at, path, "threshold", "seconds or a duration, as in \"300ms\"");
    return;
  }
  if (!threshold) return;
  source->threshold = *threshold;
  if (selector) {
    source->selector = std::move(*selector);
    return;
  }
  if (histogram) HistogramSource(*histogram, histogram_at, histogram_path, *threshold, source);
}

void FileParser::HistogramSource(const std::vector<Matcher>& histogram,
                                 const YAML::Mark& histogram_at, const std::string& histogram_path,
                                 double threshold, SliSource* source) {
  std::string name;
  std::vector<Matcher> rest;
  for (const Matcher& m : histogram) {
    if (m.name() == core::kMetricNameLabel) {
      if (m.op() != Matcher::Op::kEqual) {
        Error(histogram_at, fmt::format("{}: the histogram's metric name must be given "
                                        "exactly, as in http_request_duration_seconds{{...}}",
                                        histogram_path));
        return;
      }
      name = m.value();
    } else if (m.name() == "le") {
      Error(histogram_at,
            fmt::format("{}: leave le out: it is set from the threshold", histogram_path));
      return;
    } else {
      rest.push_back(m);
    }
  }
  for (std::string_view suffix : {"_bucket", "_count", "_sum"}) {
    if (name.ends_with(suffix)) {
      Error(histogram_at,
            fmt::format("{}: give the histogram's base name, without {}", histogram_path, suffix));
      return;
    }
  }
  // Client libraries write le as "0.3" or "1" (Go) or "1.0" (Python): match both.
  std::string le = fmt::format("{}", threshold);
  std::string le_regex;
  for (char c : le) {
    if (c == '.' || c == '+') le_regex += '\\';
    le_regex += c;
  }
  if (le.find_first_of(".e") == std::string::npos) le_regex += "(\\.0)?";
  auto with = [&](const std::string& metric, std::optional<Matcher> extra) {
    std::vector<Matcher> out;
    out.push_back(
        Matcher::Create(Matcher::Op::kEqual, std::string(core::kMetricNameLabel), metric).value());
    out.insert(out.end(), rest.begin(), rest.end());
    if (extra) out.push_back(*extra);
    return out;
  };
  source->good =
      with(name + "_bucket", Matcher::Create(Matcher::Op::kRegexMatch, "le", le_regex).value());
  source->total = with(name + "_count", std::nullopt);
}

void FileParser::ParseRequestRatio(const YAML::Node& v, const YAML::Mark& at,
                                   const std::string& path, SliSource* source) {
  bool has_good = false, has_bad = false, has_total = false;
  if (!WalkMap(v, at, path,
               {
                   {"good",
                    [&](auto& x, auto& a, auto& p) {
                      has_good = true;
                      if (auto m = Selector(x, a, p, true)) source->good = *m;
                    }},
                   {"bad",
                    [&](auto& x, auto& a, auto& p) {
                      has_bad = true;
                      if (auto m = Selector(x, a, p, true)) source->bad = *m;
                    }},
                   {"total",
                    [&](auto& x, auto& a, auto& p) {
                      has_total = true;
                      if (auto m = Selector(x, a, p, true)) source->total = *m;
                    }},
               })) {
    return;
  }
  if (has_good == has_bad) {
    Error(at, fmt::format("{}: set either good or bad (the counter of good or of failed "
                          "requests), not {}",
                          path, has_good ? "both" : "neither"));
  }
  if (!has_total) Required(at, path, "total", "the counter of all requests");
}

void FileParser::ParseAlerting(const YAML::Node& node, const YAML::Mark& at,
                               const std::string& path, slo::AlertPolicy* policy) {
  WalkMap(node, at, path,
          {
              {"min_events",
               [&](auto& v, auto& a, auto& p) {
                 Set(Int(v, a, p, 0, 1'000'000'000), &policy->min_events);
               }},
              {"exhaustion_min_events",
               [&](auto& v, auto& a, auto& p) {
                 Set(Int(v, a, p, 0, 1'000'000'000), &policy->exhaustion_min_events);
               }},
              {"exhaustion_min_coverage",
               [&](auto& v, auto& a, auto& p) {
                 Set(Ratio(v, a, p), &policy->exhaustion_min_coverage);
               }},
              {"burn_rates",
               [&](auto& v, auto& a, auto& p) {
                 std::vector<slo::BurnRateRule> rules;
                 WalkList(v, a, p,
                          [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip,
                              size_t) {
                            if (auto r = ParseBurnRate(item, ia, ip)) rules.push_back(*r);
                          });
                 policy->rules = std::move(rules);
               }},
          });
}

std::optional<slo::BurnRateRule> FileParser::ParseBurnRate(const YAML::Node& item,
                                                           const YAML::Mark& at,
                                                           const std::string& path) {
  const size_t before = ErrorCount();
  slo::BurnRateRule rule;
  bool has_severity = false, has_long = false, has_short = false, has_fraction = false,
       has_factor = false;
  if (!WalkItemMap(item, at, path,
                   {
                       {"severity",
                        [&](auto& v, auto& a, auto& p) {
                          has_severity = true;
                          if (auto s = Severity(v, a, p)) rule.severity = *s;
                        }},
                       {"long",
                        [&](auto& v, auto& a, auto& p) {
                          has_long = true;
                          if (auto d = WholeMinutes(v, a, p, Duration::Minutes(1))) {
                            rule.long_window = *d;
                          }
                        }},
                       {"short",
                        [&](auto& v, auto& a, auto& p) {
                          has_short = true;
                          if (auto d = WholeMinutes(v, a, p, Duration::Minutes(1))) {
                            rule.short_window = *d;
                          }
                        }},
                       {"budget_fraction",
                        [&](auto& v, auto& a, auto& p) {
                          has_fraction = true;
                          std::optional<double> d = Number(v, a, p);
                          if (d && !(*d > 0 && *d <= 1)) {
                            Error(a, fmt::format("{}: {} is out of range (a share of the budget "
                                                 "greater than 0 and at most 1, as in 0.02)",
                                                 p, v.Scalar()));
                            return;
                          }
                          if (d) rule.budget_fraction = *d;
                        }},
                       {"factor",
                        [&](auto& v, auto& a, auto& p) {
                          has_factor = true;
                          std::optional<double> d = Number(v, a, p);
                          if (d && !(*d > 0)) {
                            Error(a, fmt::format("{}: must be greater than 0", p));
                            return;
                          }
                          if (d) rule.factor = *d;
                        }},
                   })) {
    return std::nullopt;
  }
  if (!has_severity) Required(at, path, "severity", "page or ticket");
  if (!has_long) Required(at, path, "long", "the long window, as in \"1h\"");
  if (!has_short) Required(at, path, "short", "the short window, as in \"5m\"");
  if (has_fraction == has_factor) {
    Error(at, fmt::format("{}: set either budget_fraction (scaled to the window, as in 0.02) "
                          "or factor (a fixed burn rate, as in 14.4)",
                          path));
  }
  if (ErrorCount() != before) return std::nullopt;
  if (has_fraction) rule.factor = 0;
  if (rule.short_window >= rule.long_window) {
    Error(at, fmt::format("{}: the short window {} must be shorter than the long window {}", path,
                          rule.short_window.ToString(), rule.long_window.ToString()));
    return std::nullopt;
  }
  return rule;
}

std::optional<std::string> FileParser::AlertName(const YAML::Node& v, const YAML::Mark& a,
                                                 const std::string& p) {
  std::optional<std::string> s = String(v, a, p);
  if (!s) return std::nullopt;
  if (!IsValidAlertName(*s)) {
    Error(a, fmt::format("{}: invalid alert name {} (want [A-Za-z_][A-Za-z0-9_]*, "
                         "as in \"CertificateExpiresSoon\")",
                         p, Quote(*s)));
    return std::nullopt;
  }
  return s;
}

std::optional<rules::Comparison> FileParser::Comparison(const YAML::Node& v, const YAML::Mark& a,
                                                        const std::string& p) {
  using rules::Comparison;
  return Enum<Comparison>(v, a, p, "comparison",
                          {{"<", Comparison::kLess},
                           {"<=", Comparison::kLessEqual},
                           {"==", Comparison::kEqual},
                           {"!=", Comparison::kNotEqual},
                           {">=", Comparison::kGreaterEqual},
                           {">", Comparison::kGreater}});
}

void FileParser::ParseAlert(const YAML::Node& item, const YAML::Mark& at, const std::string& path) {
  const size_t before = ErrorCount();
  ThresholdRule rule;
  rule.file = file_;
  rule.line = at.line + 1;
  bool has_name = false, has_selector = false, has_op = false, has_threshold = false;
  YAML::Mark name_at = at;
  std::optional<std::pair<YAML::Node, YAML::Mark>> annotations;
  std::string annotations_path;
  bool is_map = WalkItemMap(
      item, at, path,
      {
          {"name",
           [&](auto& v, auto& a, auto& p) {
             has_name = true;
             name_at = a;
             if (auto s = AlertName(v, a, p)) rule.name = *s;
           }},
          {"selector",
           [&](auto& v, auto& a, auto& p) {
             has_selector = true;
             if (auto m = Selector(v, a, p, true)) rule.selector = *m;
           }},
          {"op",
           [&](auto& v, auto& a, auto& p) {
             has_op = true;
             if (auto c = Comparison(v, a, p)) rule.op = *c;
           }},
          {"threshold",
           [&](auto& v, auto& a, auto& p) {
             has_threshold = true;
             if (auto d = Seconds(v, a, p)) rule.threshold = *d;
           }},
          {"time_until", [&](auto& v, auto& a, auto& p) { Set(Bool(v, a, p), &rule.time_until); }},
          {"group_by",
           [&](auto& v, auto& a, auto& p) {
             StringList(v, a, p, &rule.group_by, "label",
                        [&](const std::string& x, const YAML::Mark& xa, const std::string& xp) {
                          if (!core::IsValidLabelName(x)) {
                            Error(xa, fmt::format("{}: invalid label name {}", xp, Quote(x)));
                          }
                        });
           }},
          {"min_count",
           [&](auto& v, auto& a, auto& p) { Set(Int(v, a, p, 1, 1'000'000), &rule.min_count); }},
          {"lookback",
           [&](auto& v, auto& a, auto& p) { Set(PositiveDuration(v, a, p), &rule.lookback); }},
          {"for",
           [&](auto& v, auto& a, auto& p) {
             Set(DurationAtLeast(v, a, p, Duration::Zero()), &rule.for_duration);
           }},
          {"keep_firing_for",
           [&](auto& v, auto& a, auto& p) {
             Set(DurationAtLeast(v, a, p, Duration::Zero()), &rule.keep_firing_for);
           }},
          {"labels",
           [&](auto& v, auto& a, auto& p) {
             Set(LabelMap(v, a, p, {"alertname"}, "set by nines (the rule's name)"), &rule.labels);
           }},
          {"annotations",
           [&](auto& v, auto& a, auto& p) {
             annotations.emplace(v, a);
             annotations_path = p;
           }},
      });
  if (!is_map) return;
  if (!has_name) Required(at, path, "name", "");
  if (!has_selector) Required(at, path, "selector", "the series to watch, as in probe_success");
  if (!has_op) Required(at, path, "op", "one of <, <=, ==, !=, >=, >");
  if (!has_threshold) Required(at, path, "threshold", "");
  if (annotations)
    ParseAnnotations(annotations->first, annotations->second, annotations_path, &rule);
  if (ErrorCount() != before) return;
  shared_.alerts.push_back({std::move(rule), this, name_at, path, index_});
}

void FileParser::ParseAnnotations(const YAML::Node& v, const YAML::Mark& at,
                                  const std::string& path, ThresholdRule* rule) {
  auto pairs = StringMap(v, at, path, [&](const std::string& key, const YAML::Mark& key_at) {
    if (!core::IsValidLabelName(key)) {
      Error(key_at, fmt::format("{}: invalid annotation name {}", path, Quote(key)));
      return false;
    }
    return true;
  });
  for (auto it = v.begin(); v.IsMap() && it != v.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    if (!key.IsScalar() || !value.IsScalar()) continue;
    std::string item_path = Join(path, key.Scalar());
    YAML::Mark value_at = PositionOf(key, value);
    const std::string& text = value.Scalar();
    size_t pos = 0;
    while ((pos = text.find("{{", pos)) != std::string::npos) {
      size_t end = text.find("}}", pos + 2);
      YAML::Mark where = ColumnIn(value_at, static_cast<int>(pos) + 1);
      if (end == std::string::npos) {
        Error(where, fmt::format("{}: unclosed {{{{", item_path));
        break;
      }
      std::string_view expr = Trim(std::string_view(text).substr(pos + 2, end - pos - 2));
      pos = end + 2;
      if (expr == "$value") continue;
      if (expr.starts_with("$labels.") && core::IsValidLabelName(expr.substr(8))) {
        std::string name(expr.substr(8));
        if (rule->group_by.empty() || name == "alertname" || rule->labels.Has(name) ||
            std::find(rule->group_by.begin(), rule->group_by.end(), name) != rule->group_by.end()) {
          continue;
        }
        Error(where, fmt::format("{}: the alert has no label {} (it has alertname, its "
                                 "labels and group_by: {})",
                                 item_path, Quote(name), fmt::join(rule->group_by, ", ")));
        continue;
      }
      Error(where, fmt::format("{}: unsupported template {{{{ {} }}}} (want {{{{ $value }}}} or "
                               "{{{{ $labels.NAME }}}})",
                               item_path, expr));
    }
  }
  for (auto& [k, val] : pairs) rule->annotations[k] = val;
}

}  // namespace nines::app::internal
