// Rule files in OpenSLO v1: documents, metadata, references and the conversion of an SLO (the
// specs of SLIs, alert conditions and policies and time windows are in
// rule_files_openslo_spec.cc).
//
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
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "app/rule_files_internal.h"

namespace nines::app::internal {

void FileParser::ParseOpenSlo(const YAML::Node& root, const YAML::Mark& at,
                              const std::string& path) {
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
  if (!CheckKind(doc, *kind_at, Join(path, "kind"))) return;
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
  ParseMetadata(doc.metadata, doc.metadata_at, Join(path, "metadata"), is_slo, &doc.name, &name_at,
                &doc.display_name, is_slo ? &doc.labels : nullptr);
  if (doc.name.empty()) return;
  doc.at = *name_at;
  if (doc.kind == "Service") {
    WalkMap(doc.spec, doc.spec_at, Join(path, "spec"),
            {{"description", [&](auto& v, auto& a, auto& p) { Scalar(v, a, p, "a string"); }}});
    return;
  }
  shared_.docs.push_back(std::move(doc));
}

bool FileParser::CheckKind(const Shared::Doc& doc, const YAML::Mark& kind_at,
                           const std::string& kind_path) {
  static const std::vector<std::string_view> kKinds = {"SLO", "SLI", "AlertPolicy",
                                                       "AlertCondition", "Service"};
  if (std::find(kKinds.begin(), kKinds.end(), doc.kind) != kKinds.end()) return true;
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
    why = SuggestOr(doc.kind, kKinds, fmt::format("want {}", JoinOr(kKinds)));
  }
  Error(kind_at, fmt::format("{}: {} is not supported ({})", kind_path, Quote(doc.kind), why));
  return false;
}

void FileParser::ParseMetadata(const YAML::Node& node, const YAML::Mark& at,
                               const std::string& path, bool labels_allowed, std::string* name,
                               std::optional<YAML::Mark>* name_at, std::string* display_name,
                               core::Labels* labels_out) {
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
                      if (auto l = SloLabels(v, a, p, true)) {
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
  std::string hint = SuggestOr(*name, names, "");
  Error(at, fmt::format("{}: no {} named {} in the rule files{}", path, kind, Quote(*name),
                        hint.empty() ? "" : " (" + hint + ")"));
  return nullptr;
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
  SloDraft d;
  d.rule.file = file_;
  d.rule.line = doc.at.line + 1;
  slo::SloSpec& spec = d.rule.spec;
  spec.objective = shared_.defaults.objective;
  spec.window = slo::Window::Rolling(shared_.defaults.window);
  spec.name = doc.name;
  spec.labels = doc.labels;
  d.threshold_at = doc.spec_at;
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
          {"indicator", [&](auto& v, auto& a, auto& p) { SloIndicator(v, a, p, &d); }},
          {"indicatorRef", [&](auto& v, auto& a, auto& p) { SloIndicatorRef(v, a, p, &d); }},
          {"budgetingMethod", [&](auto& v, auto& a, auto& p) { SloBudgetingMethod(v, a, p, &d); }},
          {"timeWindow",
           [&](auto& v, auto& a, auto& p) { ParseTimeWindow(v, a, p, &spec.window); }},
          {"objectives", [&](auto& v, auto& a, auto& p) { SloObjectives(v, a, p, &d); }},
          {"alertPolicies", [&](auto& v, auto& a, auto& p) { SloAlertPolicies(v, a, p, &d); }},
      });
  FinishSlo(doc, &d, before);
}

void FileParser::SloIndicator(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                              SloDraft* d) {
  if (d->has_indicator) {
    Error(a, fmt::format("{}: set indicator or indicatorRef, not both", p));
    return;
  }
  d->has_indicator = true;
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
                 d->indicator = ParseSliSpec(x, xa, xp);
                 if (!d->indicator) d->indicator_failed = true;
               }},
          });
  if (!has_spec && v.IsMap()) Required(a, p, "spec", "");
}

void FileParser::SloIndicatorRef(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                 SloDraft* d) {
  if (d->has_indicator) {
    Error(a, fmt::format("{}: set indicator or indicatorRef, not both", p));
    return;
  }
  d->has_indicator = true;
  const OsloObject* o = Lookup(shared_.slis, "SLI", v, a, p);
  if (o && o->ok) {
    d->indicator = o->indicator;
  } else {
    d->indicator_failed = true;  // reported at the reference or at the SLI
  }
}

void FileParser::SloBudgetingMethod(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                    SloDraft* d) {
  d->has_method = true;
  std::optional<std::string> s = String(v, a, p);
  if (!s) return;
  std::string lower = *s;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "occurrences") {
    d->rule.spec.method = slo::BudgetingMethod::kOccurrences;
  } else if (lower == "timeslices") {
    d->rule.spec.method = slo::BudgetingMethod::kTimeslices;
  } else if (lower == "ratiotimeslices") {
    Error(a,
          fmt::format("{}: RatioTimeslices is not supported (want Occurrences or Timeslices)", p));
  } else {
    Error(a, fmt::format("{}: invalid budgeting method {} (want Occurrences or Timeslices)", p,
                         Quote(*s)));
  }
}

void FileParser::SloObjectives(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                               SloDraft* d) {
  d->has_objectives = true;
  if (v.IsSequence() && v.size() != 1) {
    Error(a, fmt::format("{}: exactly one objective is supported, got {}", p, v.size()));
    return;
  }
  WalkList(v, a, p,
           [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
             SloObjective(item, ia, ip, d);
           });
}

void FileParser::SloObjective(const YAML::Node& item, const YAML::Mark& ia, const std::string& ip,
                              SloDraft* d) {
  slo::SloSpec& spec = d->rule.spec;
  bool has_target = false;
  d->threshold_at = ia;
  auto target_once = [&](const YAML::Mark& xa, const std::string& xp) {
    if (has_target) {
      Error(xa, fmt::format("{}: set target or targetPercent, not both", xp));
      return false;
    }
    has_target = true;
    return true;
  };
  WalkMap(
      item, ia, ip,
      {
          {"displayName", [&](auto& x, auto& xa, auto& xp) { Scalar(x, xa, xp, "a string"); }},
          {"op",
           [&](auto& x, auto& xa, auto& xp) {
             auto s = Enum<std::string>(
                 x, xa, xp, "op", {{"lte", "lte"}, {"lt", "lt"}, {"gte", "gte"}, {"gt", "gt"}});
             if (s) d->threshold_op = *s;
             if (s && *s != "lte") {
               Error(xa, fmt::format("{}: op {} is not supported (nines counts an observation as "
                                     "good when it is at most the value: use lte)",
                                     xp, *s));
             }
           }},
          {"value", [&](auto& x, auto& xa, auto& xp) { d->threshold_value = Number(x, xa, xp); }},
          {"target",
           [&](auto& x, auto& xa, auto& xp) {
             if (!target_once(xa, xp)) return;
             std::optional<double> t = Number(x, xa, xp);
             if (t && !(*t > 0 && *t < 1)) {
               Error(xa, fmt::format("{}: {} is out of range (a ratio greater than 0 and less "
                                     "than 1, as in 0.998)",
                                     xp, x.Scalar()));
               return;
             }
             if (t) spec.objective = *t * 100;
           }},
          {"targetPercent",
           [&](auto& x, auto& xa, auto& xp) {
             if (!target_once(xa, xp)) return;
             if (auto t = Objective(x, xa, xp)) spec.objective = *t;
           }},
          {"timeSliceTarget",
           [&](auto& x, auto& xa, auto& xp) {
             d->slice_target_at = xa;
             d->slice_target_path = xp;
             if (auto t = Ratio(x, xa, xp)) spec.timeslice_target = *t;
           }},
          {"timeSliceWindow",
           [&](auto& x, auto& xa, auto& xp) {
             d->slice_window_at = xa;
             d->slice_window_path = xp;
             auto s = Scalar(x, xa, xp, "a duration");
             if (!s) return;
             // A bare number is minutes.
             if (*s == "1" || *s == "1m" || *s == "60s") return;
             Error(xa, fmt::format("{}: {} is not supported: nines' time slices are one minute "
                                   "(use 1m)",
                                   xp, Quote(*s)));
           }},
      });
  if (!has_target && item.IsMap()) {
    Required(ia, ip, "target", "or targetPercent, as in target: 0.998");
  }
}

void FileParser::SloAlertPolicies(const YAML::Node& v, const YAML::Mark& a, const std::string& p,
                                  SloDraft* d) {
  std::vector<slo::BurnRateRule> rules;
  WalkList(v, a, p,
           [&](const YAML::Node& item, const YAML::Mark& ia, const std::string& ip, size_t) {
             auto add = [&](const OsloObject* o) {
               if (o && o->ok) rules.insert(rules.end(), o->rules.begin(), o->rules.end());
             };
             if (item.IsScalar()) {
               add(Lookup(shared_.policies, "AlertPolicy", item, ia, ip));
             } else if (Peek(item, "alertPolicyRef")) {
               WalkMap(item, ia, ip, {{"alertPolicyRef", [&](auto& x, auto& xa, auto& xp) {
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
  d->alert_rules = std::move(rules);
}

void FileParser::FinishSlo(const Shared::Doc& doc, SloDraft* d, size_t errors_before) {
  slo::SloSpec& spec = d->rule.spec;
  if (!d->has_indicator && doc.spec.IsMap()) {
    Required(doc.spec_at, "spec", "indicator", "or indicatorRef");
  }
  if (!d->has_method && doc.spec.IsMap()) {
    Required(doc.spec_at, "spec", "budgetingMethod", "Occurrences or Timeslices");
  }
  if (!d->has_objectives && doc.spec.IsMap()) {
    Required(doc.spec_at, "spec", "objectives", "one, with target");
  }
  if (spec.method != slo::BudgetingMethod::kTimeslices) {
    if (d->slice_target_at) {
      Error(*d->slice_target_at,
            d->slice_target_path + ": applies only to budgetingMethod: Timeslices");
    }
    if (d->slice_window_at) {
      Error(*d->slice_window_at,
            d->slice_window_path + ": applies only to budgetingMethod: Timeslices");
    }
  }
  if (d->indicator) {
    spec.sli = d->indicator->kind;
    d->rule.source = d->indicator->source;
    if (d->indicator->threshold_metric) {
      if (!d->threshold_op || !d->threshold_value) {
        Error(d->threshold_at,
              "spec.objectives: a thresholdMetric needs op: lte and value (the latency "
              "threshold in the metric's unit, seconds)");
      } else {
        d->rule.source.threshold = *d->threshold_value;
      }
    } else if (d->threshold_op || d->threshold_value) {
      Error(d->threshold_at, "spec.objectives: op and value apply to a thresholdMetric only");
    }
  }
  if (d->alert_rules) spec.alerting.rules = std::move(*d->alert_rules);
  if (spec.description.empty()) spec.description = doc.display_name;
  if (d->indicator_failed) return;
  AddSlo(std::move(d->rule), doc.at, doc.at, "metadata.name", errors_before);
}

}  // namespace nines::app::internal
