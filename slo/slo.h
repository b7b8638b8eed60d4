// slo: nines' SLO math. The SLO model, budget windows (rolling and calendar in an IANA time
// zone), error budgets, burn rates, exhaustion forecasts and multi-window multi-burn-rate alert
// conditions, all exact and computed from the one-minute buckets of slo/buckets.h.
//
// Everything here is a pure function of its inputs: `now` is passed in, nothing reads a clock,
// nothing touches the store. The rule engine (rules/) turns store data into buckets (with the
// conversions in buckets.h), keeps a CountSource per (SLO, region), calls EvaluateSlo each cycle
// and owns the alert state machine (pending/firing/resolved).
//
// Semantics, in one place:
// - Evaluation at `now` covers whole minutes before MinuteOf(now): the minute in progress is
//   left out because its counts are incomplete (a location's probe may not have arrived yet,
//   which would change the quorum).
// - Rolling window D: the last D of whole minutes. Calendar window: from the start of the current
//   week (Monday 00:00) / month / quarter in the SLO's time zone up to the evaluated minute; the
//   budget period is the whole calendar period in real minutes (a DST change makes a day 23 or
//   25 hours, so October 2026 in Europe/Berlin has 31 days and 1 hour).
// - Occurrences: events are the buckets' good/total; consumed = bad events; remaining = total -
//   consumed (may be negative). Budget total:
//   - one-event-per-minute SLIs (probe availability, freshness): (1 - objective) * the events of
//     the whole period, one per minute and region (86.4 for 99.8% over 30 days, whatever share
//     of the window has data yet), as for time slices: a window that holds a few minutes of
//     data does not make a budget of a few hundredths of an event;
//   - request SLIs (request ratio, latency): (1 - objective) * events counted in the window so
//     far (the whole period's events are not known in advance). So that a young window does not
//     declare such a budget spent, "exhausted" needs AlertPolicy::exhaustion_min_events events
//     and AlertPolicy::exhaustion_min_coverage of the period's minutes with data.
// - Time slices: each minute with data is good when good/total >= slice target. Budget total =
//   (1 - objective) * minutes of the whole period (86.4 for 99.8% over 30 days); consumed = bad
//   minutes.
// - No data: a minute (bucket) without data is unknown: excluded from the SLI and budgets,
//   reported through coverage (covered buckets / buckets in the window). NoDataPolicy kGood or
//   kBad instead counts each such bucket as one good or bad event (occurrences) or slice
//   (timeslices), but only from the SLO's `known_since` minute on (EvaluateSlo: when it first had
//   data or first existed): the minutes before nines knew the SLO are not its no-data minutes. For occurrences this is only exact when one bucket is one event, so
//   ValidateSlo allows kGood/kBad with occurrences only for per-minute SLIs (probe availability,
//   freshness).
// - region="global": event counts are sums over regions, never averages of ratios; its time
//   slices are minutes of the per-minute summed series (GlobalCounts).
// - Burn rate over W = (bad / counted) over the last W, divided by (1 - objective); 1 means the
//   budget lasts exactly the period. The no-data policy applies to it as to the budget.
//
// Thread-safety: the types are values; the functions are pure and thread-safe (calendar windows
// read the system tz database once, under the date library's own synchronisation).
#ifndef NINES_SLO_SLO_H_
#define NINES_SLO_SLO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"
#include "slo/buckets.h"

namespace nines::slo {

enum class SliKind {
  kProbeAvailability,  // probe_success per location, combined by quorum; one event per minute
  kLatency,            // share of probes or requests at or under a latency threshold
  kRequestRatio,       // good / total counters
  kFreshness,          // age of a "last success" timestamp under a threshold; one event/minute
};
enum class BudgetingMethod { kOccurrences, kTimeslices };
enum class NoDataPolicy { kUnknown, kGood, kBad };
enum class CalendarUnit { kWeek, kMonth, kQuarter };

std::string_view SliKindName(SliKind k);                // "probe_availability", ...
std::string_view BudgetingMethodName(BudgetingMethod m);  // "occurrences", "timeslices"
std::string_view NoDataPolicyName(NoDataPolicy p);      // "unknown", "good", "bad"
std::string_view CalendarUnitName(CalendarUnit u);      // "week", "month", "quarter"

// The budget window: rolling (the last `rolling` of time) or calendar (the current week from
// Monday, month or quarter in `time_zone`, an IANA name such as "Europe/Berlin").
struct Window {
  enum class Kind { kRolling, kCalendar };
  Kind kind = Kind::kRolling;
  core::Duration rolling = core::Duration::Days(30);  // kRolling: a positive whole number of minutes
  CalendarUnit unit = CalendarUnit::kMonth;             // kCalendar
  std::string time_zone = "UTC";                        // kCalendar

  static Window Rolling(core::Duration d) { return Window{Kind::kRolling, d, {}, "UTC"}; }
  static Window Calendar(CalendarUnit u, std::string tz) {
    return Window{Kind::kCalendar, core::Duration::Days(30), u, std::move(tz)};
  }
  // "30d" or "calendar month Europe/Berlin".
  std::string ToString() const;
};

enum class Severity { kPage, kTicket };
std::string_view SeverityName(Severity s);  // "page", "ticket"

// One multi-window burn-rate condition: fires when the burn rate over both the long and the
// short window exceeds (>) the factor, and the long window counted at least min_events events.
//
// Factors scale with the budget period so that a rule always means "this share of the budget
// was consumed within the long window":
//     factor = budget_fraction * period / long_window
// The SRE Workbook's 30-day defaults are budget fractions 2% in 1h (14.4x), 5% in 6h (6x), 10%
// in 1d (3x) and 10% in 3d (1x). For a 7-day period the page factor is 0.02 * 7d / 1h = 3.36.
// A calendar window uses its current period's real length. A `factor` > 0 overrides the scaling.
struct BurnRateRule {
  Severity severity = Severity::kPage;
  core::Duration long_window = core::Duration::Hours(1);
  core::Duration short_window = core::Duration::Minutes(5);
  double budget_fraction = 0.02;
  double factor = 0;  // > 0: used as is, whatever the period
};

// The Workbook's four rules (page 1h/5m and 6h/30m, ticket 1d/2h and 3d/6h).
std::vector<BurnRateRule> DefaultBurnRateRules();

// The factor of `rule` for a budget period of length `period`. REQUIRES: period > 0.
double RuleFactor(const BurnRateRule& rule, core::Duration period);

struct AlertPolicy {
  std::vector<BurnRateRule> rules = DefaultBurnRateRules();
  // The minimum-events guard: a rule fires only when its long window counted at least this many
  // events (occurrences) or minutes (timeslices). 0 turns the guard off. Keeps a service with
  // three requests an hour from paging on one failure.
  int64_t min_events = 0;
  // The exhaustion guard of request SLIs (request ratio, latency with occurrences, whose budget
  // is a share of the events counted so far): SloStatus::kExhausted (and the
  // SloErrorBudgetExhausted alert) needs at least this many events in the window and this share
  // of the whole period's minutes with data. Without it, one failed request among the first
  // hundred after the SLO was added "exhausted" a 30-day budget. Budgets of whole periods (probe
  // availability, freshness, time slices) need no guard: a young window cannot exhaust them.
  int64_t exhaustion_min_events = kDefaultExhaustionMinEvents;
  double exhaustion_min_coverage = kDefaultExhaustionMinCoverage;
  static constexpr int64_t kDefaultExhaustionMinEvents = 1000;
  static constexpr double kDefaultExhaustionMinCoverage = 0.5;
};

// An SLO as configured (rule files, OpenSLO documents) and validated.
struct SloSpec {
  std::string name;  // REQUIRED, unique
  std::string service;
  std::string description;
  SliKind sli = SliKind::kProbeAvailability;
  double objective = 99.8;  // percent of good events (or minutes), in (0, 100)
  Window window;            // default: rolling 30 days
  BudgetingMethod method = BudgetingMethod::kOccurrences;
  // kTimeslices: a minute is good when its good/total >= this ratio in [0, 1]. Unset: the
  // objective as a ratio (0.998).
  std::optional<double> timeslice_target;
  // kProbeAvailability: locations that must fail in a minute for the region to be down; 0 is a
  // majority of the locations that reported (see QuorumBuckets).
  int quorum = 0;
  std::vector<std::string> regions;  // empty: every region
  core::Labels labels;               // for routing; added to alerts
  NoDataPolicy no_data = NoDataPolicy::kUnknown;
  AlertPolicy alerting;

  // 1 - objective / 100: the share of events (or minutes) the budget allows to be bad.
  double BudgetRatio() const { return 1.0 - objective / 100.0; }
  // The slice target in effect.
  double SliceTarget() const { return timeslice_target.value_or(objective / 100.0); }
};

// Checks an SLO. Errors: INVALID_ARGUMENT naming the field: empty name, objective outside
// (0, 100), a rolling window that is not a positive whole number of minutes, an unknown time
// zone, a slice target outside [0, 1], a negative quorum, a burn-rate rule with a non-positive
// or non-minute window, a short window not shorter than its long one, a negative factor,
// fraction or min_events, an exhaustion_min_events < 0 or an exhaustion_min_coverage outside
// [0, 1], or kGood/kBad with occurrences on a latency or request-ratio SLI.
core::Status ValidateSlo(const SloSpec& spec);

// The budget window evaluated at `now`: [start, end) on whole minutes, and the period the
// budget is measured against (the rolling length, or the whole calendar period).
struct WindowBounds {
  int64_t begin_minute = 0;
  int64_t end_minute = 0;      // MinuteOf(now): the minute in progress is not included
  core::Duration period;       // the budget period's length
  core::Timestamp period_start;
  core::Timestamp period_end;  // rolling: end of the evaluated minutes; calendar: period end
};

// Where the window of `window` stands at `now`.
// Errors: INVALID_ARGUMENT for an unknown time zone or an invalid rolling length.
core::Result<WindowBounds> ResolveWindow(const Window& window, core::Timestamp now);

// The calendar period (week from Monday 00:00, month, quarter in `time_zone`) that contains
// `t`, as [start, end) instants. Errors: INVALID_ARGUMENT for an unknown time zone.
core::Result<std::pair<core::Timestamp, core::Timestamp>> CalendarPeriod(
    CalendarUnit unit, std::string_view time_zone, core::Timestamp t);

// The windows for which EvaluateSlo reports burn rates.
inline constexpr core::Duration kBurnRateWindows[] = {
    core::Duration::Minutes(5), core::Duration::Minutes(30), core::Duration::Hours(1),
    core::Duration::Hours(2),   core::Duration::Hours(6),    core::Duration::Days(1),
    core::Duration::Days(3)};

// Good and counted events (or slices) of one window after the no-data policy.
struct Tally {
  int64_t good = 0;
  int64_t total = 0;
  int64_t bad() const { return total - good; }
};

// Applies `spec`'s method and no-data policy to raw counts.
Tally TallyOf(const SloSpec& spec, const WindowCounts& counts);

// The earliest minute EvaluateSlo may know nothing about: no bound.
inline constexpr int64_t kKnownSinceAlways = INT64_MIN;

// Whether each minute of `kind` is one event (probe availability, freshness): its budget is then
// a share of the whole period's minutes.
bool OneEventPerMinute(SliKind kind);

// The counts of [begin_minute, end_minute) that the no-data policy applies to: the minutes
// without data before `known_since` (when the SLO first had data or first existed) are left out
// of `buckets` and `slices` (they were before the SLO, not gaps in it).
WindowCounts CountsKnownSince(const CountSource& counts, int64_t begin_minute, int64_t end_minute,
                              int64_t known_since);

struct BurnRate {
  core::Duration window;
  Tally tally;
  // (bad / total) / BudgetRatio(); nullopt when nothing was counted in the window.
  std::optional<double> rate;
};

// The burn rate of `spec` over the last `window` before MinuteOf(now).
BurnRate ComputeBurnRate(const SloSpec& spec, const CountSource& counts, core::Duration window,
                         core::Timestamp now, int64_t known_since = kKnownSinceAlways);

// One evaluated BurnRateRule.
struct AlertCondition {
  BurnRateRule rule;
  double factor = 0;  // RuleFactor for the period
  BurnRate long_burn;
  BurnRate short_burn;
  bool guarded = false;  // the long window counted fewer than min_events
  bool firing = false;   // both burn rates > factor and not guarded
};

// Evaluates every rule of `spec.alerting` at `now` for a budget period of `period`.
std::vector<AlertCondition> EvaluateAlertConditions(const SloSpec& spec,
                                                    const CountSource& counts,
                                                    core::Duration period, core::Timestamp now,
                                                    int64_t known_since = kKnownSinceAlways);

// The pure decision of one rule, given its two burn rates (nullopt: no data: never fires).
bool BurnRateRuleFires(double factor, std::optional<double> long_rate,
                       std::optional<double> short_rate);

enum class SloStatus {
  kHealthy,    // budget left and no burn-rate condition firing
  kBurning,    // at least one burn-rate condition (page or ticket) firing
  kExhausted,  // remaining budget <= 0 and not exhaustion_guarded (takes precedence over burning)
  kNoData,     // nothing counted in the window (takes precedence over everything)
};
std::string_view SloStatusName(SloStatus s);  // "healthy", "burning", "exhausted", "no_data"

// The state of one SLO in one region (or "global") at one instant.
struct SloReport {
  std::string region;
  WindowBounds window;
  Tally tally;                  // over the budget window, after the no-data policy
  std::optional<double> sli;    // tally.good / tally.total; nullopt when total == 0
  double coverage = 0;          // covered buckets / buckets in the window, in [0, 1]
  // Budget in events (occurrences) or minutes (timeslices).
  double budget_total = 0;
  double budget_consumed = 0;
  double budget_remaining = 0;  // total - consumed; negative when overspent
  // remaining / total; nullopt when the budget total is 0 (nothing counted yet).
  std::optional<double> budget_remaining_ratio;
  // A request SLI's remaining budget is <= 0 but the window is too young to call it exhausted
  // (fewer than exhaustion_min_events events or exhaustion_min_coverage of the period covered).
  bool exhaustion_guarded = false;
  std::vector<BurnRate> burn_rates;  // one per kBurnRateWindows, in that order
  // When the budget runs out if the 1h / 6h burn rate holds:
  //   now + remaining_ratio * period / burn_rate
  // (burn rate 1 spends the whole budget in one period). nullopt when the burn rate is 0 or
  // unknown, or the budget total is 0; `now` when the budget is already spent.
  std::optional<core::Timestamp> exhaustion_at_1h;
  std::optional<core::Timestamp> exhaustion_at_6h;
  std::vector<AlertCondition> alerts;
  SloStatus status = SloStatus::kNoData;

  // The burn rate over `w` if w is one of kBurnRateWindows.
  const BurnRate* BurnRateOver(core::Duration w) const;
};

// Evaluates `spec` for one region (or "global") whose bucket counts `counts` answers.
// `known_since`: the minute the SLO first had data or first existed; the no-data policy does not
// count the minutes before it (see CountsKnownSince).
// Cost: O(1) in the window length: 1 + 7 + 2 * rules CountSource queries (twice that with a
// no-data policy and a `known_since`).
// REQUIRES: ValidateSlo(spec) is OK (checked once when the SLO is loaded, not per evaluation).
// Errors: INVALID_ARGUMENT from ResolveWindow.
core::Result<SloReport> EvaluateSlo(const SloSpec& spec, std::string region,
                                    const CountSource& counts, core::Timestamp now,
                                    int64_t known_since = kKnownSinceAlways);

// The prefix counts of one SLO's regions and of their per-minute sum, maintained together.
// Not thread-safe for mutation.
class SloCounts {
 public:
  // Builds from each region's buckets. `slice_target` is SloSpec::SliceTarget().
  // The region series may start at different minutes; the summed series spans them all.
  SloCounts(std::vector<std::pair<std::string, BucketSeries>> regions, double slice_target);

  size_t size() const { return names_.size(); }
  const std::string& region_name(size_t i) const { return names_[i]; }
  const CountSource& region(size_t i) const { return regions_[i]; }
  // A view for region="global"; valid while this object lives and is not mutated.
  GlobalCounts global() const;

  // Appends the next minute to every region, in the order given to the constructor.
  // REQUIRES: per_region.size() == size(); every region series ends at the same minute.
  void AppendMinute(const std::vector<Bucket>& per_region);

 private:
  std::vector<std::string> names_;
  std::vector<PrefixCounts> regions_;
  PrefixCounts summed_;
};

// Evaluates every region of `counts` and then region="global", in that order.
// REQUIRES and errors: as EvaluateSlo.
core::Result<std::vector<SloReport>> EvaluateAll(const SloSpec& spec, const SloCounts& counts,
                                                 core::Timestamp now);

}  // namespace nines::slo

#endif  // NINES_SLO_SLO_H_
