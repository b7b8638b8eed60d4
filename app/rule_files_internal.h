// Private to app/rule_files*.cc: the rule-file parser shared by the files that implement it.
//
//   rule_files.cc            the entry points (globs, reading, cross-file checks), the parser's
//                            document dispatch and the value readers both formats use
//   rule_files_nines.cc      nines' own format (slos:, alerts:)
//   rule_files_openslo.cc    OpenSLO v1 documents: kinds, metadata, references, SLO conversion
//   rule_files_openslo_spec.cc  OpenSLO specs: SLI metric sources, alert conditions and
//                            policies, time windows
//
// Parsing runs in two phases over all files loaded together. Phase 1 (FileParser::ParseAll)
// converts nines' documents and registers OpenSLO documents in Shared; phase 2 (ParseSources in
// rule_files.cc) converts OpenSLO documents in dependency order (AlertCondition, AlertPolicy,
// SLI, then SLO) so that references resolve across files, then checks that names are unique.
//
// Thread-compatible: one Shared and its FileParsers per ParseSources call. A FileParser holds a
// reference to its Shared, which outlives it.
#ifndef NINES_APP_RULE_FILES_INTERNAL_H_
#define NINES_APP_RULE_FILES_INTERNAL_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/rule_files.h"
#include "app/yaml_reader.h"
#include "store/store.h"

namespace nines::app::internal {

using rules::RuleSet;
using rules::SliSource;
using rules::SloRule;
using rules::ThresholdRule;
using store::Matcher;

constexpr std::string_view kOpenSloVersion = "openslo/v1";

// Letters, digits, '-', '_' and '.', starting with a letter or digit: SLO names and OpenSLO
// metadata.name.
bool IsValidSloName(std::string_view name);

// A number as text, exactly (no YAML-level conversion): nullopt when it is not one.
std::optional<double> ParseNumber(std::string_view s);

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

using OsloObjects = std::map<std::string, OsloObject, std::less<>>;

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
  OsloObjects conditions, policies, slis;
};

// One rule file: its text, its errors (YamlReader) and what it adds to Shared.
class FileParser : public YamlReader {
 public:
  FileParser(std::string file, std::string text, size_t index, Shared* shared)
      : YamlReader(std::move(file), fs::path()),
        text_(std::move(text)),
        index_(index),
        shared_(*shared) {}

  // Phase 1: every document of the file. Native documents are converted; OpenSLO documents are
  // checked up to their metadata and registered for phase 2.
  void ParseAll();

  // Phase 2, per kind (rule_files_openslo.cc). Call under Guard(): yaml-cpp may throw on a
  // malformed tree.
  void ConvertCondition(const Shared::Doc& doc, OsloObject* out);
  void ConvertPolicy(const Shared::Doc& doc, OsloObject* out);
  void ConvertSli(const Shared::Doc& doc, OsloObject* out);
  void ConvertSlo(const Shared::Doc& doc);

 private:
  // An OpenSLO SLO while ConvertSlo reads its spec: what was seen, and where, for the checks
  // that need several fields.
  struct SloDraft {
    SloRule rule;
    std::optional<Indicator> indicator;
    bool has_indicator = false, has_method = false, has_objectives = false;
    bool indicator_failed = false;
    std::optional<YAML::Mark> slice_target_at, slice_window_at;
    std::string slice_target_path, slice_window_path;
    // The objective's op and value, for a thresholdMetric.
    std::optional<std::string> threshold_op;
    std::optional<double> threshold_value;
    YAML::Mark threshold_at;
    std::optional<std::vector<slo::BurnRateRule>> alert_rules;
  };

  // ---- rule_files.cc: dispatch and the value readers both formats use ----

  void ParseDocumentRoot(const YAML::Node& root);

  // A number, or a duration taken in seconds ("300ms" is 0.3).
  std::optional<double> Seconds(const YAML::Node& v, const YAML::Mark& at, const std::string& path);
  // A percentage objective, 0 < x < 100.
  std::optional<double> Objective(const YAML::Node& v, const YAML::Mark& at,
                                  const std::string& path);
  // A ratio in [0, 1].
  std::optional<double> Ratio(const YAML::Node& v, const YAML::Mark& at, const std::string& path);
  // A duration of at least `min` that is a whole number of minutes.
  std::optional<Duration> WholeMinutes(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path, Duration min);
  // Where column `col` (1-based, of the decoded string) of the scalar at `at` is in the file.
  // Falls back to the scalar's own position for block scalars and multi-line values.
  YAML::Mark ColumnIn(const YAML::Mark& at, int col) const;
  // A PromQL series selector. `need_name`: it must name a metric.
  std::optional<std::vector<Matcher>> Selector(const YAML::Node& v, const YAML::Mark& at,
                                               const std::string& path, bool need_name);
  // A mapping of strings to strings; `check_key` reports (and returns false for) a bad key.
  std::vector<std::pair<std::string, std::string>> StringMap(
      const YAML::Node& v, const YAML::Mark& at, const std::string& path,
      const std::function<bool(const std::string& key, const YAML::Mark& key_at)>& check_key);
  // Labels for alerts: valid label names, none of `reserved`. With `allow_lists` (OpenSLO), a
  // value may also be a list of exactly one string.
  std::optional<core::Labels> LabelMap(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path,
                                       const std::vector<std::string_view>& reserved,
                                       std::string_view reserved_why, bool allow_lists = false);
  // An IANA time zone name; reports and returns false for an unknown one.
  bool CheckTimeZone(const std::string& tz, const YAML::Mark& at, const std::string& path);
  // Validates a converted SLO and queues it for the duplicate check.
  void AddSlo(SloRule rule, const YAML::Mark& at, const YAML::Mark& name_at,
              const std::string& path, size_t errors_before);
  std::optional<slo::Severity> Severity(const YAML::Node& v, const YAML::Mark& at,
                                        const std::string& path);

  // ---- rule_files_nines.cc: nines' format ----

  void ParseSlo(const YAML::Node& item, const YAML::Mark& at, const std::string& path);
  // An SLO's labels, added to its alerts: none of the labels nines sets on them. With
  // `allow_lists` (OpenSLO), a value may be a list of one string.
  std::optional<core::Labels> SloLabels(const YAML::Node& v, const YAML::Mark& at,
                                        const std::string& path, bool allow_lists);
  // An SLO's name, valid (see IsValidSloName).
  std::optional<std::string> SloName(const YAML::Node& v, const YAML::Mark& at,
                                     const std::string& path);
  // A region of an SLO: a valid name, among the config's regions when it declares any.
  void CheckDeclaredRegion(const std::string& region, const YAML::Mark& at,
                           const std::string& path);
  void ParseWindow(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                   slo::Window* window);
  void ParseSli(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                slo::SloSpec* spec, SliSource* source);
  void ParseProbeAvailability(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                              slo::SloSpec* spec, SliSource* source);
  void ParseFreshness(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                      SliSource* source);
  // probe_availability's selector: the metric is probe_success, implied when left out.
  void ProbeSelector(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                     std::vector<Matcher>* out);
  void ParseLatency(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                    SliSource* source);
  // A latency SLI over a histogram: good = <name>_bucket{..., le="<threshold>"},
  // total = <name>_count{...}.
  void HistogramSource(const std::vector<Matcher>& histogram, const YAML::Mark& at,
                       const std::string& path, double threshold, SliSource* source);
  void ParseRequestRatio(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                         SliSource* source);
  void ParseAlerting(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                     slo::AlertPolicy* policy);
  std::optional<slo::BurnRateRule> ParseBurnRate(const YAML::Node& item, const YAML::Mark& at,
                                                 const std::string& path);
  void ParseAlert(const YAML::Node& item, const YAML::Mark& at, const std::string& path);
  // An alert rule's name: [A-Za-z_][A-Za-z0-9_]*.
  std::optional<std::string> AlertName(const YAML::Node& v, const YAML::Mark& at,
                                       const std::string& path);
  // op: < <= == != >= >.
  std::optional<rules::Comparison> Comparison(const YAML::Node& v, const YAML::Mark& at,
                                              const std::string& path);
  // Annotations: strings whose {{ ... }} are $value or $labels.NAME, NAME being a label the
  // alert has (its group_by labels and its own labels; any label without group_by).
  void ParseAnnotations(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                        ThresholdRule* rule);
  // ---- rule_files_openslo.cc: documents, metadata, references, SLOs ----

  void ParseOpenSlo(const YAML::Node& root, const YAML::Mark& at, const std::string& path);
  // Whether `doc.kind` is one nines reads; reports it (at `kind_at`, path `kind_path`) if not.
  bool CheckKind(const Shared::Doc& doc, const YAML::Mark& kind_at, const std::string& kind_path);
  // metadata: name (REQUIRED), displayName, labels (SLO only; `labels_out` when non-null),
  // annotations (not used).
  void ParseMetadata(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                     bool labels_allowed, std::string* name, std::optional<YAML::Mark>* name_at,
                     std::string* display_name = nullptr, core::Labels* labels_out = nullptr);
  // An inline object ({kind, metadata, spec} with an optional apiVersion) in a parent; calls
  // `spec` with its spec.
  void InlineObject(
      const YAML::Node& node, const YAML::Mark& at, const std::string& path, std::string_view kind,
      const std::function<void(const YAML::Node&, const YAML::Mark&, const std::string&)>& spec);
  // A reference to an object of `kind` among `objects`: reports unknown names.
  const OsloObject* Lookup(const OsloObjects& objects, std::string_view kind, const YAML::Node& v,
                           const YAML::Mark& at, const std::string& path);
  // The fields of an SLO's spec, one reader each.
  void SloIndicator(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                    SloDraft* d);
  void SloIndicatorRef(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                       SloDraft* d);
  void SloBudgetingMethod(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                          SloDraft* d);
  void SloObjectives(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                     SloDraft* d);
  void SloObjective(const YAML::Node& item, const YAML::Mark& at, const std::string& path,
                    SloDraft* d);
  void SloAlertPolicies(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                        SloDraft* d);
  // The checks across fields, then AddSlo.
  void FinishSlo(const Shared::Doc& doc, SloDraft* d, size_t errors_before);

  // ---- rule_files_openslo_spec.cc: SLI, AlertCondition and AlertPolicy specs, timeWindow ----

  std::optional<Indicator> ParseSliSpec(const YAML::Node& node, const YAML::Mark& at,
                                        const std::string& path);
  void ParseRatioMetric(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                        Indicator* ind);
  std::optional<std::vector<Matcher>> MetricSource(const YAML::Node& node, const YAML::Mark& at,
                                                   const std::string& path);
  // metricSource: {type: Prometheus, spec: {query}}; the selector, or nullopt (reported). A
  // missing type is reported only when the enclosing source had no error before
  // (`errors_before`), as the type is then the likely cause.
  std::optional<std::vector<Matcher>> PrometheusSource(const YAML::Node& v, const YAML::Mark& at,
                                                       const std::string& path,
                                                       size_t errors_before);
  std::optional<std::vector<slo::BurnRateRule>> ParseAlertPolicySpec(const YAML::Node& node,
                                                                     const YAML::Mark& at,
                                                                     const std::string& path);
  std::optional<slo::BurnRateRule> ParseAlertConditionSpec(const YAML::Node& node,
                                                           const YAML::Mark& at,
                                                           const std::string& path);
  // condition: {kind: burnrate, threshold, lookbackWindow, alertAfter} into `rule`.
  void ParseBurnRateCondition(const YAML::Node& v, const YAML::Mark& at, const std::string& path,
                              slo::BurnRateRule* rule);
  void ParseTimeWindow(const YAML::Node& node, const YAML::Mark& at, const std::string& path,
                       slo::Window* window);
  void ParseTimeWindowItem(const YAML::Node& item, const YAML::Mark& at, const std::string& path,
                           slo::Window* window);
  // A calendar window's startTime must start a period of `unit`; reports and returns false if
  // not.
  bool CheckCalendarStart(const std::string& start, const YAML::Mark& at, const std::string& path,
                          slo::CalendarUnit unit);

  std::string text_;
  size_t index_;
  Shared& shared_;
};

}  // namespace nines::app::internal

#endif  // NINES_APP_RULE_FILES_INTERNAL_H_
