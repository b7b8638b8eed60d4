// OpenSLO v1 specs: an SLI's ratioMetric or thresholdMetric and their metric sources, an
// AlertCondition's burn-rate condition, an AlertPolicy's conditions, and an SLO's timeWindow
// (the mapping to nines' model is described at the top of rule_files_openslo.cc).
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "app/rule_files_internal.h"

namespace nines::app::internal {

namespace {

// "1w", "28d", "1M": a number and an OpenSLO unit.
struct Shorthand {
  int64_t n = 0;
  char unit = 0;
};
std::optional<Shorthand> ParseShorthand(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  Shorthand out;
  out.unit = s.back();
  std::string_view digits = s.substr(0, s.size() - 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out.n);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || out.n <= 0) {
    return std::nullopt;
  }
  if (std::string_view("mhdwMQY").find(out.unit) == std::string_view::npos) return std::nullopt;
  return out;
}

// The calendar period of a calendar window's duration: 1w, 1M or 1Q.
std::optional<slo::CalendarUnit> CalendarUnitOf(const Shorthand& d) {
  if (d.n != 1) return std::nullopt;
  switch (d.unit) {
    case 'w':
      return slo::CalendarUnit::kWeek;
    case 'M':
      return slo::CalendarUnit::kMonth;
    case 'Q':
      return slo::CalendarUnit::kQuarter;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<Indicator> FileParser::ParseSliSpec(const YAML::Node& node, const YAML::Mark& at,
                                                  const std::string& path) {
  const size_t before = ErrorCount();
  Indicator ind;
  int kinds = 0;
  if (!WalkMap(node, at, path,
               {
                   {"description", [&](auto& v, auto& a, auto& p) { Scalar(v, a, p, "a string"); }},
                   {"thresholdMetric",
                    [&](auto& v, auto& a, auto& p) {
                      ++kinds;
                      ind.kind = slo::SliKind::kLatency;
                      ind.threshold_metric = true;
                      if (auto m = MetricSource(v, a, p)) ind.source.selector = *m;
                    }},
                   {"ratioMetric",
                    [&](auto& v, auto& a, auto& p) {
                      ++kinds;
                      ind.kind = slo::SliKind::kRequestRatio;
                      ParseRatioMetric(v, a, p, &ind);
                    }},
               })) {
    return std::nullopt;
  }
  if (kinds != 1 && ErrorCount() == before) {
    Error(at, fmt::format("{}: set exactly one of ratioMetric or thresholdMetric", path));
  }
  if (ErrorCount() != before) return std::nullopt;
  return ind;
}

void FileParser::ParseRatioMetric(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                  Indicator* ind) {
  bool has_good = false, has_bad = false, has_total = false;
  auto counter = [&](bool* seen, std::vector<Matcher>* out) {
    return [this, seen, out](auto& x, auto& xa, auto& xp) {
      *seen = true;
      if (auto m = MetricSource(x, xa, xp)) *out = *m;
    };
  };
  if (!WalkMap(v, a, p,
               {
                   {"counter",
                    [&](auto& x, auto& xa, auto& xp) {
                      auto b = Bool(x, xa, xp);
                      if (b && !*b) {
                        Error(xa, fmt::format("{}: only counters are supported (nines counts "
                                              "events from counter increases)",
                                              xp));
                      }
                    }},
                   {"good", counter(&has_good, &ind->source.good)},
                   {"bad", counter(&has_bad, &ind->source.bad)},
                   {"total", counter(&has_total, &ind->source.total)},
                   {"raw",
                    [&](auto&, auto& xa, auto& xp) {
                      Error(xa, fmt::format("{}: precomputed ratios are not supported (nines needs "
                                            "good or bad and total counters to count events "
                                            "exactly)",
                                            xp));
                    }},
                   {"rawType",
                    [&](auto&, auto& xa, auto& xp) {
                      Error(xa, fmt::format("{}: precomputed ratios are not supported", xp));
                    }},
               })) {
    return;
  }
  if (has_good && has_bad) {
    Error(a, fmt::format("{}: set good or bad, not both", p));
  } else if (!has_good && !has_bad) {
    Required(a, p, "good", "or bad");
  }
  if (!has_total) Required(a, p, "total", "");
}

std::optional<std::vector<Matcher>> FileParser::MetricSource(const YAML::Node& node,
                                                             const YAML::Mark& at,
                                                             const std::string& path) {
  const size_t before = ErrorCount();
  std::optional<std::vector<Matcher>> selector;
  bool has_source = false;
  WalkMap(node, at, path, {{"metricSource", [&](auto& v, auto& a, auto& p) {
                              has_source = true;
                              selector = PrometheusSource(v, a, p, before);
                            }}});
  if (!has_source && node.IsMap()) Required(at, path, "metricSource", "");
  if (ErrorCount() != before) return std::nullopt;
  return selector;
}

std::optional<std::vector<Matcher>> FileParser::PrometheusSource(const YAML::Node& v,
                                                                 const YAML::Mark& a,
                                                                 const std::string& p,
                                                                 size_t errors_before) {
  bool has_type = false, has_query = false, bad_type = false;
  YAML::Node spec;
  YAML::Mark spec_at = a;
  bool has_spec = false;
  if (!WalkMap(v, a, p,
               {
                   {"metricSourceRef",
                    [&](auto&, auto& xa, auto& xp) {
                      Error(xa, fmt::format("{}: DataSource references are not supported (nines "
                                            "reads its own store); use type: Prometheus",
                                            xp));
                    }},
                   {"type",
                    [&](auto& x, auto& xa, auto& xp) {
                      has_type = true;
                      auto s = String(x, xa, xp);
                      if (s && *s != "Prometheus" && *s != "prometheus") {
                        bad_type = true;
                        Error(xa, fmt::format("{}: metric source {} is not supported (nines reads "
                                              "its own store through Prometheus series "
                                              "selectors: use type: Prometheus)",
                                              xp, Quote(*s)));
                      }
                    }},
                   {"spec",
                    [&](auto& x, auto& xa, auto&) {
                      has_spec = true;
                      spec = x;
                      spec_at = xa;
                    }},
               })) {
    return std::nullopt;
  }
  if (!has_type && ErrorCount() == errors_before) Required(a, p, "type", "Prometheus");
  if (!has_spec) {
    Required(a, p, "spec", "with query: a series selector");
    return std::nullopt;
  }
  if (bad_type) return std::nullopt;  // its query is not a selector
  std::optional<std::vector<Matcher>> selector;
  std::string spec_path = Join(p, "spec");
  WalkMap(spec, spec_at, spec_path,
          {{"query", [&](auto& x, auto& xa, auto& xp) {
              has_query = true;
              if (x.IsScalar() && x.Scalar().find('(') != std::string::npos) {
                Error(xa, fmt::format("{}: {} is not supported: only series selectors (as in "
                                      "http_requests_total{{code!~\"5..\"}}); nines sums the "
                                      "matching counters per region itself, without PromQL "
                                      "functions",
                                      xp, Quote(x.Scalar())));
                return;
              }
              selector = Selector(x, xa, xp, true);
            }}});
  if (!has_query && spec.IsMap()) Required(spec_at, spec_path, "query", "a series selector");
  return selector;
}

std::optional<slo::BurnRateRule> FileParser::ParseAlertConditionSpec(const YAML::Node& node,
                                                                     const YAML::Mark& at,
                                                                     const std::string& path) {
  const size_t before = ErrorCount();
  slo::BurnRateRule rule;
  rule.budget_fraction = 0;
  bool has_severity = false, has_condition = false;
  if (!WalkMap(node, at, path,
               {
                   {"description", [&](auto& v, auto& a, auto& p) { Scalar(v, a, p, "a string"); }},
                   {"severity",
                    [&](auto& v, auto& a, auto& p) {
                      has_severity = true;
                      if (auto s = Severity(v, a, p)) rule.severity = *s;
                    }},
                   {"condition",
                    [&](auto& v, auto& a, auto& p) {
                      has_condition = true;
                      ParseBurnRateCondition(v, a, p, &rule);
                    }},
               })) {
    return std::nullopt;
  }
  if (!has_severity) Required(at, path, "severity", "page or ticket");
  if (!has_condition) Required(at, path, "condition", "");
  if (ErrorCount() != before) return std::nullopt;
  return rule;
}

void FileParser::ParseBurnRateCondition(const YAML::Node& v, const YAML::Mark& a,
                                        const std::string& p, slo::BurnRateRule* rule) {
  bool has_threshold = false, has_lookback = false;
  if (!WalkMap(v, a, p,
               {
                   {"kind",
                    [&](auto& x, auto& xa, auto& xp) {
                      auto s = String(x, xa, xp);
                      if (s && *s != "burnrate") {
                        Error(xa, fmt::format("{}: {} is not supported (nines supports burnrate)",
                                              xp, Quote(*s)));
                      }
                    }},
                   {"threshold",
                    [&](auto& x, auto& xa, auto& xp) {
                      has_threshold = true;
                      std::optional<double> d = Number(x, xa, xp);
                      if (d && !(*d > 0)) {
                        Error(xa, fmt::format("{}: must be greater than 0", xp));
                        return;
                      }
                      if (d) rule->factor = *d;
                    }},
                   {"lookbackWindow",
                    [&](auto& x, auto& xa, auto& xp) {
                      has_lookback = true;
                      std::optional<Duration> d = WholeMinutes(x, xa, xp, Duration::Minutes(2));
                      if (!d) return;
                      rule->long_window = *d;
                      // The Workbook's short windows are 1/12 of the long ones.
                      Duration s = *d / 12;
                      s = s - s % Duration::Minutes(1);
                      rule->short_window = std::max(s, Duration::Minutes(1));
                    }},
                   {"alertAfter",
                    [&](auto& x, auto& xa, auto& xp) {
                      auto d = DurationAtLeast(x, xa, xp, Duration::Zero());
                      if (d && *d != Duration::Zero()) {
                        Error(xa, fmt::format("{}: {} is not supported: nines burn-rate alerts "
                                              "fire as soon as both the lookback window and its "
                                              "short window (1/12 of it) burn; use 0m",
                                              xp, x.Scalar()));
                      }
                    }},
               })) {
    return;
  }
  if (!has_threshold) Required(a, p, "threshold", "the burn rate, as in 14.4");
  if (!has_lookback) Required(a, p, "lookbackWindow", "as in \"1h\"");
}

std::optional<std::vector<slo::BurnRateRule>> FileParser::ParseAlertPolicySpec(
    const YAML::Node& node, const YAML::Mark& at, const std::string& path) {
  const size_t before = ErrorCount();
  std::vector<slo::BurnRateRule> rules;
  bool has_conditions = false;
  auto must_be = [&](bool want, std::string_view why) {
    return [this, want, why](auto& v, auto& a, auto& p) {
      auto b = Bool(v, a, p);
      if (b && *b != want) Error(a, fmt::format("{}: {} is not supported ({})", p, *b, why));
    };
  };
  if (!WalkMap(
          node, at, path,
          {
              {"description", [&](auto& v, auto& a, auto& p) { Scalar(v, a, p, "a string"); }},
              {"alertWhenBreaching",
               must_be(true, "an alert policy alerts when its conditions breach")},
              {"alertWhenResolved", must_be(true, "nines always sends an alert's resolution")},
              {"alertWhenNoData", must_be(true, "nines raises no-data alerts for every SLO")},
              {"conditions",
               [&](auto& v, auto& a, auto& p) {
                 has_conditions = true;
                 WalkList(v, a, p,
                          [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip,
                              size_t) {
                            if (auto ref = Peek(item, "conditionRef")) {
                              WalkMap(item, ia, ip,
                                      {{"conditionRef", [&](auto& x, auto& xa, auto& xp) {
                                          if (const OsloObject* o = Lookup(
                                                  shared_.conditions, "AlertCondition", x, xa, xp);
                                              o && o->ok) {
                                            rules.insert(rules.end(), o->rules.begin(),
                                                         o->rules.end());
                                          }
                                        }}});
                              return;
                            }
                            InlineObject(item, ia, ip, "AlertCondition",
                                         [&](auto& s, auto& sa, auto& sp) {
                                           if (auto r = ParseAlertConditionSpec(s, sa, sp)) {
                                             rules.push_back(*r);
                                           }
                                         });
                          });
               }},
              {"notificationTargets",
               [&](auto& v, auto& a, auto& p) {
                 if (v.IsNull() || (v.IsSequence() && v.size() == 0)) return;
                 Error(a, fmt::format("{}: notification targets are not supported (nines routes "
                                      "alerts by their labels in its alerting configuration); "
                                      "remove them or leave the list empty",
                                      p));
               }},
          })) {
    return std::nullopt;
  }
  if (!has_conditions) Required(at, path, "conditions", "");
  if (ErrorCount() != before) return std::nullopt;
  return rules;
}

void FileParser::ParseTimeWindow(const YAML::Node& node, const YAML::Mark& at,
                                 const std::string& path, slo::Window* window) {
  if (node.IsSequence() && node.size() != 1) {
    Error(at, fmt::format("{}: exactly one time window is supported, got {}", path, node.size()));
    return;
  }
  WalkList(node, at, path,
           [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
             ParseTimeWindowItem(item, ia, ip, window);
           });
}

// Long, and reads best whole: the walk fills seven locals (the duration, its mark and text,
// isRolling, calendar, time zone, start) that the checks after it read; split, each would
// become a parameter.
void FileParser::ParseTimeWindowItem(const YAML::Node& item, const YAML::Mark& ia,
                                     const std::string& ip, slo::Window* window) {
  const size_t before = ErrorCount();
  std::optional<Shorthand> duration;
  YAML::Mark duration_at = ia;
  std::string duration_text;
  std::optional<bool> rolling;
  bool has_calendar = false;
  std::string tz = "UTC";
  std::optional<std::pair<std::string, YAML::Mark>> start;
  if (!WalkMap(item, ia, ip,
               {
                   {"duration",
                    [&](auto& v, auto& a, auto& p) {
                      duration_at = a;
                      auto s = String(v, a, p);
                      if (!s) return;
                      duration_text = *s;
                      duration = ParseShorthand(*s);
                      if (!duration) {
                        Error(a, fmt::format("{}: invalid duration {} (want a number and one of "
                                             "m, h, d, w, M, Q, Y, as in \"28d\" or \"1M\")",
                                             p, Quote(*s)));
                      }
                    }},
                   {"isRolling", [&](auto& v, auto& a, auto& p) { rolling = Bool(v, a, p); }},
                   {"calendar",
                    [&](auto& v, auto& a, auto& p) {
                      has_calendar = true;
                      WalkMap(v, a, p,
                              {
                                  {"startTime",
                                   [&](auto& x, auto& xa, auto& xp) {
                                     if (auto s = String(x, xa, xp)) start.emplace(*s, xa);
                                   }},
                                  {"timeZone",
                                   [&](auto& x, auto& xa, auto& xp) {
                                     auto s = String(x, xa, xp);
                                     if (s && CheckTimeZone(*s, xa, xp)) tz = *s;
                                   }},
                              });
                    }},
               })) {
    return;
  }
  if (!duration && ErrorCount() == before) Required(ia, ip, "duration", "as in \"28d\"");
  if (ErrorCount() != before) return;
  bool is_rolling = rolling.value_or(!has_calendar);
  if (is_rolling && has_calendar) {
    Error(ia, fmt::format("{}: isRolling: true and calendar contradict each other", ip));
    return;
  }
  std::string dpath = Join(ip, "duration");
  if (is_rolling) {
    if (std::string_view("MQY").find(duration->unit) != std::string_view::npos) {
      Error(duration_at, fmt::format("{}: a rolling window needs a fixed length, and {} has none; "
                                     "use days, as in \"30d\"",
                                     dpath, Quote(duration_text)));
      return;
    }
    YAML::Node d(duration_text);
    if (auto w = WholeMinutes(d, duration_at, dpath, Duration::Hours(1))) {
      *window = slo::Window::Rolling(*w);
    }
    return;
  }
  if (!has_calendar) {
    Error(ia, fmt::format("{}: a calendar window (isRolling: false) needs calendar: "
                          "{{startTime, timeZone}}",
                          ip));
    return;
  }
  std::optional<slo::CalendarUnit> unit = CalendarUnitOf(*duration);
  if (!unit) {
    Error(duration_at, fmt::format("{}: calendar window {} is not supported (nines supports 1w "
                                   "from Monday, 1M and 1Q)",
                                   dpath, Quote(duration_text)));
    return;
  }
  if (start && !CheckCalendarStart(start->first, start->second, ip, *unit)) return;
  *window = slo::Window::Calendar(*unit, tz);
}

bool FileParser::CheckCalendarStart(const std::string& t, const YAML::Mark& at,
                                    const std::string& ip, slo::CalendarUnit unit) {
  // "2022-01-01 00:00:00" (or with a T): it must start a period of `unit`.
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char sep = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s) != 7 ||
      (sep != ' ' && sep != 'T') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      s > 59) {
    Error(at, fmt::format("{}.calendar.startTime: invalid time {} (want \"2024-01-01 00:00:00\")",
                          ip, Quote(t)));
    return false;
  }
  const int64_t days = core::DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int weekday = static_cast<int>(((days % 7) + 10) % 7);  // 0 = Monday (1970-01-01: Thu)
  bool midnight = h == 0 && mi == 0 && s == 0;
  bool aligned = midnight && (unit == slo::CalendarUnit::kWeek    ? weekday == 0
                              : unit == slo::CalendarUnit::kMonth ? d == 1
                                                                  : d == 1 && mo % 3 == 1);
  if (aligned) return true;
  Error(at, fmt::format("{}.calendar.startTime: {} does not start a calendar {}: nines aligns "
                        "windows to {}",
                        ip, Quote(t), slo::CalendarUnitName(unit),
                        unit == slo::CalendarUnit::kWeek    ? "weeks from Monday 00:00"
                        : unit == slo::CalendarUnit::kMonth ? "the 1st of each month, 00:00"
                                                            : "quarters (Jan, Apr, Jul, Oct 1st, "
                                                              "00:00)"));
  return false;
}

}  // namespace nines::app::internal
