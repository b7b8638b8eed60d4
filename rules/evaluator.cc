#include "rules/evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
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

core::Result<core::Labels> ConditionLabels(const slo::SloSpec& spec, std::string_view alertname,
                                           std::string_view region, std::string_view severity) {
  core::Labels::Builder b(spec.labels);
  b.Set(core::kMetricNameLabel, "");
  b.Set("alertname", alertname);
  b.Set("slo", spec.name);
  b.Set("service", spec.service);
  b.Set("region", region);
  b.Set("severity", severity);
  return b.Build();
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

std::vector<ActiveCondition> Conditions(const slo::SloSpec& spec,
                                        const std::vector<slo::SloReport>& reports,
                                        const StoreCounts& counts, int64_t end_minute,
                                        const SloEvaluatorOptions& options) {
  std::vector<ActiveCondition> out;
  const int64_t no_data_minutes = NoDataMinutes(options);
  auto fires = [](const slo::SloReport& r, slo::Severity severity) {
    return std::any_of(r.alerts.begin(), r.alerts.end(), [&](const slo::AlertCondition& c) {
      return c.firing && c.rule.severity == severity;
    });
  };
  // What the regions' burn-rate alerts already say, for region="global".
  bool regional_page = false, regional_burn = false;
  for (size_t i = 0; i < reports.size() && i < counts.size(); ++i) {
    const bool page = fires(reports[i], slo::Severity::kPage);
    regional_page = regional_page || page;
    regional_burn = regional_burn || page || fires(reports[i], slo::Severity::kTicket);
  }
  for (size_t i = 0; i < reports.size(); ++i) {
    const slo::SloReport& r = reports[i];
    const bool global = i == counts.size();
    if (global && !options.alert_on_global) continue;
    // Only for the annotations of a condition (most reports have none).
    auto remaining_text = [&r, &spec] {
      return fmt::format("{:.4g} of {:.4g} {} ({})", r.budget_remaining, r.budget_total,
                         Unit(spec),
                         r.budget_remaining_ratio
                             ? fmt::format("{:.2f}%", *r.budget_remaining_ratio * 100)
                             : std::string("no budget yet"));
    };
    // One condition per severity (so one incident pages once per region, whichever window
    // pairs fire): the firing rule of that severity with the shortest long window speaks for
    // it; every firing pair is listed.
    const bool page_fires = fires(r, slo::Severity::kPage);
    for (slo::Severity severity : {slo::Severity::kPage, slo::Severity::kTicket}) {
      // One outage, one page per region: a ticket says less than the page of the same SLO and
      // region, and region="global" says less than a region's alert that explains it (the
      // global burn rate is the regions' rates weighted by their events, so it burns because
      // they do). A global alert stands only when no region's alert of that severity or higher
      // fires: a spread-out burn, or regions each under their min_events guard.
      if (severity == slo::Severity::kTicket && page_fires) continue;
      if (global && (severity == slo::Severity::kPage ? regional_page : regional_burn)) continue;
      const slo::AlertCondition* first = nullptr;
      std::string pairs;
      for (const slo::AlertCondition& c : r.alerts) {
        if (!c.firing || c.rule.severity != severity) continue;
        if (first == nullptr || c.rule.long_window < first->rule.long_window) first = &c;
        if (!pairs.empty()) pairs += ", ";
        pairs += c.rule.long_window.ToString() + "/" + c.rule.short_window.ToString();
      }
      if (first == nullptr) continue;
      const slo::AlertCondition& c = *first;
      auto labels = ConditionLabels(spec, "SloBurnRate", r.region, slo::SeverityName(severity));
      if (!labels.ok()) continue;
      ActiveCondition ac;
      ac.labels = std::move(*labels);
      ac.value = c.long_burn.rate.value_or(0);
      CommonAnnotations(spec, r, &ac.annotations);
      ac.annotations["window_pair"] = c.rule.long_window.ToString() + "/" +
                                      c.rule.short_window.ToString();
      ac.annotations["firing_window_pairs"] = pairs;
      ac.annotations["long_burn_rate"] = FormatOpt(c.long_burn.rate);
      ac.annotations["short_burn_rate"] = FormatOpt(c.short_burn.rate);
      ac.annotations["factor"] = fmt::format("{:.6g}", c.factor);
      ac.annotations["summary"] =
          fmt::format("SLO {} in {} burns its error budget at {}x over {} and {}x over {} "
                      "(threshold {:.4g}x)",
                      spec.name, r.region, FormatOpt(c.long_burn.rate),
                      c.rule.long_window.ToString(), FormatOpt(c.short_burn.rate),
                      c.rule.short_window.ToString(), c.factor);
      ac.annotations["description"] = fmt::format(
          "{} budget left; exhausted at {} at the 1h burn rate, at {} at the 6h burn rate",
          remaining_text(), ac.annotations["exhaustion_at_1h_burn"],
          ac.annotations["exhaustion_at_6h_burn"]);
      out.push_back(std::move(ac));
    }
    if (r.status == slo::SloStatus::kExhausted) {
      auto labels = ConditionLabels(spec, "SloErrorBudgetExhausted", r.region, "ticket");
      if (labels.ok()) {
        ActiveCondition ac;
        ac.labels = std::move(*labels);
        ac.value = r.budget_remaining_ratio.value_or(0);
        CommonAnnotations(spec, r, &ac.annotations);
        ac.annotations["summary"] = fmt::format("SLO {} in {} has exhausted its error budget",
                                                spec.name, r.region);
        ac.annotations["description"] = remaining_text() + " budget left";
        out.push_back(std::move(ac));
      }
    }
    if (!global) {
      const slo::CountSource& src = counts.region(i);
      slo::WindowCounts recent = src.Counts(end_minute - no_data_minutes, end_minute);
      if (recent.covered == 0) {
        // Minutes since the last bucket with data, searched back over the budget window by
        // halving (O(log window) queries).
        int64_t lo = r.window.begin_minute, hi = end_minute - no_data_minutes;
        // With no data in the whole window, silence is counted from when the SLO first existed
        // here, not from the window's start: a fresh install (or a new SLO) whose agents have not
        // delivered yet gets no_data_for to do so before a ticket says "no data".
        double since = static_cast<double>(end_minute - std::max(lo, counts.created_minute()));
        const bool had_data = src.Counts(lo, hi).covered > 0;
        if (!had_data && since < static_cast<double>(no_data_minutes)) continue;
        if (had_data) {
          // Find the last minute m in [lo, hi) with data: the largest m with Counts(m, hi) > 0.
          int64_t a = lo, b = hi - 1;
          while (a < b) {
            int64_t mid = a + (b - a + 1) / 2;
            if (src.Counts(mid, hi).covered > 0) a = mid; else b = mid - 1;
          }
          since = static_cast<double>(end_minute - (a + 1));
        }
        auto labels = ConditionLabels(spec, "SloNoData", r.region, "ticket");
        if (labels.ok()) {
          ActiveCondition ac;
          ac.labels = std::move(*labels);
          ac.value = since;
          ac.annotations["summary"] = fmt::format(
              "SLO {} has no data from {} for {} minutes", spec.name, r.region, since);
          ac.annotations["description"] = fmt::format(
              "no bucket with data in the last {} completed minutes; the region's samples (or "
              "enough of its probe locations for the quorum) are missing",
              no_data_minutes);
          ac.annotations["no_data_minutes"] = fmt::format("{}", since);
          ac.annotations["reason"] = "samples";
          out.push_back(std::move(ac));
        }
      }
    }
  }
  return out;
}

// The burn-rate alerts that no data can decide (ActiveCondition::no_data): those of every region
// without a bucket with data in the last `no_data_for` (its short windows see nothing, so a page
// would resolve by silence), and global's when any region is so (its sum lost a part).
std::vector<ActiveCondition> UndecidedConditions(const slo::SloSpec& spec,
                                                 const std::vector<slo::SloReport>& reports,
                                                 const StoreCounts& counts, int64_t end_minute,
                                                 const SloEvaluatorOptions& options) {
  std::vector<ActiveCondition> out;
  const int64_t no_data_minutes = NoDataMinutes(options);
  auto undecided = [&](std::string_view region) {
    for (slo::Severity severity : {slo::Severity::kPage, slo::Severity::kTicket}) {
      auto labels = ConditionLabels(spec, "SloBurnRate", region, slo::SeverityName(severity));
      if (!labels.ok()) continue;
      ActiveCondition ac;
      ac.labels = std::move(*labels);
      ac.no_data = true;
      out.push_back(std::move(ac));
    }
  };
  bool any_dark = false;
  for (size_t i = 0; i < counts.size() && i < reports.size(); ++i) {
    if (counts.region(i).Counts(end_minute - no_data_minutes, end_minute).covered > 0) continue;
    any_dark = true;
    undecided(reports[i].region);
  }
  if (any_dark && options.alert_on_global) undecided(kGlobal);
  return out;
}

}  // namespace

struct SloEvaluator::Entry {
  SloRule rule;
  std::shared_ptr<const SloRule> shared_rule;  // a copy of `rule`, for the published results
  std::string key;
  std::unique_ptr<StoreCounts> counts;
  // The last evaluation (its `rule` left empty), shared with the published results: replaced,
  // never changed, once published.
  std::shared_ptr<const SloEvaluation> last = std::make_shared<const SloEvaluation>();
  // The labels of the series WriteBack writes for each report (in the order of last.reports),
  // built when a report's region first appears and dropped by SetRules: building labels per
  // sample cost more than the evaluation itself.
  struct Written {
    std::string region;
    std::vector<core::Labels> labels;  // in the order of WrittenSeries()
    std::vector<store::AppendRef> refs;  // the store's refs for them (Appender::AppendWithRef)
  };
  std::vector<Written> written;
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

// What WriteBack writes per report, in order: name and extra labels.
// Whether the SLO's quorum can be capped by lost probers (StoreCounts::reduced_coverage).
bool CanReduceCoverage(const slo::SloSpec& spec) {
  return spec.sli == slo::SliKind::kProbeAvailability && spec.quorum > 1;
}

struct WrittenSeries {
  std::string name;
  std::vector<std::pair<std::string, std::string>> extra;
};
std::vector<WrittenSeries> WrittenSeriesOf(const slo::SloSpec& spec) {
  const std::string unit(Unit(spec));
  std::vector<WrittenSeries> out = {
      {"nines_slo_sli", {{"window", spec.window.ToString()}}},
      {"nines_slo_error_budget_remaining", {}},
      {"nines_slo_error_budget_remaining_" + unit, {}},
      {"nines_slo_error_budget_total_" + unit, {}},
      {"nines_slo_coverage", {}},
      {"nines_slo_events_total", {{"outcome", "good"}}},
      {"nines_slo_events_total", {{"outcome", "bad"}}},
  };
  for (core::Duration w : slo::kBurnRateWindows) {
    out.push_back({"nines_slo_burn_rate", {{"window", w.ToString()}}});
  }
  if (CanReduceCoverage(spec)) out.push_back({"nines_slo_reduced_coverage", {}});
  return out;
}
constexpr size_t kWrittenBurnRates = 7;  // WrittenSeriesOf: burn rates start here
// WrittenSeriesOf: nines_slo_reduced_coverage, when CanReduceCoverage.
constexpr size_t kWrittenReducedCoverage = kWrittenBurnRates + std::size(slo::kBurnRateWindows);

}  // namespace

void SloEvaluator::WriteBack(Entry& e, core::Timestamp now, store::Appender& app,
                             core::Status* st) {
  const slo::SloSpec& spec = e.rule.spec;
  const int64_t t = now.UnixMillis();
  e.written.resize(e.last->reports.size());
  for (size_t i = 0; i < e.last->reports.size() && st->ok(); ++i) {
    const slo::SloReport& r = e.last->reports[i];
    Entry::Written& w = e.written[i];
    if (w.labels.empty() || w.region != r.region) {
      w.region = r.region;
      w.labels.clear();
      w.refs.clear();
      for (const WrittenSeries& ws : WrittenSeriesOf(spec)) {
        core::Labels::Builder b;
        b.Set(core::kMetricNameLabel, ws.name);
        b.Set("slo", spec.name);
        b.Set("service", spec.service);
        b.Set("region", r.region);
        for (const auto& [k, val] : ws.extra) b.Set(k, val);
        auto labels = b.Build();
        if (!labels.ok()) {
          *st = labels.status();
          w.labels.clear();
          return;
        }
        w.labels.push_back(std::move(*labels));
      }
      w.refs.assign(w.labels.size(), store::AppendRef());
    }
    auto put = [&](size_t k, double v) {
      if (!st->ok() || !std::isfinite(v)) return;
      *st = app.AppendWithRef(w.labels[k], t, v, &w.refs[k]);
    };
    if (r.sli) put(0, *r.sli);
    if (r.budget_remaining_ratio) put(1, *r.budget_remaining_ratio);
    put(2, r.budget_remaining);
    put(3, r.budget_total);
    for (size_t k = 0; k < r.burn_rates.size() && k < std::size(slo::kBurnRateWindows); ++k) {
      if (r.burn_rates[k].rate) put(kWrittenBurnRates + k, *r.burn_rates[k].rate);
    }
    put(4, r.coverage);
    const bool global = i == e.counts->size();
    if (CanReduceCoverage(spec) && !global) {
      put(kWrittenReducedCoverage, e.last->reduced_coverage.contains(r.region) ? 1 : 0);
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
      put(5, static_cast<double>(tally.good));
      put(6, static_cast<double>(tally.bad()));
    } else {
      put(5, static_cast<double>(all.good));
      put(6, static_cast<double>(all.total - all.good));
    }
  }
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

core::Status SloEvaluator::Evaluate(core::Timestamp now) {
  std::lock_guard<std::mutex> lock(eval_mu_);
  core::Status first_error = core::Status::Ok();
  size_t failed = 0;
  const int64_t end_minute = slo::MinuteOf(now);
  for (auto& ep : entries_) {
    Entry& e = *ep;
    core::Status st = e.counts->Update(reader_, now);
    std::vector<slo::SloReport> reports;
    if (st.ok()) {
      for (size_t i = 0; i <= e.counts->size() && st.ok(); ++i) {
        const bool global = i == e.counts->size();
        auto r = slo::EvaluateSlo(e.rule.spec,
                                  global ? std::string(kGlobal) : e.counts->region_name(i),
                                  global ? e.counts->global() : e.counts->region(i), now,
                                  e.counts->known_since());
        if (!r.ok()) {
          st = r.status();
        } else {
          reports.push_back(std::move(*r));
        }
      }
    }
    if (!st.ok()) {
      ++failed;
      if (first_error.ok()) first_error = st;
      auto next = std::make_shared<SloEvaluation>(*e.last);  // the previous results, kept
      next->error = st.ToString();
      e.last = std::move(next);
      LOG_WARNING("slo {}: evaluation at {} failed: {}", e.rule.spec.name, now.ToRfc3339(),
                  st.ToString());
    } else {
      auto next = std::make_shared<SloEvaluation>();
      next->reports = std::move(reports);
      next->conditions =
          Conditions(e.rule.spec, next->reports, *e.counts, end_minute, options_);
      for (ActiveCondition& c :
           UndecidedConditions(e.rule.spec, next->reports, *e.counts, end_minute, options_)) {
        next->conditions.push_back(std::move(c));
      }
      next->evaluated_at = now;
      for (size_t i = 0; i < e.counts->size(); ++i) {
        if (const ReducedCoverage* rc = e.counts->reduced_coverage(i)) {
          next->reduced_coverage[e.counts->region_name(i)] = *rc;
        }
      }
      next->undeclared_samples = e.counts->undeclared_samples();
      e.last = std::move(next);
      if (e.counts->last_read_minutes() > 0) e.unwritten = true;
    }
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
