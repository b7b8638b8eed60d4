#include "rules/evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "core/log.h"

namespace nines::rules {
namespace {

constexpr std::string_view kGlobal = "global";

// The fields that decide what the counts hold: when they are unchanged on reload the counts are
// kept.
std::string CountsKey(const SloRule& r) {
  // The slice target classifies minutes as they are appended, so it only matters for
  // time slices (with occurrences it follows the objective, which is not data-defining).
  std::string k = fmt::format(
      "{}|{}|{}|{}|", slo::SliKindName(r.spec.sli), r.spec.quorum, r.spec.window.ToString(),
      r.spec.method == slo::BudgetingMethod::kTimeslices ? r.spec.SliceTarget() : -1.0);
  for (const auto& region : r.spec.regions) k += region + ",";
  k += "|d:";
  for (const auto& region : r.declared_regions) k += region + ",";
  auto add = [&k](std::string_view what, const std::vector<store::Matcher>& ms) {
    k += what;
    for (const auto& m : ms) k += m.ToString() + ",";
  };
  add("|s:", r.source.selector);
  add("|g:", r.source.good);
  add("|b:", r.source.bad);
  add("|t:", r.source.total);
  k += fmt::format("|{}|{}|{}", r.source.threshold, r.source.max_age.nanos(),
                   r.source.region_label);
  for (const auto& rule : r.spec.alerting.rules) k += "|" + rule.long_window.ToString();
  return k;
}

std::string FormatOpt(const std::optional<double>& v, std::string_view none = "none") {
  return v ? fmt::format("{:.6g}", *v) : std::string(none);
}

std::string_view Unit(const slo::SloSpec& spec) {
  return spec.method == slo::BudgetingMethod::kOccurrences ? "events" : "minutes";
}

// An SLO condition's labels. Errors: INVALID_ARGUMENT when they cannot be built (the names are
// fixed and the SLO's own labels were validated, so only a broken invariant gets here); the SLO
// then fails its evaluation, reported with its name, instead of dropping the condition.
core::Result<core::Labels> ConditionLabels(const slo::SloSpec& spec, std::string_view alertname,
                                           std::string_view region, std::string_view severity) {
  core::Labels::Builder b(spec.labels);
  b.Set(core::kMetricNameLabel, "");
  b.Set("alertname", alertname);
  b.Set("slo", spec.name);
  b.Set("service", spec.service);
  b.Set("region", region);
  b.Set("severity", severity);
  auto labels = b.Build();
  if (!labels.ok()) {
    return core::InvalidArgumentError("slo {}: the labels of its {} alert in {}: {}", spec.name,
                                      alertname, region, labels.status().message());
  }
  return labels;
}

// The annotations every SLO condition shares.
void CommonAnnotations(const slo::SloSpec& spec, const slo::SloReport& r,
                       std::map<std::string, std::string>* a) {
  (*a)["objective"] = fmt::format("{}", spec.objective);
  (*a)["window"] = spec.window.ToString();
  (*a)["sli"] = FormatOpt(r.sli);
  (*a)["budget_unit"] = std::string(Unit(spec));
  (*a)["budget_total"] = fmt::format("{:.6g}", r.budget_total);
  (*a)["budget_remaining"] = fmt::format("{:.6g}", r.budget_remaining);
  (*a)["budget_remaining_ratio"] = FormatOpt(r.budget_remaining_ratio);
  (*a)["exhaustion_at_1h_burn"] = r.exhaustion_at_1h ? r.exhaustion_at_1h->ToRfc3339() : "never";
  (*a)["exhaustion_at_6h_burn"] = r.exhaustion_at_6h ? r.exhaustion_at_6h->ToRfc3339() : "never";
}

// options.no_data_for in whole minutes, rounded up; at least one.
int64_t NoDataMinutes(const SloEvaluatorOptions& options) {
  const int64_t minute = core::Duration::Minutes(1).nanos();
  return std::max<int64_t>(1, (options.no_data_for.nanos() + minute - 1) / minute);
}

bool Fires(const slo::SloReport& r, slo::Severity severity) {
  return std::any_of(r.alerts.begin(), r.alerts.end(), [&](const slo::AlertCondition& c) {
    return c.firing && c.rule.severity == severity;
  });
}

// "<remaining> of <total> <unit> (<ratio>%)", for the descriptions.
std::string RemainingText(const slo::SloSpec& spec, const slo::SloReport& r) {
  return fmt::format("{:.4g} of {:.4g} {} ({})", r.budget_remaining, r.budget_total, Unit(spec),
                     r.budget_remaining_ratio
                         ? fmt::format("{:.2f}%", *r.budget_remaining_ratio * 100)
                         : std::string("no budget yet"));
}

// SloBurnRate of `severity` in `r`'s region, when a rule of that severity fires: one condition
// per severity (so one incident pages once per region, whichever window pairs fire); the firing
// rule with the shortest long window speaks for it, and every firing pair is listed.
core::Status AddBurnRateCondition(const slo::SloSpec& spec, const slo::SloReport& r,
                                  slo::Severity severity, std::vector<ActiveCondition>* out) {
  const slo::AlertCondition* first = nullptr;
  std::string pairs;
  for (const slo::AlertCondition& c : r.alerts) {
    if (!c.firing || c.rule.severity != severity) continue;
    if (first == nullptr || c.rule.long_window < first->rule.long_window) first = &c;
    if (!pairs.empty()) pairs += ", ";
    pairs += c.rule.long_window.ToString() + "/" + c.rule.short_window.ToString();
  }
  if (first == nullptr) return core::Status::Ok();
  const slo::AlertCondition& c = *first;
  ActiveCondition ac;
  ASSIGN_OR_RETURN(ac.labels,
                   ConditionLabels(spec, "SloBurnRate", r.region, slo::SeverityName(severity)));
  ac.value = c.long_burn.rate.value_or(0);
  CommonAnnotations(spec, r, &ac.annotations);
  ac.annotations["window_pair"] =
      c.rule.long_window.ToString() + "/" + c.rule.short_window.ToString();
  ac.annotations["firing_window_pairs"] = pairs;
  ac.annotations["long_burn_rate"] = FormatOpt(c.long_burn.rate);
  ac.annotations["short_burn_rate"] = FormatOpt(c.short_burn.rate);
  ac.annotations["factor"] = fmt::format("{:.6g}", c.factor);
  ac.annotations["summary"] =
      fmt::format("SLO {} in {} burns its error budget at {}x over {} and {}x over {} "
                  "(threshold {:.4g}x)",
                  spec.name, r.region, FormatOpt(c.long_burn.rate), c.rule.long_window.ToString(),
                  FormatOpt(c.short_burn.rate), c.rule.short_window.ToString(), c.factor);
  ac.annotations["description"] = fmt::format(
      "{} budget left; exhausted at {} at the 1h burn rate, at {} at the 6h burn rate",
      RemainingText(spec, r), ac.annotations["exhaustion_at_1h_burn"],
      ac.annotations["exhaustion_at_6h_burn"]);
  out->push_back(std::move(ac));
  return core::Status::Ok();
}

// SloErrorBudgetExhausted, when `r`'s budget is exhausted.
core::Status AddExhaustedCondition(const slo::SloSpec& spec, const slo::SloReport& r,
                                   std::vector<ActiveCondition>* out) {
  if (r.status != slo::SloStatus::kExhausted) return core::Status::Ok();
  ActiveCondition ac;
  ASSIGN_OR_RETURN(ac.labels, ConditionLabels(spec, "SloErrorBudgetExhausted", r.region, "ticket"));
  ac.value = r.budget_remaining_ratio.value_or(0);
  CommonAnnotations(spec, r, &ac.annotations);
  ac.annotations["summary"] =
      fmt::format("SLO {} in {} has exhausted its error budget", spec.name, r.region);
  ac.annotations["description"] = RemainingText(spec, r) + " budget left";
  out->push_back(std::move(ac));
  return core::Status::Ok();
}

// SloNoData for a region (`src` its counts), when it has no bucket with data in the last
// `no_data_minutes` completed minutes.
core::Status AddNoDataCondition(const slo::SloSpec& spec, const slo::SloReport& r,
                                const slo::CountSource& src, const StoreCounts& counts,
                                int64_t end_minute, int64_t no_data_minutes,
                                std::vector<ActiveCondition>* out) {
  if (src.Counts(end_minute - no_data_minutes, end_minute).covered > 0) return core::Status::Ok();
  // Minutes since the last bucket with data, searched back over the budget window by halving
  // (O(log window) queries).
  int64_t lo = r.window.begin_minute, hi = end_minute - no_data_minutes;
  // With no data in the whole window, silence is counted from when the SLO first existed here,
  // not from the window's start: a fresh install (or a new SLO) whose agents have not delivered
  // yet gets no_data_for to do so before a ticket says "no data".
  double since = static_cast<double>(end_minute - std::max(lo, counts.created_minute()));
  const bool had_data = src.Counts(lo, hi).covered > 0;
  if (!had_data && since < static_cast<double>(no_data_minutes)) return core::Status::Ok();
  if (had_data) {
    // Find the last minute m in [lo, hi) with data: the largest m with Counts(m, hi) > 0.
    int64_t a = lo, b = hi - 1;
    while (a < b) {
      int64_t mid = a + (b - a + 1) / 2;
      if (src.Counts(mid, hi).covered > 0) a = mid; else b = mid - 1;
    }
    since = static_cast<double>(end_minute - (a + 1));
  }
  ActiveCondition ac;
  ASSIGN_OR_RETURN(ac.labels, ConditionLabels(spec, "SloNoData", r.region, "ticket"));
  ac.value = since;
  ac.annotations["summary"] =
      fmt::format("SLO {} has no data from {} for {} minutes", spec.name, r.region, since);
  ac.annotations["description"] = fmt::format(
      "no bucket with data in the last {} completed minutes; the region's samples (or "
      "enough of its probe locations for the quorum) are missing",
      no_data_minutes);
  ac.annotations["no_data_minutes"] = fmt::format("{}", since);
  ac.annotations["reason"] = "samples";
  out->push_back(std::move(ac));
  return core::Status::Ok();
}

// Every active condition of one SLO's reports (regions in order, then global). Errors: those of
// ConditionLabels; no condition is dropped.
core::Result<std::vector<ActiveCondition>> Conditions(const slo::SloSpec& spec,
                                                      const std::vector<slo::SloReport>& reports,
                                                      const StoreCounts& counts,
                                                      int64_t end_minute,
                                                      const SloEvaluatorOptions& options) {
  std::vector<ActiveCondition> out;
  const int64_t no_data_minutes = NoDataMinutes(options);
  // What the regions' burn-rate alerts already say, for region="global".
  bool regional_page = false, regional_burn = false;
  for (size_t i = 0; i < reports.size() && i < counts.size(); ++i) {
    const bool page = Fires(reports[i], slo::Severity::kPage);
    regional_page = regional_page || page;
    regional_burn = regional_burn || page || Fires(reports[i], slo::Severity::kTicket);
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    const slo::SloReport& r = reports[i];
    const bool global = i == counts.size();
    if (global && !options.alert_on_global) continue;
    const bool page_fires = Fires(r, slo::Severity::kPage);
    for (slo::Severity severity : {slo::Severity::kPage, slo::Severity::kTicket}) {
      // One outage, one page per region: a ticket says less than the page of the same SLO and
      // region, and region="global" says less than a region's alert that explains it (the
      // global burn rate is the regions' rates weighted by their events, so it burns because
      // they do). A global alert stands only when no region's alert of that severity or higher
      // fires: a spread-out burn, or regions each under their min_events guard.
      if (severity == slo::Severity::kTicket && page_fires) continue;
      if (global && (severity == slo::Severity::kPage ? regional_page : regional_burn)) continue;
      RETURN_IF_ERROR(AddBurnRateCondition(spec, r, severity, &out));
    }
    RETURN_IF_ERROR(AddExhaustedCondition(spec, r, &out));
    if (!global) {
      RETURN_IF_ERROR(AddNoDataCondition(spec, r, counts.region(i), counts, end_minute,
                                         no_data_minutes, &out));
    }
  }
  return out;
}

// The burn-rate alerts that no data can decide (ActiveCondition::no_data): those of every region
// without a bucket with data in the last `no_data_for` (its short windows see nothing, so a page
// would resolve by silence), and global's when any region is so (its sum lost a part).
// Errors: those of ConditionLabels.
core::Result<std::vector<ActiveCondition>> UndecidedConditions(
    const slo::SloSpec& spec, const std::vector<slo::SloReport>& reports,
    const StoreCounts& counts, int64_t end_minute, const SloEvaluatorOptions& options) {
  std::vector<ActiveCondition> out;
  const int64_t no_data_minutes = NoDataMinutes(options);
  auto undecided = [&](std::string_view region) -> core::Status {
    for (slo::Severity severity : {slo::Severity::kPage, slo::Severity::kTicket}) {
      ActiveCondition ac;
      ASSIGN_OR_RETURN(ac.labels,
                       ConditionLabels(spec, "SloBurnRate", region, slo::SeverityName(severity)));
      ac.no_data = true;
      out.push_back(std::move(ac));
    }
    return core::Status::Ok();
  };
  bool any_dark = false;
  for (size_t i = 0; i < counts.size() && i < reports.size(); ++i) {
    if (counts.region(i).Counts(end_minute - no_data_minutes, end_minute).covered > 0) continue;
    any_dark = true;
    RETURN_IF_ERROR(undecided(reports[i].region));
  }
  if (any_dark && options.alert_on_global) RETURN_IF_ERROR(undecided(kGlobal));
  return out;
}

}  // namespace

namespace {

// One series WriteBack writes: its labels, and the store's ref for them
// (Appender::AppendWithRef), set by the first append.
struct SloSeries {
  core::Labels labels;
  store::AppendRef ref;
};

// The nines_slo_* series of one SLO and region (see the file comment), by name.
struct WrittenSeries {
  std::string region;
  SloSeries sli;                     // nines_slo_sli{window}
  SloSeries budget_remaining_ratio;  // nines_slo_error_budget_remaining
  SloSeries budget_remaining;        // nines_slo_error_budget_remaining_<unit>
  SloSeries budget_total;            // nines_slo_error_budget_total_<unit>
  SloSeries coverage;                // nines_slo_coverage
  SloSeries events_good;             // nines_slo_events_total{outcome="good"}
  SloSeries events_bad;              // nines_slo_events_total{outcome="bad"}
  // nines_slo_burn_rate{window}, one per slo::kBurnRateWindows, in its order.
  std::array<SloSeries, std::size(slo::kBurnRateWindows)> burn_rates;
  // nines_slo_reduced_coverage, for SLOs whose quorum lost probers can cap (CanReduceCoverage).
  std::optional<SloSeries> reduced_coverage;
};

}  // namespace

struct SloEvaluator::Entry {
  SloRule rule;
  std::shared_ptr<const SloRule> shared_rule;  // a copy of `rule`, for the published results
  std::string key;
  std::unique_ptr<StoreCounts> counts;
  // The last evaluation (its `rule` left empty), shared with the published results: replaced,
  // never changed, once published.
  std::shared_ptr<const SloEvaluation> last = std::make_shared<const SloEvaluation>();
  // The series WriteBack writes for each report (in the order of last.reports), built when a
  // report's region first appears and dropped by SetRules: building labels per sample cost more
  // than the evaluation itself.
  std::vector<WrittenSeries> written;
  // The state changed since it was last written: new or re-read minutes, or a new rule. An
  // evaluation within the same minute with nothing late computes the same numbers, so it is not
  // written again.
  bool unwritten = true;
};

SloEvaluator::SloEvaluator(store::Reader& reader, AppenderFactory appenders,
                           SloEvaluatorOptions options)
    : reader_(reader),
      appenders_(std::move(appenders)),
      options_(options),
      results_(std::make_shared<const std::vector<Published>>()) {}

SloEvaluator::~SloEvaluator() = default;

void SloEvaluator::SetRules(std::vector<SloRule> rules) {
  std::lock_guard<std::mutex> lock(eval_mu_);
  std::map<std::string, std::unique_ptr<Entry>> old;
  for (auto& e : entries_) old[e->rule.spec.name] = std::move(e);
  entries_.clear();
  StoreCountsOptions co;
  co.settle = options_.settle;
  co.backfill = options_.backfill;
  co.max_window = options_.max_window;
  co.agent_down_after = options_.agent_down_after;
  for (SloRule& rule : rules) {
    auto e = std::make_unique<Entry>();
    e->key = CountsKey(rule);
    auto it = old.find(rule.spec.name);
    if (it != old.end() && it->second->key == e->key) {
      e = std::move(it->second);  // unchanged data: keep the counts and the last results
    } else {
      e->counts = std::make_unique<StoreCounts>(rule, co);
    }
    e->rule = std::move(rule);
    e->shared_rule = std::make_shared<const SloRule>(e->rule);
    e->written.clear();  // the service or unit may have changed
    e->unwritten = true;
    entries_.push_back(std::move(e));
  }
  PublishLocked();
}

void SloEvaluator::PublishLocked() {
  auto published = std::make_shared<std::vector<Published>>();
  published->reserve(entries_.size());
  for (const auto& e : entries_) published->push_back({e->shared_rule, e->last});
  std::lock_guard<std::mutex> rlock(results_mu_);
  results_ = std::move(published);
}

namespace {

// Whether the SLO's quorum can be capped by lost probers (StoreCounts::reduced_coverage).
bool CanReduceCoverage(const slo::SloSpec& spec) {
  return spec.sli == slo::SliKind::kProbeAvailability && spec.quorum > 1;
}

// The series WriteBack writes for `spec` in `region`. Errors: labels that cannot be built.
core::Result<WrittenSeries> MakeWrittenSeries(const slo::SloSpec& spec, std::string_view region) {
  auto series = [&](std::string_view name, std::string_view extra_name = "",
                    std::string_view extra_value = "") -> core::Result<SloSeries> {
    core::Labels::Builder b;
    b.Set(core::kMetricNameLabel, name);
    b.Set("slo", spec.name);
    b.Set("service", spec.service);
    b.Set("region", region);
    if (!extra_name.empty()) b.Set(extra_name, extra_value);
    ASSIGN_OR_RETURN(core::Labels labels, b.Build());
    return SloSeries{std::move(labels), store::AppendRef()};
  };
  const std::string unit(Unit(spec));
  WrittenSeries w;
  w.region = std::string(region);
  ASSIGN_OR_RETURN(w.sli, series("nines_slo_sli", "window", spec.window.ToString()));
  ASSIGN_OR_RETURN(w.budget_remaining_ratio, series("nines_slo_error_budget_remaining"));
  ASSIGN_OR_RETURN(w.budget_remaining, series("nines_slo_error_budget_remaining_" + unit));
  ASSIGN_OR_RETURN(w.budget_total, series("nines_slo_error_budget_total_" + unit));
  ASSIGN_OR_RETURN(w.coverage, series("nines_slo_coverage"));
  ASSIGN_OR_RETURN(w.events_good, series("nines_slo_events_total", "outcome", "good"));
  ASSIGN_OR_RETURN(w.events_bad, series("nines_slo_events_total", "outcome", "bad"));
  for (size_t k = 0; k < w.burn_rates.size(); ++k) {
    ASSIGN_OR_RETURN(w.burn_rates[k], series("nines_slo_burn_rate", "window",
                                             slo::kBurnRateWindows[k].ToString()));
  }
  if (CanReduceCoverage(spec)) {
    ASSIGN_OR_RETURN(w.reduced_coverage, series("nines_slo_reduced_coverage"));
  }
  return w;
}

}  // namespace

void SloEvaluator::WriteBack(Entry& e, core::Timestamp now, store::Appender& app,
                             core::Status* st) {
  const slo::SloSpec& spec = e.rule.spec;
  const int64_t t = now.UnixMillis();
  e.written.resize(e.last->reports.size());
  for (size_t i = 0; i < e.last->reports.size() && st->ok(); ++i) {
    const slo::SloReport& r = e.last->reports[i];
    WrittenSeries& w = e.written[i];
    if (w.region.empty() || w.region != r.region) {
      core::Result<WrittenSeries> made = MakeWrittenSeries(spec, r.region);
      if (!made.ok()) {
        *st = made.status();
        w = WrittenSeries();
        return;
      }
      w = *std::move(made);
    }
    auto put = [&](SloSeries& series, double v) {
      if (!st->ok() || !std::isfinite(v)) return;
      *st = app.AppendWithRef(series.labels, t, v, &series.ref);
    };
    if (r.sli) put(w.sli, *r.sli);
    if (r.budget_remaining_ratio) put(w.budget_remaining_ratio, *r.budget_remaining_ratio);
    put(w.budget_remaining, r.budget_remaining);
    put(w.budget_total, r.budget_total);
    for (size_t k = 0; k < r.burn_rates.size() && k < w.burn_rates.size(); ++k) {
      if (r.burn_rates[k].rate) put(w.burn_rates[k], *r.burn_rates[k].rate);
    }
    put(w.coverage, r.coverage);
    const bool global = i == e.counts->size();
    if (w.reduced_coverage && !global) {
      put(*w.reduced_coverage, e.last->reduced_coverage.contains(r.region) ? 1 : 0);
    }
    // Cumulative events since the counts began.
    const slo::CountSource& src = global ? e.counts->global() : e.counts->region(i);
    slo::WindowCounts all =
        spec.no_data == slo::NoDataPolicy::kUnknown
            ? src.Counts(e.counts->first_minute(), e.counts->end_minute())
            : slo::CountsKnownSince(src, e.counts->first_minute(), e.counts->end_minute(),
                                    e.counts->known_since());
    slo::Tally tally = slo::TallyOf(spec, all);
    if (spec.method == slo::BudgetingMethod::kOccurrences) {
      put(w.events_good, static_cast<double>(tally.good));
      put(w.events_bad, static_cast<double>(tally.bad()));
    } else {
      put(w.events_good, static_cast<double>(all.good));
      put(w.events_bad, static_cast<double>(all.total - all.good));
    }
  }
  WriteUndeclared(e, t, app, st);
}

void SloEvaluator::WriteUndeclared(Entry& e, int64_t t, store::Appender& app, core::Status* st) {
  const slo::SloSpec& spec = e.rule.spec;
  // Samples of undeclared regions (rare: labels built on the spot).
  for (const auto& [region, samples] : e.last->undeclared_samples) {
    if (!st->ok()) return;
    core::Labels::Builder b;
    b.Set(core::kMetricNameLabel, "nines_slo_undeclared_region_samples_total");
    b.Set("slo", spec.name);
    b.Set("service", spec.service);
    b.Set("region", region);
    auto labels = b.Build();
    if (!labels.ok()) {
      *st = labels.status();
      return;
    }
    *st = app.Append(*labels, t, static_cast<double>(samples));
  }
}

core::Result<std::shared_ptr<SloEvaluation>> SloEvaluator::EvaluateEntry(Entry& e,
                                                                         core::Timestamp now) {
  RETURN_IF_ERROR(e.counts->Update(reader_, now));
  auto next = std::make_shared<SloEvaluation>();
  for (size_t i = 0; i <= e.counts->size(); ++i) {
    const bool global = i == e.counts->size();
    ASSIGN_OR_RETURN(slo::SloReport r,
                     slo::EvaluateSlo(e.rule.spec,
                                      global ? std::string(kGlobal) : e.counts->region_name(i),
                                      global ? e.counts->global() : e.counts->region(i), now,
                                      e.counts->known_since()));
    next->reports.push_back(std::move(r));
  }
  const int64_t end_minute = slo::MinuteOf(now);
  ASSIGN_OR_RETURN(next->conditions,
                   Conditions(e.rule.spec, next->reports, *e.counts, end_minute, options_));
  ASSIGN_OR_RETURN(std::vector<ActiveCondition> undecided,
                   UndecidedConditions(e.rule.spec, next->reports, *e.counts, end_minute,
                                       options_));
  for (ActiveCondition& c : undecided) next->conditions.push_back(std::move(c));
  next->evaluated_at = now;
  for (size_t i = 0; i < e.counts->size(); ++i) {
    if (const ReducedCoverage* rc = e.counts->reduced_coverage(i)) {
      next->reduced_coverage[e.counts->region_name(i)] = *rc;
    }
  }
  next->undeclared_samples = e.counts->undeclared_samples();
  return next;
}

core::Status SloEvaluator::Evaluate(core::Timestamp now) {
  std::lock_guard<std::mutex> lock(eval_mu_);
  core::Status first_error = core::Status::Ok();
  size_t failed = 0;
  for (auto& ep : entries_) {
    Entry& e = *ep;
    core::Result<std::shared_ptr<SloEvaluation>> next = EvaluateEntry(e, now);
    if (!next.ok()) {
      const core::Status& st = next.status();
      ++failed;
      if (first_error.ok()) first_error = st;
      auto kept = std::make_shared<SloEvaluation>(*e.last);  // the previous results, kept
      kept->error = st.ToString();
      kept->status = st;
      e.last = std::move(kept);
      LOG_WARNING("slo {}: evaluation at {} failed: {}", e.rule.spec.name, now.ToRfc3339(),
                  st.ToString());
      continue;
    }
    e.last = *std::move(next);
    if (e.counts->last_read_minutes() > 0) e.unwritten = true;
  }
  PublishLocked();
  if (options_.write_back && appenders_ && failed < entries_.size()) {
    if (!appender_) appender_ = appenders_();  // kept: its buffers are reused every cycle
    store::Appender& app = *appender_;
    core::Status st = core::Status::Ok();
    std::vector<Entry*> written;
    for (const auto& e : entries_) {
      if (e->unwritten && e->last->evaluated_at == now && e->last->error.empty()) {
        WriteBack(*e, now, app, &st);
        written.push_back(e.get());
      }
    }
    if (!st.ok()) {
      app.Rollback();
      return st;
    }
    auto committed = app.Commit();
    if (!committed.ok()) return committed.status();
    for (Entry* e : written) e->unwritten = false;
  }
  if (!entries_.empty() && failed == entries_.size()) {
    return core::InternalError("every SLO failed to evaluate; first: {}", first_error.ToString());
  }
  return core::Status::Ok();
}

std::shared_ptr<const std::vector<SloEvaluator::Published>> SloEvaluator::Snapshot() const {
  std::lock_guard<std::mutex> lock(results_mu_);
  return results_;
}

std::vector<ActiveCondition> SloEvaluator::ActiveConditions() const {
  std::vector<ActiveCondition> out;
  for (const Published& p : *Snapshot()) {
    for (const ActiveCondition& c : p.eval->conditions) {
      if (!c.no_data) out.push_back(c);
    }
  }
  return out;
}

std::vector<SloEvaluation> SloEvaluator::Results() const {
  std::shared_ptr<const std::vector<Published>> results = Snapshot();
  std::vector<SloEvaluation> out;
  out.reserve(results->size());
  for (const Published& p : *results) {
    out.push_back(*p.eval);
    out.back().rule = *p.rule;
  }
  return out;
}

size_t SloEvaluator::MemoryBytes() const {
  std::lock_guard<std::mutex> lock(eval_mu_);
  size_t total = 0;
  for (const auto& e : entries_) total += e->counts->MemoryBytes();
  return total;
}

}  // namespace nines::rules
