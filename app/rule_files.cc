// Rule files: nines' own format and OpenSLO v1, parsed into rules::RuleSet.
//
// ## nines' format
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
//
// ## OpenSLO v1
// Documents with `apiVersion: openslo/v1` (one per YAML document, or a YAML list of them),
// kinds SLO, SLI, AlertPolicy, AlertCondition and Service. References (indicatorRef,
// alertPolicies by name, conditionRef) resolve across every file loaded together. Mapping:
//  - SLO: metadata.name -> name, metadata.labels -> labels (one value per key),
//    metadata.displayName -> description when spec.description is empty, spec.service,
//    spec.indicator or spec.indicatorRef -> the SLI, budgetingMethod Occurrences | Timeslices,
//    timeWindow (exactly one): rolling {duration: 28d, isRolling: true} (m h d w; M Q Y have no
//    fixed length), or calendar {duration: 1w | 1M | 1Q, calendar: {startTime, timeZone}} ->
//    week from Monday / month / quarter (startTime must lie on such a boundary); no timeWindow:
//    the config's default window. objectives: exactly one; target (0..1) or targetPercent;
//    timeSliceTarget; timeSliceWindow must be 1m. alertPolicies: names, {alertPolicyRef: name}
//    or inline policies; their burn-rate conditions replace the Workbook defaults.
//  - SLI: ratioMetric {counter: true, good | bad, total} whose metricSource is `type:
//    Prometheus` with `spec.query` a plain series selector -> request_ratio; thresholdMetric
//    (the same kind of source) with the objective's `op: lte` and `value` -> latency from
//    observations (each sample is an event, good when <= value).
//  - AlertCondition: severity page | ticket, condition {kind: burnrate, threshold (the factor),
//    lookbackWindow (the long window; the short window is 1/12 of it, as in the Workbook),
//    alertAfter 0}.
//  - AlertPolicy: conditions (refs or inline); alertWhenBreaching must be true;
//    alertWhenResolved and alertWhenNoData cannot be turned off (nines always sends
//    resolutions and raises no-data alerts).
//  - Service: accepted, no effect (spec.service of an SLO is a plain name).
//  - metadata.annotations: accepted on every kind and not used (tool-specific by definition).
// Everything else (DataSource and metricSourceRef, AlertNotificationTarget and
// notificationTargets, raw ratios, non-Prometheus sources, PromQL functions, several
// objectives, several time windows, ...) is an error saying what is not supported.
#include "app/rule_files.h"

#include <fmt/ranges.h>
#include <glob.h>

#include <algorithm>
#include <memory>
#include <set>

#include "app/yaml_reader.h"
#include "store/store.h"

namespace nines::app {
namespace {

using rules::RuleSet;
using rules::SliSource;
using rules::SloRule;
using rules::ThresholdRule;
using store::Matcher;

bool IsValidSloName(std::string_view name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// An alert name has a label name's syntax (it becomes the value of `alertname`, but Prometheus
// rule files hold it to this).
bool IsValidAlertName(std::string_view name) { return core::IsValidLabelName(name); }

// A number as text, exactly (no YAML-level conversion): nullopt when it is not one.
std::optional<double> ParseNumber(std::string_view s) {
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

// An SLI as an OpenSLO SLI document (or inline indicator) defines it.
struct Indicator {
  slo::SliKind kind = slo::SliKind::kRequestRatio;
  SliSource source;
  bool threshold_metric = false;  // the SLO's objective supplies op and value
};

// An OpenSLO object other than an SLO, converted once and referenced by name.
struct OsloObject {
  std::string file;
  int line = 0;
  bool ok = false;
  Indicator indicator;                   // kind SLI
  std::vector<slo::BurnRateRule> rules;  // kinds AlertCondition (one) and AlertPolicy
};

class FileParser;

// Everything parsed so far from all files.
struct Shared {
  explicit Shared(const RuleFileDefaults& d) : defaults(d) {}
  const RuleFileDefaults& defaults;

  struct SloCandidate {
    SloRule rule;
    FileParser* parser;
    YAML::Mark name_at;
    std::string path;
    size_t file_index;
  };
  struct AlertCandidate {
    ThresholdRule rule;
    FileParser* parser;
    YAML::Mark name_at;
    std::string path;
    size_t file_index;
  };
  std::vector<SloCandidate> slos;
  std::vector<AlertCandidate> alerts;

  // OpenSLO documents by kind, converted in dependency order: AlertCondition, AlertPolicy, SLI,
  // then SLO.
  struct Doc {
    FileParser* parser = nullptr;
    size_t file_index = 0;
    std::string kind;
    std::string name;
    YAML::Mark at;  // of metadata.name
    std::string display_name;
    core::Labels labels;
    YAML::Node metadata;
    YAML::Mark metadata_at;
    YAML::Node spec;
    YAML::Mark spec_at;
  };
  std::vector<Doc> docs;
  std::map<std::string, OsloObject, std::less<>> conditions, policies, slis;
};

constexpr std::string_view kOpenSloVersion = "openslo/v1";

class FileParser : public YamlReader {
 public:
  FileParser(std::string file, std::string text, size_t index, Shared* shared)
      : YamlReader(std::move(file), fs::path()),
        text_(std::move(text)),
        index_(index),
        shared_(*shared) {}

  const std::string& file() const { return file_; }

  // Phase 1: every document of the file. Native documents are converted; OpenSLO documents are
  // checked up to their metadata and registered for phase 2.
  void ParseAll() {
    try {
      std::vector<YAML::Node> docs = LoadYamlDocuments(text_);
      for (const YAML::Node& doc : docs) ParseDocumentRoot(doc);
    } catch (const YAML::ParserException& e) {
      Error(e.mark, "syntax error: " + e.msg);
    } catch (const YAML::Exception& e) {
      Error(e.mark, "internal error while reading YAML: " + e.msg);
    } catch (const std::exception& e) {
      Error(YAML::Mark::null_mark(), std::string("internal error: ") + e.what());
    }
  }

  // Phase 2, per kind.
  void ConvertCondition(const Shared::Doc& doc, OsloObject* out);
  void ConvertPolicy(const Shared::Doc& doc, OsloObject* out);
  void ConvertSli(const Shared::Doc& doc, OsloObject* out);
  void ConvertSlo(const Shared::Doc& doc);

  // Phase 2 must not throw either: yaml-cpp may, on a malformed tree.
  template <typename F>
  void Guard(F&& f) {
    try {
      f();
    } catch (const YAML::Exception& e) {
      Error(e.mark, "internal error while reading YAML: " + e.msg);
    } catch (const std::exception& e) {
      Error(YAML::Mark::null_mark(), std::string("internal error: ") + e.what());
    }
  }

 private:
  size_t ErrorCount() const { return errors_.size(); }

  // The value of `key` in mapping `node` and where it is, if present.
  static std::optional<std::pair<YAML::Node, YAML::Mark>> Peek(const YAML::Node& node,
                                                               std::string_view key) {
    if (!node.IsMap()) return std::nullopt;
    for (auto it = node.begin(); it != node.end(); ++it) {
      YAML::Node k = it->first;
      YAML::Node v = it->second;
      if (k.IsScalar() && k.Scalar() == key) return std::make_pair(v, PositionOf(k, v));
    }
    return std::nullopt;
  }

  void ParseDocumentRoot(const YAML::Node& root) {
    if (root.IsNull()) return;
    if (root.IsSequence()) {
      // OpenSLO objects as a YAML list, as OpenSLO's own examples have them.
      WalkList(root, root.Mark(), "",
               [&](const YAML::Node& item, const YAML::Mark& at, const std::string& path, size_t) {
                 if (!Peek(item, "apiVersion")) {
                   Error(at,
                         fmt::format("{}: expected an OpenSLO object (with apiVersion: {}), got {}",
                                     path, kOpenSloVersion, Describe(item)));
                   return;
                 }
                 ParseOpenSlo(item, at, path);
               });
      return;
    }
    if (!root.IsMap()) {
      Error(root.Mark(),
            fmt::format("top level: expected a mapping with slos: and alerts:, or an OpenSLO "
                        "document, got {}",
                        Describe(root)));
      return;
    }
    if (Peek(root, "apiVersion")) {
      ParseOpenSlo(root, root.Mark(), "");
      return;
    }
    WalkMap(root, root.Mark(), "",
            {
                {"slos",
                 [&](auto& v, auto& at, auto& p) {
                   WalkList(v, at, p,
                            [&](const YAML::Node& item, const YAML::Mark& item_at,
                                const std::string& item_path,
                                size_t) { ParseSlo(item, item_at, item_path); });
                 }},
                {"alerts",
                 [&](auto& v, auto& at, auto& p) {
                   WalkList(v, at, p,
                            [&](const YAML::Node& item, const YAML::Mark& item_at,
                                const std::string& item_path,
                                size_t) { ParseAlert(item, item_at, item_path); });
                 }},
            });
  }

  // ---- scalar helpers ----

  template <typename E>
  std::optional<E> Enum(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                        std::string_view noun,
                        const std::vector<std::pair<std::string_view, E>>& values) {
    std::optional<std::string> s = String(v, at, path);
    if (!s) return std::nullopt;
    std::vector<std::string_view> names;
    for (const auto& [name, value] : values) {
      if (name == *s) return value;
      names.push_back(name);
    }
    std::string_view suggestion = Suggest(*s, names);
    Error(at, suggestion.empty()
                  ? fmt::format("{}: invalid {} {} (want {})", path, noun, Quote(*s), JoinOr(names))
                  : fmt::format("{}: invalid {} {} (did you mean {}?)", path, noun, Quote(*s),
                                Quote(suggestion)));
    return std::nullopt;
  }

  // A number, or a duration taken in seconds ("300ms" is 0.3).
  std::optional<double> Seconds(const YAML::Node& v, const YAML::Mark& at,
                                const std::string& path) {
    std::optional<std::string> s = Scalar(v, at, path, "a number or a duration");
    if (!s) return std::nullopt;
    if (std::optional<double> d = ParseNumber(*s)) return d;
    core::Result<Duration> d = core::ParseDuration(*s);
    if (!d.ok()) {
      Error(at, fmt::format("{}: expected a number (seconds) or a duration (as in \"300ms\"), "
                            "got {}",
                            path, Quote(*s)));
      return std::nullopt;
    }
    return d->SecondsDouble();
  }

  // A percentage objective, 0 < x < 100.
  std::optional<double> Objective(const YAML::Node& v, const YAML::Mark& at,
                                  const std::string& path) {
    std::optional<double> d = Number(v, at, path);
    if (!d) return std::nullopt;
    if (!(*d > 0 && *d < 100)) {
      Error(at, fmt::format("{}: {} is out of range: the objective is a percentage greater than "
                            "0 and less than 100, as in 99.9",
                            path, v.Scalar()));
      return std::nullopt;
    }
    return d;
  }

  // A ratio in [0, 1].
  std::optional<double> Ratio(const YAML::Node& v, const YAML::Mark& at, const std::string& path) {
    std::optional<double> d = Number(v, at, path);
    if (!d) return std::nullopt;
    if (!(*d >= 0 && *d <= 1)) {
      Error(at, fmt::format("{}: {} is out of range (a ratio from 0 to 1, as in 0.95)", path,
                            v.Scalar()));
      return std::nullopt;
    }
    return d;
  }

  std::optional<Duration> WholeMinutes(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path, Duration min) {
    std::optional<Duration> d = DurationAtLeast(v, at, path, min);
    if (d && *d % Duration::Minutes(1) != Duration::Zero()) {
      Error(at, fmt::format("{}: {} is not a whole number of minutes", path, v.Scalar()));
      return std::nullopt;
    }
    return d;
  }

  // Where column `col` (1-based, of the decoded string) of the scalar at `at` is in the file.
  // Falls back to the scalar's own position for block scalars and multi-line values.
  YAML::Mark ColumnIn(const YAML::Mark& at, int col) const {
    if (at.is_null() || at.pos < 0 || static_cast<size_t>(at.pos) >= text_.size() || col < 1) {
      return at;
    }
    size_t p = static_cast<size_t>(at.pos);
    char quote = text_[p];
    if (quote == '|' || quote == '>') return at;
    size_t q = (quote == '\'' || quote == '"') ? p + 1 : p;
    for (int i = 1; i < col; ++i) {
      if (q >= text_.size() || text_[q] == '\n') return at;
      if (quote == '\'' && text_[q] == '\'' && q + 1 < text_.size() && text_[q + 1] == '\'') {
        q += 2;
      } else if (quote == '"' && text_[q] == '\\') {
        q += 2;
      } else {
        ++q;
      }
    }
    YAML::Mark m = at;
    m.column = at.column + static_cast<int>(q - p);
    m.pos = static_cast<int>(q);
    return m;
  }

  // A PromQL series selector. `need_name`: it must name a metric.
  std::optional<std::vector<Matcher>> Selector(const YAML::Node& v, const YAML::Mark& at,
                                               const std::string& path, bool need_name) {
    std::optional<std::string> s = String(v, at, path);
    if (!s) return std::nullopt;
    core::Result<std::vector<Matcher>> m = store::ParseSelector(*s);
    if (!m.ok()) {
      // "invalid selector <text>: col N: what": report `what` at column N of the value.
      std::string msg = m.status().message();
      size_t c = msg.find(": col ");
      int col = 0;
      std::string what = msg;
      if (c != std::string::npos) {
        size_t num = c + 6;
        size_t end = msg.find(": ", num);
        if (end != std::string::npos &&
            std::from_chars(msg.data() + num, msg.data() + end, col).ec == std::errc()) {
          what = msg.substr(end + 2);
        }
      }
      Error(col > 0 ? ColumnIn(at, col) : at,
            fmt::format("{}: invalid selector {}: {}", path, Quote(*s), what));
      return std::nullopt;
    }
    if (need_name && std::none_of(m->begin(), m->end(), [](const Matcher& x) {
          return x.name() == core::kMetricNameLabel;
        })) {
      Error(at, fmt::format("{}: selector {} names no metric (write it as name{{...}})", path,
                            Quote(*s)));
      return std::nullopt;
    }
    return *m;
  }

  // A mapping of strings to strings.
  std::vector<std::pair<std::string, std::string>> StringMap(
      const YAML::Node& v, const YAML::Mark& at, const std::string& path,
      const std::function<bool(const std::string& key, const YAML::Mark& key_at)>& check_key) {
    std::vector<std::pair<std::string, std::string>> out;
    if (v.IsNull()) return out;
    if (!v.IsMap()) {
      Error(at, fmt::format("{}: expected a mapping, got {}", path, Describe(v)));
      return out;
    }
    std::set<std::string> seen;
    for (auto it = v.begin(); it != v.end(); ++it) {
      YAML::Node key = it->first;
      YAML::Node value = it->second;
      if (!key.IsScalar()) {
        Error(key.Mark(), fmt::format("{}: keys must be strings, got {}", path, Describe(key)));
        continue;
      }
      std::string item_path = Join(path, key.Scalar());
      if (!seen.insert(key.Scalar()).second) {
        Error(key.Mark(), fmt::format("{}: duplicate key {}", path, Quote(key.Scalar())));
        continue;
      }
      if (!check_key(key.Scalar(), key.Mark())) continue;
      std::optional<std::string> s = Scalar(value, PositionOf(key, value), item_path, "a string");
      if (s) out.emplace_back(key.Scalar(), *s);
    }
    return out;
  }

  // Labels for alerts: valid label names, none of `reserved`. With `allow_lists` (OpenSLO), a
  // value may also be a list of exactly one string.
  std::optional<core::Labels> LabelMap(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path,
                                       const std::vector<std::string_view>& reserved,
                                       std::string_view reserved_why, bool allow_lists = false) {
    if (v.IsNull()) return core::Labels();
    if (!v.IsMap()) {
      Error(at, fmt::format("{}: expected a mapping, got {}", path, Describe(v)));
      return std::nullopt;
    }
    const size_t before = ErrorCount();
    std::vector<core::Label> labels;
    std::set<std::string> seen;
    for (auto it = v.begin(); it != v.end(); ++it) {
      YAML::Node key = it->first;
      YAML::Node value = it->second;
      if (!key.IsScalar()) {
        Error(key.Mark(), fmt::format("{}: keys must be strings, got {}", path, Describe(key)));
        continue;
      }
      const std::string& name = key.Scalar();
      if (!seen.insert(name).second) {
        Error(key.Mark(), fmt::format("{}: duplicate label {}", path, Quote(name)));
        continue;
      }
      if (!core::IsValidLabelName(name) || name.starts_with("__")) {
        Error(key.Mark(), fmt::format("{}: invalid label name {} (want [a-zA-Z_][a-zA-Z0-9_]*, "
                                      "not starting with \"__\")",
                                      path, Quote(name)));
        continue;
      }
      if (std::find(reserved.begin(), reserved.end(), name) != reserved.end()) {
        Error(key.Mark(), fmt::format("{}: label {} is {}", path, Quote(name), reserved_why));
        continue;
      }
      std::string item_path = Join(path, name);
      YAML::Node scalar = value;
      if (allow_lists && value.IsSequence()) {
        if (value.size() != 1) {
          Error(PositionOf(key, value),
                fmt::format("{}: {} values; nines supports one value per label", item_path,
                            value.size()));
          continue;
        }
        scalar = value[0];
      }
      if (auto s = Scalar(scalar, PositionOf(key, scalar), item_path, "a string")) {
        labels.push_back({name, *s});
      }
    }
    if (ErrorCount() != before) return std::nullopt;
    core::Result<core::Labels> l = core::Labels::FromPairs(std::move(labels));
    if (!l.ok()) {
      Error(at, fmt::format("{}: {}", path, l.status().message()));
      return std::nullopt;
    }
    return *l;
  }

  // ---- nines' format ----

  void CheckRegionName(const std::string& region, const YAML::Mark& at, const std::string& path) {
    if (!IsValidRegionName(region)) {
      Error(at, fmt::format("{}: invalid region name {}: use lower-case letters, digits and '-', "
                            "as in \"eu-west-1\"",
                            path, Quote(region)));
      return;
    }
    const std::vector<std::string>& known = shared_.defaults.regions;
    if (!known.empty() && std::find(known.begin(), known.end(), region) == known.end()) {
      std::vector<std::string_view> names(known.begin(), known.end());
      std::string_view suggestion = Suggest(region, names);
      Error(at, suggestion.empty() ? fmt::format("{}: unknown region {} (the config declares {})",
                                                 path, Quote(region), JoinOr(names))
                                   : fmt::format("{}: unknown region {} (did you mean {}?)", path,
                                                 Quote(region), Quote(suggestion)));
    }
  }

  void ParseWindow(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
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

  bool CheckTimeZone(const std::string& tz, const YAML::Mark& at, const std::string& path) {
    auto period = slo::CalendarPeriod(slo::CalendarUnit::kWeek, tz, core::Timestamp());
    if (!period.ok()) {
      Error(at, fmt::format("{}: unknown time zone {} (want an IANA name, as in "
                            "\"Europe/Berlin\")",
                            path, Quote(tz)));
      return false;
    }
    return true;
  }

  void ParseSlo(const YAML::Node& item, const YAML::Mark& at, const std::string& path) {
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
    bool is_map = WalkMap(
        item, at, path,
        {
            {"name",
             [&](auto& v, auto& a, auto& p) {
               has_name = true;
               name_at = a;
               std::optional<std::string> s = String(v, a, p);
               if (!s) return;
               if (!IsValidSloName(*s)) {
                 Error(a, fmt::format("{}: invalid SLO name {}: use letters, digits, '-', '_' "
                                      "and '.', starting with a letter or digit",
                                      p, Quote(*s)));
                 return;
               }
               spec.name = *s;
             }},
            {"service",
             [&](auto& v, auto& a, auto& p) {
               if (auto s = String(v, a, p)) spec.service = *s;
             }},
            {"description",
             [&](auto& v, auto& a, auto& p) {
               if (auto s = Scalar(v, a, p, "a string")) spec.description = *s;
             }},
            {"objective",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = Objective(v, a, p)) spec.objective = *d;
             }},
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
               StringList(v, a, p, &spec.regions, "region");
               if (!v.IsSequence()) return;
               WalkList(
                   v, a, p,
                   [&](const YAML::Node& r, const YAML::Mark& ra, const std::string& rp, size_t) {
                     if (r.IsScalar() && !r.Scalar().empty()) CheckRegionName(r.Scalar(), ra, rp);
                   });
             }},
            {"labels",
             [&](auto& v, auto& a, auto& p) {
               if (auto l = LabelMap(v, a, p, {"alertname", "slo", "region", "severity", "service"},
                                     "set by nines on the SLO's alerts")) {
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
            {"alerting",
             [&](auto& v, auto& a, auto& p) { ParseAlerting(v, a, p, &spec.alerting); }},
        });
    if (!is_map) return;
    if (item.IsNull()) {
      Error(at, fmt::format("{}: expected a mapping, got an empty value", path));
      return;
    }
    if (!has_name) Error(at, fmt::format("{}: missing required field \"name\"", path));
    if (!has_sli) {
      Error(at, fmt::format("{}: missing required field \"sli\" (one of probe_availability, "
                            "latency, request_ratio or freshness)",
                            path));
    }
    if (slice_target_at && spec.method != slo::BudgetingMethod::kTimeslices) {
      Error(*slice_target_at,
            fmt::format("{}.timeslice_target: applies only to budgeting: timeslices", path));
    }
    AddSlo(std::move(rule), at, name_at, path, before);
  }

  // Validates a converted SLO and queues it for the duplicate check.
  void AddSlo(SloRule rule, const YAML::Mark& at, const YAML::Mark& name_at,
              const std::string& path, size_t errors_before) {
    if (ErrorCount() != errors_before) return;
    if (core::Status s = slo::ValidateSlo(rule.spec); !s.ok()) {
      Error(at, fmt::format("{}: {}", path, s.message()));
      return;
    }
    shared_.slos.push_back({std::move(rule), this, name_at, path, index_});
  }

  void ParseSli(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
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
                                                 if (auto n = Int(x, xa, xp, 0, 1000)) {
                                                   spec->quorum = static_cast<int>(*n);
                                                 }
                                               }},
                                          })) {
                               return;
                             }
                             if (!has_selector)
                               Required(a, p, "selector", "as in '{probe=\"api-eu\"}'");
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
                             bool has_selector = false, has_max_age = false;
                             if (!WalkMap(v, a, p,
                                          {
                                              {"selector",
                                               [&](auto& x, auto& xa, auto& xp) {
                                                 has_selector = true;
                                                 if (auto m = Selector(x, xa, xp, true))
                                                   source->selector = *m;
                                               }},
                                              {"max_age",
                                               [&](auto& x, auto& xa, auto& xp) {
                                                 has_max_age = true;
                                                 if (auto d = PositiveDuration(x, xa, xp))
                                                   source->max_age = *d;
                                               }},
                                          })) {
                               return;
                             }
                             if (!has_selector) {
                               Required(a, p, "selector",
                                        "a gauge holding the Unix time of the last success");
                             }
                             if (!has_max_age) Required(a, p, "max_age", "as in \"26h\"");
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

  void Required(const YAML::Mark& at, const std::string& path, std::string_view field,
                std::string_view hint) {
    Error(at, hint.empty()
                  ? fmt::format("{}: missing required field {}", path, Quote(field))
                  : fmt::format("{}: missing required field {} ({})", path, Quote(field), hint));
  }

  // probe_availability's selector: the metric is probe_success, implied when left out.
  void ProbeSelector(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
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
      m->insert(m->begin(), Matcher::Create(Matcher::Op::kEqual,
                                            std::string(core::kMetricNameLabel), "probe_success")
                                .value());
    }
    *out = std::move(*m);
  }

  void ParseLatency(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
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
    if (!histogram) return;
    // good = <name>_bucket{..., le="<threshold>"}, total = <name>_count{...}.
    std::string name;
    std::vector<Matcher> rest;
    for (const Matcher& m : *histogram) {
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
        Error(histogram_at, fmt::format("{}: give the histogram's base name, without {}",
                                        histogram_path, suffix));
        return;
      }
    }
    // Client libraries write le as "0.3" or "1" (Go) or "1.0" (Python): match both.
    std::string le = fmt::format("{}", *threshold);
    std::string le_regex;
    for (char c : le) {
      if (c == '.' || c == '+') le_regex += '\\';
      le_regex += c;
    }
    if (le.find_first_of(".e") == std::string::npos) le_regex += "(\\.0)?";
    auto with = [&](const std::string& metric, std::optional<Matcher> extra) {
      std::vector<Matcher> out;
      out.push_back(
          Matcher::Create(Matcher::Op::kEqual, std::string(core::kMetricNameLabel), metric)
              .value());
      out.insert(out.end(), rest.begin(), rest.end());
      if (extra) out.push_back(*extra);
      return out;
    };
    source->good =
        with(name + "_bucket", Matcher::Create(Matcher::Op::kRegexMatch, "le", le_regex).value());
    source->total = with(name + "_count", std::nullopt);
  }

  void ParseRequestRatio(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                         SliSource* source) {
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

  void ParseAlerting(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                     slo::AlertPolicy* policy) {
    WalkMap(node, at, path,
            {
                {"min_events",
                 [&](auto& v, auto& a, auto& p) {
                   if (auto n = Int(v, a, p, 0, 1'000'000'000)) policy->min_events = *n;
                 }},
                {"exhaustion_min_events",
                 [&](auto& v, auto& a, auto& p) {
                   if (auto n = Int(v, a, p, 0, 1'000'000'000)) policy->exhaustion_min_events = *n;
                 }},
                {"exhaustion_min_coverage",
                 [&](auto& v, auto& a, auto& p) {
                   if (auto d = Ratio(v, a, p)) policy->exhaustion_min_coverage = *d;
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

  std::optional<slo::BurnRateRule> ParseBurnRate(const YAML::Node& item, const YAML::Mark& at,
                                                 const std::string& path) {
    const size_t before = ErrorCount();
    slo::BurnRateRule rule;
    bool has_severity = false, has_long = false, has_short = false, has_fraction = false,
         has_factor = false;
    if (!WalkMap(item, at, path,
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
    if (item.IsNull()) {
      Error(at, fmt::format("{}: expected a mapping, got an empty value", path));
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

  std::optional<slo::Severity> Severity(const YAML::Node& v, const YAML::Mark& at,
                                        const std::string& path) {
    return Enum<slo::Severity>(
        v, at, path, "severity",
        {{"page", slo::Severity::kPage}, {"ticket", slo::Severity::kTicket}});
  }

  void ParseAlert(const YAML::Node& item, const YAML::Mark& at, const std::string& path) {
    const size_t before = ErrorCount();
    ThresholdRule rule;
    rule.file = file_;
    rule.line = at.line + 1;
    bool has_name = false, has_selector = false, has_op = false, has_threshold = false;
    YAML::Mark name_at = at;
    std::optional<std::pair<YAML::Node, YAML::Mark>> annotations;
    std::string annotations_path;
    bool is_map = WalkMap(
        item, at, path,
        {
            {"name",
             [&](auto& v, auto& a, auto& p) {
               has_name = true;
               name_at = a;
               std::optional<std::string> s = String(v, a, p);
               if (!s) return;
               if (!IsValidAlertName(*s)) {
                 Error(a, fmt::format("{}: invalid alert name {} (want [A-Za-z_][A-Za-z0-9_]*, "
                                      "as in \"CertificateExpiresSoon\")",
                                      p, Quote(*s)));
                 return;
               }
               rule.name = *s;
             }},
            {"selector",
             [&](auto& v, auto& a, auto& p) {
               has_selector = true;
               if (auto m = Selector(v, a, p, true)) rule.selector = *m;
             }},
            {"op",
             [&](auto& v, auto& a, auto& p) {
               has_op = true;
               using rules::Comparison;
               if (auto c = Enum<Comparison>(v, a, p, "comparison",
                                             {{"<", Comparison::kLess},
                                              {"<=", Comparison::kLessEqual},
                                              {"==", Comparison::kEqual},
                                              {"!=", Comparison::kNotEqual},
                                              {">=", Comparison::kGreaterEqual},
                                              {">", Comparison::kGreater}})) {
                 rule.op = *c;
               }
             }},
            {"threshold",
             [&](auto& v, auto& a, auto& p) {
               has_threshold = true;
               if (auto d = Seconds(v, a, p)) rule.threshold = *d;
             }},
            {"time_until",
             [&](auto& v, auto& a, auto& p) {
               if (auto b = Bool(v, a, p)) rule.time_until = *b;
             }},
            {"group_by",
             [&](auto& v, auto& a, auto& p) {
               StringList(v, a, p, &rule.group_by, "label");
               if (!v.IsSequence()) return;
               WalkList(
                   v, a, p,
                   [&](const YAML::Node& x, const YAML::Mark& xa, const std::string& xp, size_t) {
                     if (x.IsScalar() && !x.Scalar().empty() &&
                         !core::IsValidLabelName(x.Scalar())) {
                       Error(xa, fmt::format("{}: invalid label name {}", xp, Quote(x.Scalar())));
                     }
                   });
             }},
            {"min_count",
             [&](auto& v, auto& a, auto& p) {
               if (auto n = Int(v, a, p, 1, 1'000'000)) rule.min_count = *n;
             }},
            {"lookback",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = PositiveDuration(v, a, p)) rule.lookback = *d;
             }},
            {"for",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = DurationAtLeast(v, a, p, Duration::Zero())) rule.for_duration = *d;
             }},
            {"keep_firing_for",
             [&](auto& v, auto& a, auto& p) {
               if (auto d = DurationAtLeast(v, a, p, Duration::Zero())) {
                 rule.keep_firing_for = *d;
               }
             }},
            {"labels",
             [&](auto& v, auto& a, auto& p) {
               if (auto l = LabelMap(v, a, p, {"alertname"}, "set by nines (the rule's name)")) {
                 rule.labels = *l;
               }
             }},
            {"annotations",
             [&](auto& v, auto& a, auto& p) {
               annotations.emplace(v, a);
               annotations_path = p;
             }},
        });
    if (!is_map) return;
    if (item.IsNull()) {
      Error(at, fmt::format("{}: expected a mapping, got an empty value", path));
      return;
    }
    if (!has_name) Required(at, path, "name", "");
    if (!has_selector) Required(at, path, "selector", "the series to watch, as in probe_success");
    if (!has_op) Required(at, path, "op", "one of <, <=, ==, !=, >=, >");
    if (!has_threshold) Required(at, path, "threshold", "");
    if (annotations)
      ParseAnnotations(annotations->first, annotations->second, annotations_path, &rule);
    if (ErrorCount() != before) return;
    shared_.alerts.push_back({std::move(rule), this, name_at, path, index_});
  }

  // Annotations: strings whose {{ ... }} are $value or $labels.NAME, NAME being a label the
  // alert has (its group_by labels and its own labels; any label without group_by).
  void ParseAnnotations(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                        ThresholdRule* rule) {
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
              std::find(rule->group_by.begin(), rule->group_by.end(), name) !=
                  rule->group_by.end()) {
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

  // ---- OpenSLO ----

  void ParseOpenSlo(const YAML::Node& root, const YAML::Mark& at, const std::string& path) {
    if (!root.IsMap()) {
      Error(at, fmt::format("{}: expected an OpenSLO object, got {}",
                            path.empty() ? "top level" : path, Describe(root)));
      return;
    }
    Shared::Doc doc;
    doc.parser = this;
    doc.file_index = index_;
    doc.at = doc.metadata_at = doc.spec_at = at;
    bool version_ok = false, has_kind = false, has_metadata = false, has_spec = false;
    std::optional<YAML::Mark> kind_at;
    // The kind decides how spec is read, so read it first.
    if (auto k = Peek(root, "kind"); k && k->first.IsScalar()) doc.kind = k->first.Scalar();
    WalkMap(root, at, path,
            {
                {"apiVersion",
                 [&](auto& v, auto& a, auto& p) {
                   std::optional<std::string> s = String(v, a, p);
                   if (!s) return;
                   if (*s != kOpenSloVersion) {
                     Error(a, fmt::format("{}: {} is not supported (nines reads {})", p, Quote(*s),
                                          kOpenSloVersion));
                     return;
                   }
                   version_ok = true;
                 }},
                {"kind",
                 [&](auto& v, auto& a, auto& p) {
                   has_kind = true;
                   kind_at = a;
                   String(v, a, p);
                 }},
                {"metadata",
                 [&](auto& v, auto& a, auto&) {
                   has_metadata = true;
                   doc.metadata = v;
                   doc.metadata_at = a;
                 }},
                {"spec",
                 [&](auto& v, auto& a, auto&) {
                   has_spec = true;
                   doc.spec = v;
                   doc.spec_at = a;
                 }},
            });
    std::string where = path.empty() ? "top level" : path;
    if (!has_kind) {
      Error(at, fmt::format("{}: missing required field \"kind\" (SLO, SLI, AlertPolicy, "
                            "AlertCondition or Service)",
                            where));
      return;
    }
    if (doc.kind.empty()) return;  // reported by String()
    static const std::vector<std::string_view> kKinds = {"SLO", "SLI", "AlertPolicy",
                                                         "AlertCondition", "Service"};
    if (std::find(kKinds.begin(), kKinds.end(), doc.kind) == kKinds.end()) {
      std::string why;
      if (doc.kind == "DataSource") {
        why =
            "nines reads its own store: give an SLI's metricSource as type: Prometheus with a "
            "series selector";
      } else if (doc.kind == "AlertNotificationTarget") {
        why =
            "nines routes alerts by their labels (severity, slo, service) in its alerting "
            "configuration";
      } else {
        std::string_view suggestion = Suggest(doc.kind, kKinds);
        why = suggestion.empty() ? fmt::format("want {}", JoinOr(kKinds))
                                 : fmt::format("did you mean {}?", Quote(suggestion));
      }
      Error(*kind_at,
            fmt::format("{}: {} is not supported ({})", Join(path, "kind"), Quote(doc.kind), why));
      return;
    }
    if (!version_ok) return;
    if (!has_metadata) {
      Required(at, where, "metadata", "with name");
      return;
    }
    if (!has_spec) {
      Required(at, where, "spec", "");
      return;
    }
    std::optional<YAML::Mark> name_at;
    const bool is_slo = doc.kind == "SLO";
    ParseMetadata(doc.metadata, doc.metadata_at, Join(path, "metadata"), is_slo, &doc.name,
                  &name_at, &doc.display_name, is_slo ? &doc.labels : nullptr);
    if (doc.name.empty()) return;
    doc.at = *name_at;
    if (doc.kind == "Service") {
      WalkMap(doc.spec, doc.spec_at, Join(path, "spec"),
              {{"description", [&](auto& v, auto& a, auto& p) { Scalar(v, a, p, "a string"); }}});
      return;
    }
    shared_.docs.push_back(std::move(doc));
  }

  // metadata: name (REQUIRED), displayName, labels (SLO only; `labels_out` when non-null),
  // annotations (not used).
  void ParseMetadata(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                     bool labels_allowed, std::string* name, std::optional<YAML::Mark>* name_at,
                     std::string* display_name = nullptr, core::Labels* labels_out = nullptr) {
    bool has_name = false;
    if (!WalkMap(node, at, path,
                 {
                     {"name",
                      [&](auto& v, auto& a, auto& p) {
                        has_name = true;
                        std::optional<std::string> s = String(v, a, p);
                        if (!s) return;
                        if (!IsValidSloName(*s)) {
                          Error(a, fmt::format("{}: invalid name {}: use letters, digits, '-', "
                                               "'_' and '.', starting with a letter or digit",
                                               p, Quote(*s)));
                          return;
                        }
                        *name = *s;
                        *name_at = a;
                      }},
                     {"displayName",
                      [&](auto& v, auto& a, auto& p) {
                        auto s = Scalar(v, a, p, "a string");
                        if (s && display_name) *display_name = *s;
                      }},
                     {"labels",
                      [&](auto& v, auto& a, auto& p) {
                        if (!labels_allowed) {
                          Error(a, fmt::format("{}: labels are only supported on an SLO (nines "
                                               "adds an SLO's labels to its alerts)",
                                               p));
                          return;
                        }
                        if (!labels_out) return;
                        if (auto l = LabelMap(v, a, p,
                                              {"alertname", "slo", "region", "severity", "service"},
                                              "set by nines on the SLO's alerts", true)) {
                          *labels_out = *l;
                        }
                      }},
                     {"annotations",
                      [&](auto& v, auto& a, auto& p) {
                        StringMap(v, a, p,
                                  [](const std::string&, const YAML::Mark&) { return true; });
                      }},
                 })) {
      return;
    }
    if (!has_name) Required(at, path, "name", "");
  }

 public:
  // Shared helpers of phase 2.
  std::optional<Indicator> ParseSliSpec(const YAML::Node& node, const YAML::Mark& at,
                                        const std::string& path);
  std::optional<std::vector<Matcher>> MetricSource(const YAML::Node& node, const YAML::Mark& at,
                                                   const std::string& path);
  std::optional<std::vector<slo::BurnRateRule>> ParseAlertPolicySpec(const YAML::Node& node,
                                                                     const YAML::Mark& at,
                                                                     const std::string& path);
  std::optional<slo::BurnRateRule> ParseAlertConditionSpec(const YAML::Node& node,
                                                           const YAML::Mark& at,
                                                           const std::string& path);
  // An inline object ({kind, metadata, spec} with an optional apiVersion) in a parent; calls
  // `spec` with its spec.
  void InlineObject(
      const YAML::Node& node, const YAML::Mark& at, const std::string& path, std::string_view kind,
      const std::function<void(const YAML::Node&, const YAML::Mark&, const std::string&)>& spec);
  // A reference to an object of `kind` among `objects`: reports unknown names.
  const OsloObject* Lookup(const std::map<std::string, OsloObject, std::less<>>& objects,
                           std::string_view kind, const YAML::Node& v, const YAML::Mark& at,
                           const std::string& path);
  void ParseTimeWindow(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                       slo::Window* window);

 private:
  std::string text_;
  size_t index_;
  Shared& shared_;
};

// ---- OpenSLO, phase 2 ----

void FileParser::InlineObject(
    const YAML::Node& node, const YAML::Mark& at, const std::string& path, std::string_view kind,
    const std::function<void(const YAML::Node&, const YAML::Mark&, const std::string&)>& spec) {
  bool has_spec = false;
  YAML::Node spec_node;
  YAML::Mark spec_at = at;
  if (!WalkMap(node, at, path,
               {
                   {"apiVersion",
                    [&](auto& v, auto& a, auto& p) {
                      auto s = String(v, a, p);
                      if (s && *s != kOpenSloVersion) {
                        Error(a, fmt::format("{}: {} is not supported (nines reads {})", p,
                                             Quote(*s), kOpenSloVersion));
                      }
                    }},
                   {"kind",
                    [&](auto& v, auto& a, auto& p) {
                      auto s = String(v, a, p);
                      if (s && *s != kind) {
                        Error(a, fmt::format("{}: expected {}, got {}", p, kind, Quote(*s)));
                      }
                    }},
                   {"metadata",
                    [&](auto& v, auto& a, auto& p) {
                      std::string name;
                      std::optional<YAML::Mark> name_at;
                      ParseMetadata(v, a, p, false, &name, &name_at);
                    }},
                   {"spec",
                    [&](auto& v, auto& a, auto&) {
                      has_spec = true;
                      spec_node = v;
                      spec_at = a;
                    }},
               })) {
    return;
  }
  if (!has_spec) {
    Required(at, path, "spec", "");
    return;
  }
  spec(spec_node, spec_at, Join(path, "spec"));
}

const OsloObject* FileParser::Lookup(const std::map<std::string, OsloObject, std::less<>>& objects,
                                     std::string_view kind, const YAML::Node& v,
                                     const YAML::Mark& at, const std::string& path) {
  std::optional<std::string> name = String(v, at, path);
  if (!name) return nullptr;
  auto it = objects.find(*name);
  if (it != objects.end()) return &it->second;
  std::vector<std::string_view> names;
  for (const auto& [n, o] : objects) names.push_back(n);
  std::string_view suggestion = Suggest(*name, names);
  Error(at, suggestion.empty()
                ? fmt::format("{}: no {} named {} in the rule files", path, kind, Quote(*name))
                : fmt::format("{}: no {} named {} in the rule files (did you mean {}?)", path, kind,
                              Quote(*name), Quote(suggestion)));
  return nullptr;
}

std::optional<std::vector<Matcher>> FileParser::MetricSource(const YAML::Node& node,
                                                             const YAML::Mark& at,
                                                             const std::string& path) {
  const size_t before = ErrorCount();
  std::optional<std::vector<Matcher>> selector;
  bool has_source = false;
  WalkMap(node, at, path,
          {{"metricSource", [&](auto& v, auto& a, auto& p) {
              has_source = true;
              bool has_type = false, has_query = false, bad_type = false;
              YAML::Node spec;
              YAML::Mark spec_at = a;
              bool has_spec = false;
              if (!WalkMap(v, a, p,
                           {
                               {"metricSourceRef",
                                [&](auto&, auto& xa, auto& xp) {
                                  Error(xa, fmt::format("{}: DataSource references are not "
                                                        "supported (nines reads its own store); "
                                                        "use type: Prometheus",
                                                        xp));
                                }},
                               {"type",
                                [&](auto& x, auto& xa, auto& xp) {
                                  has_type = true;
                                  auto s = String(x, xa, xp);
                                  if (s && *s != "Prometheus" && *s != "prometheus") {
                                    bad_type = true;
                                    Error(xa, fmt::format("{}: metric source {} is not supported "
                                                          "(nines reads its own store through "
                                                          "Prometheus series selectors: use type: "
                                                          "Prometheus)",
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
                return;
              }
              if (!has_type && ErrorCount() == before) {
                Required(a, p, "type", "Prometheus");
              }
              if (!has_spec) {
                Required(a, p, "spec", "with query: a series selector");
                return;
              }
              if (bad_type) return;  // its query is not a selector
              std::string spec_path = Join(p, "spec");
              WalkMap(spec, spec_at, spec_path,
                      {{"query", [&](auto& x, auto& xa, auto& xp) {
                          has_query = true;
                          if (x.IsScalar() && x.Scalar().find('(') != std::string::npos) {
                            Error(xa, fmt::format("{}: {} is not supported: only series selectors "
                                                  "(as in http_requests_total{{code!~\"5..\"}}); "
                                                  "nines sums the matching counters per region "
                                                  "itself, without PromQL functions",
                                                  xp, Quote(x.Scalar())));
                            return;
                          }
                          selector = Selector(x, xa, xp, true);
                        }}});
              if (!has_query && spec.IsMap())
                Required(spec_at, spec_path, "query", "a series selector");
            }}});
  if (!has_source && node.IsMap()) Required(at, path, "metricSource", "");
  if (ErrorCount() != before) return std::nullopt;
  return selector;
}

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
                      bool has_good = false, has_bad = false, has_total = false;
                      if (!WalkMap(v, a, p,
                                   {
                                       {"counter",
                                        [&](auto& x, auto& xa, auto& xp) {
                                          auto b = Bool(x, xa, xp);
                                          if (b && !*b) {
                                            Error(xa, fmt::format(
                                                          "{}: only counters are supported (nines "
                                                          "counts events from counter increases)",
                                                          xp));
                                          }
                                        }},
                                       {"good",
                                        [&](auto& x, auto& xa, auto& xp) {
                                          has_good = true;
                                          if (auto m = MetricSource(x, xa, xp))
                                            ind.source.good = *m;
                                        }},
                                       {"bad",
                                        [&](auto& x, auto& xa, auto& xp) {
                                          has_bad = true;
                                          if (auto m = MetricSource(x, xa, xp)) ind.source.bad = *m;
                                        }},
                                       {"total",
                                        [&](auto& x, auto& xa, auto& xp) {
                                          has_total = true;
                                          if (auto m = MetricSource(x, xa, xp))
                                            ind.source.total = *m;
                                        }},
                                       {"raw",
                                        [&](auto&, auto& xa, auto& xp) {
                                          Error(xa,
                                                fmt::format("{}: precomputed ratios are not "
                                                            "supported (nines needs good or bad "
                                                            "and total counters to count events "
                                                            "exactly)",
                                                            xp));
                                        }},
                                       {"rawType",
                                        [&](auto&, auto& xa, auto& xp) {
                                          Error(xa, fmt::format("{}: precomputed ratios are not "
                                                                "supported",
                                                                xp));
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
                      bool has_threshold = false, has_lookback = false;
                      if (!WalkMap(
                              v, a, p,
                              {
                                  {"kind",
                                   [&](auto& x, auto& xa, auto& xp) {
                                     auto s = String(x, xa, xp);
                                     if (s && *s != "burnrate") {
                                       Error(xa, fmt::format("{}: {} is not supported (nines "
                                                             "supports burnrate)",
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
                                     if (d) rule.factor = *d;
                                   }},
                                  {"lookbackWindow",
                                   [&](auto& x, auto& xa, auto& xp) {
                                     has_lookback = true;
                                     std::optional<Duration> d =
                                         WholeMinutes(x, xa, xp, Duration::Minutes(2));
                                     if (!d) return;
                                     rule.long_window = *d;
                                     // The Workbook's short windows are 1/12 of the long ones.
                                     Duration s = *d / 12;
                                     s = s - s % Duration::Minutes(1);
                                     rule.short_window = std::max(s, Duration::Minutes(1));
                                   }},
                                  {"alertAfter",
                                   [&](auto& x, auto& xa, auto& xp) {
                                     auto d = DurationAtLeast(x, xa, xp, Duration::Zero());
                                     if (d && *d != Duration::Zero()) {
                                       Error(xa,
                                             fmt::format("{}: {} is not supported: nines burn-rate "
                                                         "alerts fire as soon as both the lookback "
                                                         "window and its short window (1/12 of it) "
                                                         "burn; use 0m",
                                                         xp, x.Scalar()));
                                     }
                                   }},
                              })) {
                        return;
                      }
                      if (!has_threshold) Required(a, p, "threshold", "the burn rate, as in 14.4");
                      if (!has_lookback) Required(a, p, "lookbackWindow", "as in \"1h\"");
                    }},
               })) {
    return std::nullopt;
  }
  if (!has_severity) Required(at, path, "severity", "page or ticket");
  if (!has_condition) Required(at, path, "condition", "");
  if (ErrorCount() != before) return std::nullopt;
  return rule;
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

void FileParser::ParseTimeWindow(const YAML::Node& node, const YAML::Mark& at,
                                 const std::string& path, slo::Window* window) {
  if (node.IsSequence() && node.size() != 1) {
    Error(at, fmt::format("{}: exactly one time window is supported, got {}", path, node.size()));
    return;
  }
  WalkList(
      node, at, path,
      [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
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
                              Error(a, fmt::format(
                                           "{}: invalid duration {} (want a number and one of m, "
                                           "h, d, w, M, Q, Y, as in \"28d\" or \"1M\")",
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
            Error(duration_at, fmt::format("{}: a rolling window needs a fixed length, and {} has "
                                           "none; use days, as in \"30d\"",
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
        slo::CalendarUnit unit;
        if (duration->n == 1 && duration->unit == 'w') {
          unit = slo::CalendarUnit::kWeek;
        } else if (duration->n == 1 && duration->unit == 'M') {
          unit = slo::CalendarUnit::kMonth;
        } else if (duration->n == 1 && duration->unit == 'Q') {
          unit = slo::CalendarUnit::kQuarter;
        } else {
          Error(duration_at, fmt::format("{}: calendar window {} is not supported (nines supports "
                                         "1w from Monday, 1M and 1Q)",
                                         dpath, Quote(duration_text)));
          return;
        }
        if (start) {
          // "2022-01-01 00:00:00" (or with a T): it must start a period of `unit`.
          int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
          char sep = 0;
          const std::string& t = start->first;
          if (std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s) !=
                  7 ||
              (sep != ' ' && sep != 'T') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
              mi > 59 || s > 59) {
            Error(
                start->second,
                fmt::format("{}.calendar.startTime: invalid time {} (want \"2024-01-01 00:00:00\")",
                            ip, Quote(t)));
            return;
          }
          const int64_t days =
              core::DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
          int weekday = static_cast<int>(((days % 7) + 10) % 7);  // 0 = Monday (1970-01-01: Thu)
          bool midnight = h == 0 && mi == 0 && s == 0;
          bool aligned = midnight && (unit == slo::CalendarUnit::kWeek    ? weekday == 0
                                      : unit == slo::CalendarUnit::kMonth ? d == 1
                                                                          : d == 1 && mo % 3 == 1);
          if (!aligned) {
            Error(
                start->second,
                fmt::format("{}.calendar.startTime: {} does not start a calendar {}: nines aligns "
                            "windows to {}",
                            ip, Quote(t), slo::CalendarUnitName(unit),
                            unit == slo::CalendarUnit::kWeek ? "weeks from Monday 00:00"
                            : unit == slo::CalendarUnit::kMonth
                                ? "the 1st of each month, 00:00"
                                : "quarters (Jan, Apr, Jul, Oct 1st, 00:00)"));
            return;
          }
        }
        *window = slo::Window::Calendar(unit, tz);
      });
}

void FileParser::ConvertCondition(const Shared::Doc& doc, OsloObject* out) {
  std::optional<slo::BurnRateRule> r = ParseAlertConditionSpec(doc.spec, doc.spec_at, "spec");
  if (!r) return;
  out->rules = {*r};
  out->ok = true;
}

void FileParser::ConvertPolicy(const Shared::Doc& doc, OsloObject* out) {
  auto rules = ParseAlertPolicySpec(doc.spec, doc.spec_at, "spec");
  if (!rules) return;
  out->rules = std::move(*rules);
  out->ok = true;
}

void FileParser::ConvertSli(const Shared::Doc& doc, OsloObject* out) {
  std::optional<Indicator> ind = ParseSliSpec(doc.spec, doc.spec_at, "spec");
  if (!ind) return;
  out->indicator = std::move(*ind);
  out->ok = true;
}

void FileParser::ConvertSlo(const Shared::Doc& doc) {
  const size_t before = ErrorCount();
  SloRule rule;
  rule.file = file_;
  rule.line = doc.at.line + 1;
  slo::SloSpec& spec = rule.spec;
  spec.objective = shared_.defaults.objective;
  spec.window = slo::Window::Rolling(shared_.defaults.window);
  spec.name = doc.name;
  spec.labels = doc.labels;

  std::optional<Indicator> indicator;
  bool has_indicator = false, has_method = false, has_objectives = false;
  bool indicator_failed = false;
  YAML::Mark indicator_at = doc.spec_at;
  std::optional<YAML::Mark> slice_target_at, slice_window_at;
  std::string slice_target_path, slice_window_path;
  struct ThresholdObjective {
    std::optional<std::string> op;
    std::optional<double> value;
    YAML::Mark at;
  } threshold;
  threshold.at = doc.spec_at;
  std::optional<std::vector<slo::BurnRateRule>> alert_rules;
  WalkMap(
      doc.spec, doc.spec_at, "spec",
      {
          {"description",
           [&](auto& v, auto& a, auto& p) {
             if (auto s = Scalar(v, a, p, "a string")) spec.description = *s;
           }},
          {"service",
           [&](auto& v, auto& a, auto& p) {
             if (auto s = String(v, a, p)) spec.service = *s;
           }},
          {"indicator",
           [&](auto& v, auto& a, auto& p) {
             if (has_indicator) {
               Error(a, fmt::format("{}: set indicator or indicatorRef, not both", p));
               return;
             }
             has_indicator = true;
             indicator_at = a;
             bool has_spec = false;
             WalkMap(v, a, p,
                     {
                         {"metadata",
                          [&](auto& x, auto& xa, auto& xp) {
                            std::string n;
                            std::optional<YAML::Mark> na;
                            ParseMetadata(x, xa, xp, false, &n, &na);
                          }},
                         {"spec",
                          [&](auto& x, auto& xa, auto& xp) {
                            has_spec = true;
                            indicator = ParseSliSpec(x, xa, xp);
                            if (!indicator) indicator_failed = true;
                          }},
                     });
             if (!has_spec && v.IsMap()) Required(a, p, "spec", "");
           }},
          {"indicatorRef",
           [&](auto& v, auto& a, auto& p) {
             if (has_indicator) {
               Error(a, fmt::format("{}: set indicator or indicatorRef, not both", p));
               return;
             }
             has_indicator = true;
             indicator_at = a;
             const OsloObject* o = Lookup(shared_.slis, "SLI", v, a, p);
             if (o && o->ok) {
               indicator = o->indicator;
             } else {
               indicator_failed = true;  // reported at the reference or at the SLI
             }
           }},
          {"budgetingMethod",
           [&](auto& v, auto& a, auto& p) {
             has_method = true;
             std::optional<std::string> s = String(v, a, p);
             if (!s) return;
             std::string lower = *s;
             std::transform(lower.begin(), lower.end(), lower.begin(),
                            [](unsigned char c) { return std::tolower(c); });
             if (lower == "occurrences") {
               spec.method = slo::BudgetingMethod::kOccurrences;
             } else if (lower == "timeslices") {
               spec.method = slo::BudgetingMethod::kTimeslices;
             } else if (lower == "ratiotimeslices") {
               Error(a, fmt::format("{}: RatioTimeslices is not supported (want Occurrences or "
                                    "Timeslices)",
                                    p));
             } else {
               Error(a, fmt::format("{}: invalid budgeting method {} (want Occurrences or "
                                    "Timeslices)",
                                    p, Quote(*s)));
             }
           }},
          {"timeWindow",
           [&](auto& v, auto& a, auto& p) { ParseTimeWindow(v, a, p, &spec.window); }},
          {"objectives",
           [&](auto& v, auto& a, auto& p) {
             has_objectives = true;
             if (v.IsSequence() && v.size() != 1) {
               Error(a, fmt::format("{}: exactly one objective is supported, got {}", p, v.size()));
               return;
             }
             WalkList(
                 v, a, p,
                 [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
                   bool has_target = false;
                   threshold.at = ia;
                   WalkMap(
                       item, ia, ip,
                       {
                           {"displayName",
                            [&](auto& x, auto& xa, auto& xp) { Scalar(x, xa, xp, "a string"); }},
                           {"op",
                            [&](auto& x, auto& xa, auto& xp) {
                              auto s = Enum<std::string>(
                                  x, xa, xp, "op",
                                  {{"lte", "lte"}, {"lt", "lt"}, {"gte", "gte"}, {"gt", "gt"}});
                              if (s) threshold.op = *s;
                              if (s && *s != "lte") {
                                Error(xa, fmt::format("{}: op {} is not supported (nines counts an "
                                                      "observation as good when it is at most the "
                                                      "value: use lte)",
                                                      xp, *s));
                              }
                            }},
                           {"value", [&](auto& x, auto& xa,
                                         auto& xp) { threshold.value = Number(x, xa, xp); }},
                           {"target",
                            [&](auto& x, auto& xa, auto& xp) {
                              if (has_target) {
                                Error(xa,
                                      fmt::format("{}: set target or targetPercent, not both", xp));
                                return;
                              }
                              has_target = true;
                              std::optional<double> d = Number(x, xa, xp);
                              if (d && !(*d > 0 && *d < 1)) {
                                Error(xa,
                                      fmt::format("{}: {} is out of range (a ratio greater than 0 "
                                                  "and less than 1, as in 0.998)",
                                                  xp, x.Scalar()));
                                return;
                              }
                              if (d) spec.objective = *d * 100;
                            }},
                           {"targetPercent",
                            [&](auto& x, auto& xa, auto& xp) {
                              if (has_target) {
                                Error(xa,
                                      fmt::format("{}: set target or targetPercent, not both", xp));
                                return;
                              }
                              has_target = true;
                              if (auto d = Objective(x, xa, xp)) spec.objective = *d;
                            }},
                           {"timeSliceTarget",
                            [&](auto& x, auto& xa, auto& xp) {
                              slice_target_at = xa;
                              slice_target_path = xp;
                              if (auto d = Ratio(x, xa, xp)) spec.timeslice_target = *d;
                            }},
                           {"timeSliceWindow",
                            [&](auto& x, auto& xa, auto& xp) {
                              slice_window_at = xa;
                              slice_window_path = xp;
                              auto s = Scalar(x, xa, xp, "a duration");
                              if (!s) return;
                              // A bare number is minutes.
                              if (*s == "1" || *s == "1m" || *s == "60s") return;
                              Error(xa, fmt::format("{}: {} is not supported: nines' time slices "
                                                    "are one minute (use 1m)",
                                                    xp, Quote(*s)));
                            }},
                       });
                   if (!has_target && item.IsMap()) {
                     Required(ia, ip, "target", "or targetPercent, as in target: 0.998");
                   }
                 });
           }},
          {"alertPolicies",
           [&](auto& v, auto& a, auto& p) {
             std::vector<slo::BurnRateRule> rules;
             WalkList(
                 v, a, p,
                 [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
                   auto add = [&](const OsloObject* o) {
                     if (o && o->ok) rules.insert(rules.end(), o->rules.begin(), o->rules.end());
                   };
                   if (item.IsScalar()) {
                     add(Lookup(shared_.policies, "AlertPolicy", item, ia, ip));
                   } else if (Peek(item, "alertPolicyRef")) {
                     WalkMap(item, ia, ip,
                             {{"alertPolicyRef", [&](auto& x, auto& xa, auto& xp) {
                                 add(Lookup(shared_.policies, "AlertPolicy", x, xa, xp));
                               }}});
                   } else {
                     InlineObject(item, ia, ip, "AlertPolicy", [&](auto& s, auto& sa, auto& sp) {
                       if (auto r = ParseAlertPolicySpec(s, sa, sp)) {
                         rules.insert(rules.end(), r->begin(), r->end());
                       }
                     });
                   }
                 });
             alert_rules = std::move(rules);
           }},
      });
  if (!has_indicator && doc.spec.IsMap()) {
    Required(doc.spec_at, "spec", "indicator", "or indicatorRef");
  }
  if (!has_method && doc.spec.IsMap()) {
    Required(doc.spec_at, "spec", "budgetingMethod", "Occurrences or Timeslices");
  }
  if (!has_objectives && doc.spec.IsMap()) {
    Required(doc.spec_at, "spec", "objectives", "one, with target");
  }
  if (spec.method != slo::BudgetingMethod::kTimeslices) {
    if (slice_target_at) {
      Error(*slice_target_at, slice_target_path + ": applies only to budgetingMethod: Timeslices");
    }
    if (slice_window_at) {
      Error(*slice_window_at, slice_window_path + ": applies only to budgetingMethod: Timeslices");
    }
  }
  if (indicator) {
    spec.sli = indicator->kind;
    rule.source = indicator->source;
    if (indicator->threshold_metric) {
      if (!threshold.op || !threshold.value) {
        Error(threshold.at,
              "spec.objectives: a thresholdMetric needs op: lte and value (the latency "
              "threshold in the metric's unit, seconds)");
      } else {
        rule.source.threshold = *threshold.value;
      }
    } else if (threshold.op || threshold.value) {
      Error(threshold.at, "spec.objectives: op and value apply to a thresholdMetric only");
    }
  }
  if (alert_rules) spec.alerting.rules = std::move(*alert_rules);
  if (spec.description.empty()) spec.description = doc.display_name;
  if (indicator_failed) return;
  AddSlo(std::move(rule), doc.at, doc.at, "metadata.name", before);
}

std::string FormatFileLine(const std::string& file, int line) {
  return fmt::format("{}:{}", file, line);
}

}  // namespace

RuleFileDefaults RuleFileDefaultsFrom(const Config& config, std::string origin) {
  RuleFileDefaults d;
  d.objective = config.slo.default_objective;
  d.window = config.slo.default_window;
  for (const RegionConfig& r : config.regions) d.regions.push_back(r.name);
  d.origin = std::move(origin);
  return d;
}

std::vector<std::string> ExpandRuleGlobs(const std::vector<std::string>& globs,
                                         std::string_view base_dir,
                                         const RuleFileDefaults& defaults,
                                         std::vector<ConfigError>* errors) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (const std::string& pattern : globs) {
    fs::path p(pattern);
    if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
    std::string full = p.lexically_normal().string();
    glob_t g{};
    int rc = glob(full.c_str(), 0, nullptr, &g);
    std::string origin = defaults.origin.empty() ? pattern : defaults.origin;
    if (rc == GLOB_NOMATCH) {
      errors->push_back({origin, 1, 1,
                         fmt::format("rule_files: {} matches no files{}", Quote(pattern),
                                     full == pattern ? "" : " (looked for " + Quote(full) + ")")});
    } else if (rc != 0) {
      errors->push_back({origin, 1, 1,
                         fmt::format("rule_files: cannot expand {}: {}", Quote(pattern),
                                     rc == GLOB_NOSPACE ? "out of memory" : "read error")});
    } else {
      std::vector<std::string> matched(g.gl_pathv, g.gl_pathv + g.gl_pathc);
      std::sort(matched.begin(), matched.end());
      for (std::string& m : matched) {
        if (seen.insert(m).second) files.push_back(std::move(m));
      }
    }
    globfree(&g);
  }
  return files;
}

namespace {

std::vector<ConfigError> ParseSources(const std::vector<std::pair<std::string, std::string>>& src,
                                      std::vector<ConfigError> errors,
                                      const RuleFileDefaults& defaults, RuleSet* out) {
  Shared shared(defaults);
  std::vector<std::unique_ptr<FileParser>> parsers;
  for (size_t i = 0; i < src.size(); ++i) {
    parsers.push_back(std::make_unique<FileParser>(src[i].first, src[i].second, i, &shared));
    parsers.back()->ParseAll();
  }

  // OpenSLO objects by kind; names are unique per kind across files.
  auto index = [&](std::string_view kind, std::map<std::string, OsloObject, std::less<>>* into) {
    for (const Shared::Doc& doc : shared.docs) {
      if (doc.kind != kind) continue;
      auto [it, inserted] = into->try_emplace(doc.name);
      if (!inserted) {
        doc.parser->Error(doc.at, fmt::format("metadata.name: duplicate {} name {} (first "
                                              "defined at {})",
                                              kind, Quote(doc.name),
                                              FormatFileLine(it->second.file, it->second.line)));
        continue;
      }
      it->second.file = doc.parser->file();
      it->second.line = doc.at.line + 1;
    }
  };
  index("AlertCondition", &shared.conditions);
  index("AlertPolicy", &shared.policies);
  index("SLI", &shared.slis);
  auto convert = [&](std::string_view kind, std::map<std::string, OsloObject, std::less<>>* objects,
                     void (FileParser::*fn)(const Shared::Doc&, OsloObject*)) {
    for (const Shared::Doc& doc : shared.docs) {
      if (doc.kind != kind) continue;
      OsloObject& o = (*objects)[doc.name];
      // Only the first definition of a name (the duplicate was reported above).
      if (o.file != doc.parser->file() || o.line != doc.at.line + 1) continue;
      doc.parser->Guard([&] { (doc.parser->*fn)(doc, &o); });
    }
  };
  convert("AlertCondition", &shared.conditions, &FileParser::ConvertCondition);
  convert("AlertPolicy", &shared.policies, &FileParser::ConvertPolicy);
  convert("SLI", &shared.slis, &FileParser::ConvertSli);
  for (const Shared::Doc& doc : shared.docs) {
    if (doc.kind == "SLO") doc.parser->Guard([&] { doc.parser->ConvertSlo(doc); });
  }

  // Unique names across files, in file order then line order.
  auto by_place = [](const auto& a, const auto& b) {
    return std::tie(a.file_index, a.rule.line, a.name_at.column) <
           std::tie(b.file_index, b.rule.line, b.name_at.column);
  };
  std::stable_sort(shared.slos.begin(), shared.slos.end(), by_place);
  std::stable_sort(shared.alerts.begin(), shared.alerts.end(), by_place);
  RuleSet rules;
  std::map<std::string, std::string, std::less<>> first;
  for (auto& c : shared.slos) {
    auto [it, inserted] = first.emplace(c.rule.spec.name, FormatFileLine(c.rule.file, c.rule.line));
    if (!inserted) {
      c.parser->Error(c.name_at,
                      fmt::format("{}: duplicate SLO name {} (first defined at {})",
                                  c.path.find("metadata") == 0 ? c.path : c.path + ".name",
                                  Quote(c.rule.spec.name), it->second));
      continue;
    }
    rules.slos.push_back(c.rule);
    rules.slos.back().declared_regions = defaults.regions;
  }
  first.clear();
  for (auto& c : shared.alerts) {
    auto [it, inserted] = first.emplace(c.rule.name, FormatFileLine(c.rule.file, c.rule.line));
    if (!inserted) {
      c.parser->Error(c.name_at, fmt::format("{}.name: duplicate alert name {} (first defined "
                                             "at {})",
                                             c.path, Quote(c.rule.name), it->second));
      continue;
    }
    rules.alerts.push_back(c.rule);
  }

  for (auto& p : parsers) {
    std::vector<ConfigError> e = p->TakeErrors();
    errors.insert(errors.end(), std::make_move_iterator(e.begin()),
                  std::make_move_iterator(e.end()));
  }
  if (errors.empty() && out != nullptr) *out = std::move(rules);
  return errors;
}

}  // namespace

std::vector<ConfigError> ParseRuleFiles(const std::vector<std::string>& files,
                                        const RuleFileDefaults& defaults, RuleSet* out) {
  std::vector<std::pair<std::string, std::string>> src;
  std::vector<ConfigError> errors;
  for (const std::string& f : files) {
    std::string text, error;
    if (!ReadWholeFile(f, &text, &error)) {
      errors.push_back({f, 1, 1, "cannot read: " + error});
      continue;
    }
    src.emplace_back(f, std::move(text));
  }
  return ParseSources(src, std::move(errors), defaults, out);
}

std::vector<ConfigError> LoadRuleFiles(const std::vector<std::string>& globs,
                                       std::string_view base_dir, const RuleFileDefaults& defaults,
                                       RuleSet* out) {
  std::vector<ConfigError> glob_errors;
  std::vector<std::string> files = ExpandRuleGlobs(globs, base_dir, defaults, &glob_errors);
  std::vector<ConfigError> errors =
      ParseRuleFiles(files, defaults, glob_errors.empty() ? out : nullptr);
  glob_errors.insert(glob_errors.end(), errors.begin(), errors.end());
  return glob_errors;
}

core::Result<RuleSet> LoadRuleSet(const std::vector<std::string>& globs, std::string_view base_dir,
                                  const RuleFileDefaults& defaults) {
  RuleSet rules;
  std::vector<ConfigError> errors = LoadRuleFiles(globs, base_dir, defaults, &rules);
  if (errors.empty()) return rules;
  std::string message;
  for (const ConfigError& e : errors) {
    if (!message.empty()) message += '\n';
    message += e.ToString();
  }
  return core::InvalidArgumentError(std::move(message));
}

std::vector<ConfigError> ParseRuleText(std::string_view yaml_text, std::string_view file_name,
                                       const RuleFileDefaults& defaults, RuleSet* out) {
  return ParseSources({{std::string(file_name), std::string(yaml_text)}}, {}, defaults, out);
}

bool LooksLikeRuleFile(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.starts_with("- ")) line.remove_prefix(2);
    for (std::string_view key : {"slos:", "alerts:", "apiVersion:"}) {
      if (line.starts_with(key)) return true;
    }
  }
  return false;
}

}  // namespace nines::app
