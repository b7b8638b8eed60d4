// rules/evaluator.h: the SLO evaluation over the store. Each cycle (every `interval`, driven by
// whoever holds the clock) SloEvaluator::Evaluate(now):
//   1. advances every SLO's per-region minute counts from the store (rules/store_counts.h: a
//      backfill of the window once, then only the minutes completed since the last cycle plus
//      any earlier minute the store received late samples for since),
//   2. evaluates every SLO per region and for region="global" with slo::EvaluateSlo (O(1) in the
//      window length),
//   3. writes the state back to the store as series at `now` (see "Series written" below) when
//      it changed: the counts only move when a minute completes or late samples arrive, so with
//      the default 10 s interval an SLO's state is written once a minute, by the first cycle
//      after each minute completes (and after late data, a reload, or a failed write),
//   4. publishes the results (Snapshot): per SLO its reports and its alert conditions (burn
//      rate, budget exhausted, no data) for the alert lifecycle (rules/alerts.h) and for
//      GET /api/v1/slos (api/json.h builds its JSON from Snapshot).
//
// Series written at `now` (labels slo, service, region; region="global" is the sum over regions):
//   nines_slo_sli{window}                                   good / total over the budget window
//   nines_slo_error_budget_remaining                        remaining / total (ratio, may be < 0)
//   nines_slo_error_budget_remaining_events | _minutes      absolute (occurrences | timeslices)
//   nines_slo_error_budget_total_events | _minutes          the budget total
//   nines_slo_burn_rate{window="5m"|...|"3d"}               one per slo::kBurnRateWindows
//   nines_slo_events_total{outcome="good"|"bad"}            events counted since the SLO's counts
//                                                           began (the backfill start): a counter
//                                                           that resets when the SLO is rebuilt
//   nines_slo_coverage                                      buckets with data / buckets
//   nines_slo_reduced_coverage                              probe SLIs with a fixed quorum: 1
//                                                           when the newest minute was decided by
//                                                           fewer live probers than the quorum
//                                                           (a lost agent), else 0
//   nines_slo_undeclared_region_samples_total{region}       samples of a region the config does
//                                                           not declare, not counted (region is
//                                                           the undeclared value; a counter that
//                                                           resets when the SLO is rebuilt)
// A value that is unknown (nothing counted) is not written.
//
// Alert conditions (rules::ActiveCondition), each with labels slo, service, region (also
// "global") and the SLO's own labels (which cannot override these):
//   alertname="SloBurnRate", severity: at least one multi-window burn-rate rule of that
//     severity fires (slo::AlertCondition::firing); one condition per severity, whichever window
//     pairs fire, so an incident pages once per region. One outage, one alert: the ticket is not
//     raised while the page of the same SLO and region fires, and region="global" raises one
//     only when no region's alert of that severity (for a ticket: no region's page or ticket)
//     fires, since the global burn rate is the regions' weighted by their events (it speaks for
//     a burn spread over regions that each stay under their threshold or min_events guard).
//     The firing rule with the shortest long window speaks for it: annotation window_pair ("1h/5m"), its long and short burn rates and
//     factor; firing_window_pairs lists every firing pair. value: that long window's burn rate.
//   alertname="SloErrorBudgetExhausted", severity="ticket": the remaining budget is <= 0
//     (slo::SloStatus::kExhausted: for a request SLI, only past the exhaustion guard).
//     value: the remaining ratio.
//   alertname="SloNoData", severity="ticket" (per region only, not global), reason="samples":
//     the region has no bucket with data in the last `no_data_for` of completed minutes: every
//     prober of the region gone, a dropped scrape, or a fixed quorum that live probers could
//     meet but do not (too few of them reporting). value: minutes since the region's last bucket
//     with data within the window (or the window length when none). A lost agent is its own
//     alert, NinesAgentDown (rules/heartbeat.h), one per location whatever the SLOs, and a probe
//     SLO counts on with the probers that remain (reduced coverage, see store_counts.h).
// Annotations carry the numbers (see Evaluate).
//
// Thread-safety: all public methods are thread-safe. Evaluate and SetRules serialize with each
// other; Snapshot/Results read the last published results and never wait for a cycle's store
// reads. The Reader and the appender factory must outlive the evaluator.
#ifndef NINES_RULES_EVALUATOR_H_
#define NINES_RULES_EVALUATOR_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "rules/rules.h"
#include "rules/store_counts.h"
#include "slo/slo.h"
#include "store/store.h"

namespace nines::rules {

struct SloEvaluatorOptions {
  // How often the owner should call Evaluate. The evaluator itself never reads a clock; this is
  // for the scheduler that drives it.
  core::Duration interval = core::Duration::Seconds(10);
  // Late data for a Reader that does not report its changes: see StoreCountsOptions::settle.
  core::Duration settle = core::Duration::Minutes(5);
  // Longest history kept per SLO (caps calendar quarters and long rolling windows).
  core::Duration max_window = core::Duration::Days(400);
  // How a backfill reads history: raw samples after the store's raw horizon and the one-minute
  // rollups before it (kRaw, the default), or the rollups throughout (kRollups). See ReadPath.
  ReadPath backfill = ReadPath::kRaw;
  // SloNoData fires for a region without data in this many of the last completed minutes.
  core::Duration no_data_for = core::Duration::Minutes(5);
  // Probe SLOs with a fixed quorum: when a prober counts as lost (StoreCountsOptions).
  core::Duration agent_down_after = core::Duration::Minutes(2);
  // Whether burn-rate and exhaustion conditions are also produced for region="global".
  bool alert_on_global = true;
  // Whether Evaluate writes the SLO state series back through the appender factory.
  bool write_back = true;
};

// Makes the write-back's appender (store::Store::NewAppender), once; every appender it makes must
// be of the same store (the evaluator keeps the store's series refs, Appender::AppendWithRef).
using AppenderFactory = std::function<std::unique_ptr<store::Appender>()>;

// What one Evaluate produced for one SLO.
struct SloEvaluation {
  SloRule rule;
  core::Timestamp evaluated_at;          // zero until the first evaluation
  std::vector<slo::SloReport> reports;   // every region in name order, then "global"
  std::vector<ActiveCondition> conditions;
  std::string error;                     // the last cycle's error for this SLO, "" when none
  core::Status status;                   // the same error as a Status (OK when none)
  // Regions whose newest minute was counted with fewer live probers than the quorum.
  std::map<std::string, ReducedCoverage> reduced_coverage;
  // Samples of undeclared regions (StoreCounts::undeclared_samples), not counted.
  std::map<std::string, int64_t> undeclared_samples;
};

class SloEvaluator {
 public:
  // `reader` is read every cycle; `appenders` makes the write-back appenders (may be null when
  // options.write_back is false).
  SloEvaluator(store::Reader& reader, AppenderFactory appenders, SloEvaluatorOptions options = {});
  ~SloEvaluator();
  SloEvaluator(const SloEvaluator&) = delete;
  SloEvaluator& operator=(const SloEvaluator&) = delete;

  // Replaces the SLOs (a reload). An SLO whose data-defining fields (SLI kind, source, regions,
  // quorum, window, time-slice target) are unchanged keeps its counts; other changes
  // (objective, alerting, labels, description, ...) apply from the next Evaluate without a
  // re-read. A changed SLO is rebuilt: its counts are backfilled again at the next Evaluate.
  // SLOs no longer present are dropped with their state. Cheap: no store reads.
  // REQUIRES: each rule passed slo::ValidateSlo; names are unique.
  void SetRules(std::vector<SloRule> rules);

  // One cycle at `now` (see the file comment); its results are published (Snapshot) before it
  // returns. An SLO whose store read fails keeps its previous reports and conditions (so a read
  // error neither resolves a burning alert nor fires a new one) and records the error for the
  // API; the other SLOs proceed. Errors: the write-back's Commit error (the results are
  // published all the same, and the next cycle writes again); INTERNAL when every SLO failed to
  // read (the first error's message).
  core::Status Evaluate(core::Timestamp now);

  // The last published results, in the order of SetRules: shared and never changed once
  // published, so reading them copies nothing (a cycle publishes new ones beside them).
  struct Published {
    std::shared_ptr<const SloRule> rule;
    std::shared_ptr<const SloEvaluation> eval;  // its `rule` is left empty: see `rule`
  };
  std::shared_ptr<const std::vector<Published>> Snapshot() const;
  // The same as copies, each with its rule filled in (for tests and small callers).
  std::vector<SloEvaluation> Results() const;
  // Every SLO's active conditions from the last published results, in one list (copies),
  // without the undecided ones (ActiveCondition::no_data) that SloEvaluation::conditions also
  // holds: the burn-rate alerts of a region without data in the last `no_data_for` (and of
  // global, when any region is so), which the AlertTracker keeps from resolving by silence.
  std::vector<ActiveCondition> ActiveConditions() const;

  // Heap bytes of all counts (see slo::PrefixCounts: ~6.5 bytes per minute per region for probe
  // SLIs, plus the global sum for time-slice budgets).
  size_t MemoryBytes() const;

 private:
  struct Entry;
  // One SLO's cycle: its counts, reports and conditions. Errors: the store's, the math's, and
  // conditions whose labels cannot be built (never dropped silently); the entry's last results
  // are then kept by the caller.
  core::Result<std::shared_ptr<SloEvaluation>> EvaluateEntry(Entry& e, core::Timestamp now);
  void WriteBack(Entry& e, core::Timestamp now, store::Appender& app, core::Status* st);
  void WriteUndeclared(Entry& e, int64_t t, store::Appender& app, core::Status* st);

  store::Reader& reader_;
  AppenderFactory appenders_;
  const SloEvaluatorOptions options_;

  mutable std::mutex eval_mu_;  // serializes Evaluate and SetRules; guards entries_, appender_
  std::vector<std::unique_ptr<Entry>> entries_;
  std::unique_ptr<store::Appender> appender_;  // the write-back's, made once

  // Publishes every entry's rule (shared from SetRules) and last evaluation.
  void PublishLocked();

  mutable std::mutex results_mu_;  // guards results_
  std::shared_ptr<const std::vector<Published>> results_;
};

}  // namespace nines::rules

#endif  // NINES_RULES_EVALUATOR_H_
