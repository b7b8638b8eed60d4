#include "slo/slo.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace nines::slo {

namespace internal {
// window.cc
core::Status ValidateTimeZone(std::string_view name);
}  // namespace internal

namespace {

constexpr core::Duration kMinute = core::Duration::Minutes(1);

bool IsWholeMinutes(core::Duration d) {
  return d > core::Duration::Zero() && d % kMinute == core::Duration::Zero();
}

// A forecast further out than this is reported as "not in sight" (nullopt).
constexpr double kMaxForecastSeconds = 10.0 * 365 * 86400;

}  // namespace

std::string_view SliKindName(SliKind k) {
  switch (k) {
    case SliKind::kProbeAvailability: return "probe_availability";
    case SliKind::kLatency: return "latency";
    case SliKind::kRequestRatio: return "request_ratio";
    case SliKind::kFreshness: return "freshness";
  }
  return "?";
}

std::string_view BudgetingMethodName(BudgetingMethod m) {
  return m == BudgetingMethod::kOccurrences ? "occurrences" : "timeslices";
}

std::string_view NoDataPolicyName(NoDataPolicy p) {
  switch (p) {
    case NoDataPolicy::kUnknown: return "unknown";
    case NoDataPolicy::kGood: return "good";
    case NoDataPolicy::kBad: return "bad";
  }
  return "?";
}

std::string_view CalendarUnitName(CalendarUnit u) {
  switch (u) {
    case CalendarUnit::kWeek: return "week";
    case CalendarUnit::kMonth: return "month";
    case CalendarUnit::kQuarter: return "quarter";
  }
  return "?";
}

std::string_view SeverityName(Severity s) { return s == Severity::kPage ? "page" : "ticket"; }

std::string_view SloStatusName(SloStatus s) {
  switch (s) {
    case SloStatus::kHealthy: return "healthy";
    case SloStatus::kBurning: return "burning";
    case SloStatus::kExhausted: return "exhausted";
    case SloStatus::kNoData: return "no_data";
  }
  return "?";
}

std::string Window::ToString() const {
  if (kind == Kind::kRolling) return rolling.ToString();
  return fmt::format("calendar {} {}", CalendarUnitName(unit), time_zone);
}

std::vector<BurnRateRule> DefaultBurnRateRules() {
  using core::Duration;
  return {
      {Severity::kPage, Duration::Hours(1), Duration::Minutes(5), 0.02, 0},
      {Severity::kPage, Duration::Hours(6), Duration::Minutes(30), 0.05, 0},
      {Severity::kTicket, Duration::Days(1), Duration::Hours(2), 0.10, 0},
      {Severity::kTicket, Duration::Days(3), Duration::Hours(6), 0.10, 0},
  };
}

double RuleFactor(const BurnRateRule& rule, core::Duration period) {
  if (rule.factor > 0) return rule.factor;
  // Whole-minute ratio first, so 30d / 1h is exactly 720 and the default gives 14.4.
  double ratio = static_cast<double>(period.nanos()) / static_cast<double>(rule.long_window.nanos());
  return rule.budget_fraction * ratio;
}

core::Status ValidateSlo(const SloSpec& spec) {
  if (spec.name.empty()) return core::InvalidArgumentError("slo: name is required");
  auto fail = [&spec](std::string what) {
    return core::InvalidArgumentError("slo \"{}\": {}", spec.name, what);
  };
  if (!std::isfinite(spec.objective) || spec.objective <= 0 || spec.objective >= 100) {
    return fail(fmt::format("objective {} is not in (0, 100)", spec.objective));
  }
  if (spec.window.kind == Window::Kind::kRolling) {
    if (!IsWholeMinutes(spec.window.rolling)) {
      return fail(fmt::format("window {} is not a positive whole number of minutes",
                              spec.window.rolling.ToString()));
    }
  } else {
    core::Status s = internal::ValidateTimeZone(spec.window.time_zone);
    if (!s.ok()) return fail("window: " + s.message());
  }
  if (spec.timeslice_target.has_value() &&
      !(*spec.timeslice_target >= 0 && *spec.timeslice_target <= 1)) {
    return fail(fmt::format("timeslice_target {} is not in [0, 1]", *spec.timeslice_target));
  }
  if (spec.quorum < 0) return fail(fmt::format("quorum {} is negative", spec.quorum));
  if (spec.no_data != NoDataPolicy::kUnknown && spec.method == BudgetingMethod::kOccurrences &&
      (spec.sli == SliKind::kLatency || spec.sli == SliKind::kRequestRatio)) {
    return fail(fmt::format(
        "no_data: {} with occurrences needs one event per minute (probe_availability or "
        "freshness); use timeslices or no_data: unknown for a {} SLI",
        NoDataPolicyName(spec.no_data), SliKindName(spec.sli)));
  }
  if (spec.alerting.min_events < 0) return fail("alerting.min_events is negative");
  if (spec.alerting.exhaustion_min_events < 0) {
    return fail("alerting.exhaustion_min_events is negative");
  }
  if (!(spec.alerting.exhaustion_min_coverage >= 0 && spec.alerting.exhaustion_min_coverage <= 1)) {
    return fail(fmt::format("alerting.exhaustion_min_coverage {} is not in [0, 1]",
                            spec.alerting.exhaustion_min_coverage));
  }
  for (size_t i = 0; i < spec.alerting.rules.size(); ++i) {
    const BurnRateRule& r = spec.alerting.rules[i];
    std::string where = fmt::format("alerting.rules[{}]: ", i);
    if (!IsWholeMinutes(r.long_window) || !IsWholeMinutes(r.short_window)) {
      return fail(where + "windows must be positive whole numbers of minutes");
    }
    if (r.short_window >= r.long_window) {
      return fail(where + fmt::format("short window {} is not shorter than long window {}",
                                      r.short_window.ToString(), r.long_window.ToString()));
    }
    if (!(r.factor >= 0) || !(r.budget_fraction >= 0) ||
        (r.factor == 0 && r.budget_fraction == 0)) {
      return fail(where + "needs a positive factor or budget_fraction");
    }
  }
  return core::Status::Ok();
}

Tally TallyOf(const SloSpec& spec, const WindowCounts& c) {
  Tally t;
  if (spec.method == BudgetingMethod::kOccurrences) {
    int64_t no_data = c.buckets - c.covered;
    t.good = c.good + (spec.no_data == NoDataPolicy::kGood ? no_data : 0);
    t.total = c.total + (spec.no_data == NoDataPolicy::kUnknown ? 0 : no_data);
  } else {
    int64_t no_data = c.slices - c.slices_covered;
    int64_t bad = c.bad_slices + (spec.no_data == NoDataPolicy::kBad ? no_data : 0);
    t.total = c.slices_covered + (spec.no_data == NoDataPolicy::kUnknown ? 0 : no_data);
    t.good = t.total - bad;
  }
  return t;
}

bool OneEventPerMinute(SliKind kind) {
  return kind == SliKind::kProbeAvailability || kind == SliKind::kFreshness;
}

WindowCounts CountsKnownSince(const CountSource& counts, int64_t begin_minute, int64_t end_minute,
                              int64_t known_since) {
  WindowCounts c = counts.Counts(begin_minute, end_minute);
  if (known_since > begin_minute) {
    // Only the minutes without data go: data before known_since (which a caller's bound may
    // miss) still counts.
    WindowCounts before = counts.Counts(begin_minute, std::min(known_since, end_minute));
    c.buckets -= before.buckets - before.covered;
    c.slices -= before.slices - before.slices_covered;
  }
  return c;
}

namespace {

// The counts the no-data policy applies to (CountsKnownSince), saving the second query when the
// policy does not count missing minutes.
WindowCounts PolicyCounts(const SloSpec& spec, const CountSource& counts, int64_t begin,
                          int64_t end, int64_t known_since) {
  if (spec.no_data == NoDataPolicy::kUnknown) return counts.Counts(begin, end);
  return CountsKnownSince(counts, begin, end, known_since);
}

std::optional<double> RateOf(const SloSpec& spec, const Tally& t) {
  if (t.total <= 0) return std::nullopt;
  return (static_cast<double>(t.bad()) / static_cast<double>(t.total)) / spec.BudgetRatio();
}

BurnRate BurnRateAt(const SloSpec& spec, const CountSource& counts, core::Duration window,
                    int64_t end_minute, int64_t known_since) {
  BurnRate b;
  b.window = window;
  const int64_t begin_minute = end_minute - window / kMinute;
  b.tally = TallyOf(spec, PolicyCounts(spec, counts, begin_minute, end_minute, known_since));
  b.rate = RateOf(spec, b.tally);
  return b;
}

// Burn rates for the alert rules, reusing the ones already computed for kBurnRateWindows.
BurnRate LookupOrCompute(const SloSpec& spec, const CountSource& counts,
                         const std::vector<BurnRate>& known, core::Duration window,
                         int64_t end_minute, int64_t known_since) {
  for (const BurnRate& b : known) {
    if (b.window == window) return b;
  }
  return BurnRateAt(spec, counts, window, end_minute, known_since);
}

std::vector<AlertCondition> Conditions(const SloSpec& spec, const CountSource& counts,
                                       core::Duration period, int64_t end_minute,
                                       int64_t known_since, const std::vector<BurnRate>& known) {
  std::vector<AlertCondition> out;
  out.reserve(spec.alerting.rules.size());
  for (const BurnRateRule& rule : spec.alerting.rules) {
    AlertCondition c;
    c.rule = rule;
    c.factor = RuleFactor(rule, period);
    c.long_burn = LookupOrCompute(spec, counts, known, rule.long_window, end_minute, known_since);
    c.short_burn = LookupOrCompute(spec, counts, known, rule.short_window, end_minute, known_since);
    c.guarded = spec.alerting.min_events > 0 && c.long_burn.tally.total < spec.alerting.min_events;
    c.firing = !c.guarded && BurnRateRuleFires(c.factor, c.long_burn.rate, c.short_burn.rate);
    out.push_back(std::move(c));
  }
  return out;
}

// Exhausted means the consumed budget reached the total; the relative tolerance keeps
// 0.002 * 1000 events (2.0000000000000018 in binary) with 2 bad ones exhausted.
bool IsExhausted(const SloReport& r) {
  return r.budget_total > 0 && r.budget_consumed >= r.budget_total * (1 - 1e-9);
}

std::optional<core::Timestamp> Exhaustion(const SloReport& r, const std::optional<double>& burn,
                                          core::Timestamp now) {
  if (!r.budget_remaining_ratio.has_value()) return std::nullopt;
  if (IsExhausted(r)) return now;
  if (!burn.has_value() || *burn <= 0) return std::nullopt;
  double seconds = *r.budget_remaining_ratio * r.window.period.SecondsDouble() / *burn;
  if (!(seconds <= kMaxForecastSeconds)) return std::nullopt;
  return now + core::Duration::FromSecondsDouble(seconds);
}

}  // namespace

BurnRate ComputeBurnRate(const SloSpec& spec, const CountSource& counts, core::Duration window,
                         core::Timestamp now, int64_t known_since) {
  return BurnRateAt(spec, counts, window, MinuteOf(now), known_since);
}

bool BurnRateRuleFires(double factor, std::optional<double> long_rate,
                       std::optional<double> short_rate) {
  return long_rate.has_value() && short_rate.has_value() && *long_rate > factor &&
         *short_rate > factor;
}

std::vector<AlertCondition> EvaluateAlertConditions(const SloSpec& spec,
                                                    const CountSource& counts,
                                                    core::Duration period, core::Timestamp now,
                                                    int64_t known_since) {
  return Conditions(spec, counts, period, MinuteOf(now), known_since, {});
}

const BurnRate* SloReport::BurnRateOver(core::Duration w) const {
  for (const BurnRate& b : burn_rates) {
    if (b.window == w) return &b;
  }
  return nullptr;
}

core::Result<SloReport> EvaluateSlo(const SloSpec& spec, std::string region,
                                    const CountSource& counts, core::Timestamp now,
                                    int64_t known_since) {
  SloReport r;
  r.region = std::move(region);
  ASSIGN_OR_RETURN(r.window, ResolveWindow(spec.window, now));
  const int64_t begin = r.window.begin_minute;
  const int64_t end = r.window.end_minute;

  WindowCounts c = counts.Counts(begin, end);
  r.tally = TallyOf(spec, spec.no_data == NoDataPolicy::kUnknown
                              ? c
                              : CountsKnownSince(counts, begin, end, known_since));
  if (r.tally.total > 0) {
    r.sli = static_cast<double>(r.tally.good) / static_cast<double>(r.tally.total);
  }
  r.coverage = c.buckets > 0 ? static_cast<double>(c.covered) / static_cast<double>(c.buckets) : 0;

  const double ratio = spec.BudgetRatio();
  const double period_minutes = r.window.period.SecondsDouble() / 60.0;
  // Buckets of the whole period: one per minute and region (a calendar window holds only the
  // minutes so far; region="global" sums the regions' buckets).
  const double period_buckets =
      end > begin
          ? static_cast<double>(c.buckets) * period_minutes / static_cast<double>(end - begin)
          : period_minutes;
  const bool per_request =
      spec.method == BudgetingMethod::kOccurrences && !OneEventPerMinute(spec.sli);
  if (spec.method == BudgetingMethod::kTimeslices) {
    r.budget_total = ratio * period_minutes;
  } else if (!per_request) {
    r.budget_total = ratio * period_buckets;
  } else {
    r.budget_total = ratio * static_cast<double>(r.tally.total);
  }
  r.budget_consumed = static_cast<double>(r.tally.bad());
  r.budget_remaining = r.budget_total - r.budget_consumed;
  if (r.budget_total > 0) r.budget_remaining_ratio = r.budget_remaining / r.budget_total;

  r.burn_rates.reserve(std::size(kBurnRateWindows));
  for (core::Duration w : kBurnRateWindows) {
    r.burn_rates.push_back(BurnRateAt(spec, counts, w, end, known_since));
  }
  r.exhaustion_at_1h = Exhaustion(r, r.BurnRateOver(core::Duration::Hours(1))->rate, now);
  r.exhaustion_at_6h = Exhaustion(r, r.BurnRateOver(core::Duration::Hours(6))->rate, now);

  r.alerts = Conditions(spec, counts, r.window.period, end, known_since, r.burn_rates);

  bool exhausted = IsExhausted(r);
  if (exhausted && per_request) {
    const double period_coverage =
        period_buckets > 0 ? static_cast<double>(c.covered) / period_buckets : 0;
    r.exhaustion_guarded = r.tally.total < spec.alerting.exhaustion_min_events ||
                           period_coverage < spec.alerting.exhaustion_min_coverage;
    exhausted = !r.exhaustion_guarded;
  }
  bool firing = false;
  for (const AlertCondition& a : r.alerts) firing = firing || a.firing;
  if (r.tally.total == 0) {
    r.status = SloStatus::kNoData;
  } else if (exhausted) {
    r.status = SloStatus::kExhausted;
  } else if (firing) {
    r.status = SloStatus::kBurning;
  } else {
    r.status = SloStatus::kHealthy;
  }
  return r;
}

SloCounts::SloCounts(std::vector<std::pair<std::string, BucketSeries>> regions,
                     double slice_target)
    : summed_(0, slice_target) {
  std::vector<const BucketSeries*> series;
  names_.reserve(regions.size());
  regions_.reserve(regions.size());
  for (auto& [name, s] : regions) {
    names_.push_back(name);
    regions_.push_back(PrefixCounts::Build(s, slice_target));
    series.push_back(&s);
  }
  summed_ = PrefixCounts::Build(SumSeries(series), slice_target);
}

GlobalCounts SloCounts::global() const {
  std::vector<const CountSource*> regions;
  regions.reserve(regions_.size());
  for (const PrefixCounts& p : regions_) regions.push_back(&p);
  return GlobalCounts(std::move(regions), &summed_);
}

void SloCounts::AppendMinute(const std::vector<Bucket>& per_region) {
  Bucket sum;
  for (size_t i = 0; i < regions_.size() && i < per_region.size(); ++i) {
    const Bucket& b = per_region[i];
    regions_[i].Append(b);
    if (!b.has_data) continue;
    sum.has_data = true;
    sum.good += b.good;
    sum.total += b.total;
  }
  summed_.Append(sum);
}

core::Result<std::vector<SloReport>> EvaluateAll(const SloSpec& spec, const SloCounts& counts,
                                                 core::Timestamp now) {
  std::vector<SloReport> out;
  out.reserve(counts.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) {
    ASSIGN_OR_RETURN(SloReport r, EvaluateSlo(spec, counts.region_name(i), counts.region(i), now));
    out.push_back(std::move(r));
  }
  GlobalCounts global = counts.global();
  ASSIGN_OR_RETURN(SloReport g, EvaluateSlo(spec, "global", global, now));
  out.push_back(std::move(g));
  return out;
}

}  // namespace nines::slo
