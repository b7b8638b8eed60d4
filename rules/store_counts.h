// rules/store_counts.h: an SLO's one-minute buckets read from the store, per region, and kept up
// to date across evaluations.
//
//  - ReadSloBuckets: the buckets of one SLO over a range of minutes, per region, straight from
//    the store (a pure read).
//  - StoreCounts: one SLO's running prefix counts (slo::PrefixCounts per region plus, for a
//    time-slice budget, their per-minute sum for region="global"), backfilled once over the SLO's window and then
//    advanced each evaluation by reading only what changed: the minutes completed since the last
//    one, plus any earlier minute the store received samples for since (late data, e.g. an
//    agent replaying an hour of backlog), which is truncated off and counted again. The store
//    says which (store::Reader::ChangesSince), and the SLO's selectors are resolved to series ids
//    once and again only when the store's series change, so a cycle with nothing late reads one
//    minute of known series from the store's memory.
//
// How each SLI kind is read (SliSource in rules/rules.h says which fields apply):
//  - probe availability: probe_success series split by `region_label` and by `location`; the
//    samples of one (region, location) are merged (several targets of one probe from one place
//    are one witness), tallied per minute (slo::ProbeMinutes) and combined with the SLO's quorum
//    (slo::QuorumBuckets). Series without the region label are ignored. Lost probers: a fixed
//    quorum Q is capped, minute by minute, at the probers alive in a minute that lost some: the region's
//    locations of the SLO's series (seen within 7 days) less those whose agent sent no heartbeat
//    naming the region (StoreCountsOptions::agent_down_after). So with Q = 2 and two locations,
//    a dead agent leaves the other to decide alone (reduced coverage, reduced_coverage()) instead
//    of every minute being no data; a location without any heartbeat series (the engine's own
//    prober, a Prometheus) is never counted lost. The heartbeats are read only when a minute has
//    fewer reporting locations than Q.
//  - regions: an SLO's own `regions`, else the config's declared regions (SloRule::
//    declared_regions) when there are any, else every value of the region label. Samples of
//    series whose region is not declared are not counted; their number is kept per region
//    (undeclared_samples()).
//  - latency from observations: each sample of the selected series is one event.
//  - request ratio and histogram latency: every matching counter series gets its own exact
//    per-minute increases (resets handled per series, as the store's rollups do: the predecessor
//    of the first sample read comes from the store's Aggregate, wherever it lies), and the
//    increases are summed per region. Raw counter values are never summed across series.
//  - freshness: the selected gauges of a region are merged; each minute with a sample is one
//    event (slo::FreshnessBuckets).
//
// Thread-safety: ReadSloBuckets is thread-safe when the Reader is (the store's is). StoreCounts is
// thread-compatible: Update mutates; the CountSources it hands out are read-only views valid until
// the next Update, and may be read from several threads at once between Updates.
#ifndef NINES_RULES_STORE_COUNTS_H_
#define NINES_RULES_STORE_COUNTS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "rules/rules.h"
#include "slo/buckets.h"
#include "slo/slo.h"
#include "store/store.h"

namespace nines::rules {

// How a backfill reads the minutes of a long range.
enum class ReadPath {
  // Raw samples (Reader::Select) in slices of a day, back to the store's raw horizon
  // (Reader::RawHorizonMs: its raw retention, 35 days by default), and kRollups before it, so a
  // window longer than raw retention is counted whole. Exact for every SLI kind, except latency
  // from observations, which has no rollup and is counted after the horizon only.
  kRaw,
  // One Reader::Aggregate(kCounts) per series and minute, from the store's one-minute rollups
  // (kept 400 days by default) where raw samples are gone. Exact for probe availability (0/1
  // values: successes = sum, failures = count - sum), counters (increase) and freshness (last
  // sample per minute); latency from observations needs every sample and is always read raw.
  kRollups,
};

// A probe SLO's region whose newest counted minute had fewer live probers than the SLO's fixed
// quorum: that minute was decided by the probers that remain (see StoreCounts).
struct ReducedCoverage {
  int quorum = 0;                 // the SLO's
  int live = 0;                   // probers alive: the quorum used
  std::vector<std::string> lost;  // locations whose agent is down, sorted
};

struct StoreCountsOptions {
  // Late data, for a Reader that does not report changes (Reader::ChangesSince is
  // UNIMPLEMENTED): the store accepts samples up to its out-of-order window (2 h by default)
  // behind its clock, so a minute can still change after it was counted. Without the
  // store's report, every Update re-reads the last `settle` of counted minutes; later samples are
  // then stored but not counted until the SLO is rebuilt. With the report (the RocksDB store),
  // this is unused: every late sample is counted at the next Update, whatever its age.
  // Rounded up to whole minutes.
  core::Duration settle = core::Duration::Minutes(5);
  // How the first Update (and a rebuild after a long pause) reads the window.
  ReadPath backfill = ReadPath::kRaw;
  // The longest span kept in memory (and read by a backfill). The span needed is the SLO's budget
  // window (for a calendar window: since the period's start) and its longest burn-rate window;
  // this caps it. Memory (slo::PrefixCounts): ~6.5 bytes per minute per region for probe SLIs
  // (up to 24 for high-traffic request counts), plus the same for the global sum with a
  // time-slice budget, so a 90-day window costs about 0.8 MiB per region.
  core::Duration max_window = core::Duration::Days(400);
  // Probe SLIs with a fixed quorum: an agent (nines_agent_heartbeat{location,region},
  // rules/heartbeat.h) is lost in a minute when it sent no heartbeat for the region in
  // (minute start - agent_down_after, minute end).
  core::Duration agent_down_after = core::Duration::Minutes(2);
};

// The buckets of `rule` over minutes [begin_minute, end_minute) per region: each BucketSeries
// starts at begin_minute and has end_minute - begin_minute buckets. Regions are
// rule.spec.regions when it is set (each present, without data if the store has none) and
// otherwise every value of the region label among the matching series with data in the range.
// Errors: INVALID_ARGUMENT when the source lacks a selector its SLI kind needs; the reader's
// errors otherwise. REQUIRES: begin_minute <= end_minute.
core::Result<std::map<std::string, slo::BucketSeries>> ReadSloBuckets(
    store::Reader& reader, const SloRule& rule, int64_t begin_minute, int64_t end_minute,
    ReadPath path = ReadPath::kRaw);

// The minutes of history `rule` needs at `now`: its budget window (for a calendar window, since
// the start of the current period) or its longest burn-rate window, whichever is longer, capped
// at `max_window`. Errors: as slo::ResolveWindow.
core::Result<int64_t> NeededMinutes(const slo::SloSpec& spec, core::Timestamp now,
                                    core::Duration max_window);

// One SLO's counts, advanced from the store. Example:
//   StoreCounts counts(rule, {});
//   RETURN_IF_ERROR(counts.Update(reader, now));   // backfill, then cheap increments
//   for (size_t i = 0; i < counts.size(); ++i)
//     EvaluateSlo(rule.spec, counts.region_name(i), counts.region(i), now);
//   EvaluateSlo(rule.spec, "global", counts.global(), now);
struct ResolvedSelector;  // defined in rules/store_reads.h (private)

class StoreCounts {
 public:
  // REQUIRES: slo::ValidateSlo(rule.spec) is OK.
  StoreCounts(SloRule rule, StoreCountsOptions options);
  ~StoreCounts();
  StoreCounts(const StoreCounts&) = delete;
  StoreCounts& operator=(const StoreCounts&) = delete;

  // Brings the counts up to the minute before MinuteOf(now). The first call (or one after a pause
  // longer than the needed span, or when the store cannot say what changed since the last call,
  // or when a counted series was deleted) reads the whole needed span with options.backfill.
  // Later calls read raw, from the oldest minute the store received samples for since the last
  // call (at most the previous end) to MinuteOf(now), and replace those minutes. A `now` earlier
  // than a previous one only picks up late samples. On error the counts are as before the call.
  // Errors: the reader's, and as NeededMinutes.
  core::Status Update(store::Reader& reader, core::Timestamp now);

  const SloRule& rule() const { return rule_; }
  // Regions, sorted by name: rule.spec.regions, or every region seen since the backfill.
  size_t size() const { return regions_.size(); }
  const std::string& region_name(size_t i) const;
  // Counts of region i; each query costs O(1) in the window length. Valid until the next Update.
  const slo::CountSource& region(size_t i) const;
  // Counts for region="global" (events summed over regions, slices from the per-minute sum).
  const slo::CountSource& global() const;

  // The first minute the counts hold (the backfill start, later the trim point).
  int64_t first_minute() const;
  // One past the last minute counted (MinuteOf(now) of the last Update); 0 before the first.
  int64_t end_minute() const { return end_minute_; }
  bool initialized() const { return initialized_; }
  // The minute since which the SLO is known, for its no-data policy (slo::EvaluateSlo's
  // known_since): the earliest of the first minute with data and the minute of the first Update
  // (when the SLO first existed here); slo::kKnownSinceAlways when the store holds samples of the
  // SLO's series from before the backfilled span. Computed only for an SLO with a no-data policy
  // other than unknown (kKnownSinceAlways otherwise: nothing to bound).
  int64_t known_since() const;
  // The minute of the first Update in this process (when the SLO first existed here); INT64_MAX
  // before it.
  int64_t created_minute() const { return created_minute_; }
  // Minutes read from the store by the last Update (per region): the new minutes plus the late
  // ones re-read; the whole span for a backfill.
  int64_t last_read_minutes() const { return last_read_minutes_; }
  // Approximate heap bytes of the prefix counts.
  size_t MemoryBytes() const;
  // Region i's reduced coverage at the newest counted minute, or null when its quorum was met
  // by live probers (always null for SLIs other than probe availability with a fixed quorum).
  const ReducedCoverage* reduced_coverage(size_t i) const;
  // Samples of series whose region label is not among SloRule::declared_regions, per region:
  // those in the minutes counted since the counts began (the backfill counts its span; a late
  // sample in a minute already counted is not added).
  const std::map<std::string, int64_t>& undeclared_samples() const { return undeclared_; }

 private:
  struct Region;
  Region& RegionNamed(const std::string& name, int64_t first_minute);
  // Truncates every region (and the sum) back to `from` and appends `read` over [from, end).
  void Replace(const std::map<std::string, slo::BucketSeries>& read, int64_t from, int64_t end);
  void Trim(int64_t needed);
  // Update's steps. What one Update reads: minutes [from, end) per region, and the regions
  // whose newest minute was counted with a capped quorum.
  struct Span {
    int64_t from = 0;
    int64_t end = 0;
    std::map<std::string, slo::BucketSeries> read;
    std::map<std::string, ReducedCoverage> reduced;
  };
  // Resolves the selectors to series ids into `resolved`; sets *rebuild when a series counted
  // before is gone.
  core::Status Resolve(store::Reader& reader, std::vector<ResolvedSelector>* resolved,
                       bool* rebuild) const;
  // Reads the span to count: the whole needed span for a rebuild (raw after the raw horizon,
  // rollups before), else the new and late minutes. `tracked`: the store's changes, or null
  // when the reader does not report them.
  core::Status ReadSpan(store::Reader& reader, const std::vector<ResolvedSelector>* ids,
                        bool rebuild, const store::StoreChanges* tracked, int64_t end_now,
                        int64_t needed, Span* span) const;
  // The first minute with data and whether there was data before a rebuilt span (known_since).
  core::Status KnownSince(store::Reader& reader, const std::vector<ResolvedSelector>* ids,
                          bool rebuild, const Span& span, int64_t* first_data,
                          bool* data_before) const;

  SloRule rule_;
  StoreCountsOptions options_;
  double slice_target_;
  bool initialized_ = false;
  int64_t end_minute_ = 0;
  int64_t last_read_minutes_ = 0;
  std::vector<std::unique_ptr<Region>> regions_;  // sorted by name; stable addresses
  bool regions_changed_ = false;
  // The per-minute sum of the regions, for region="global"'s time slices: kept only for a
  // time-slice budget (an occurrences budget sums the regions' events, and saves a quarter of
  // the memory of a 3-region SLO).
  std::unique_ptr<Region> summed_;
  int64_t first_minute_ = 0;  // see first_minute()
  // See known_since(): the first minute with data (INT64_MAX: none yet), whether the store had
  // data before the backfill, and the minute of the first Update (INT64_MAX before it).
  int64_t first_data_minute_ = INT64_MAX;
  bool data_before_backfill_ = false;
  int64_t created_minute_ = INT64_MAX;
  std::unique_ptr<slo::GlobalCounts> global_;
  // Change tracking (when the reader supports it): the ChangesSince cursor of the last Update,
  // the series generation the selectors were resolved at, and what they resolved to.
  uint64_t cursor_ = 0;
  uint64_t series_generation_ = 0;
  std::unique_ptr<std::vector<ResolvedSelector>> resolved_;
  std::map<std::string, ReducedCoverage> reduced_;  // by region name
  std::map<std::string, int64_t> undeclared_;
  // Adds the samples in [from, end) of the series of undeclared regions to undeclared_.
  core::Status CountUndeclared(store::Reader& reader, const std::vector<ResolvedSelector>* ids,
                               int64_t from, int64_t end);
};

}  // namespace nines::rules

#endif  // NINES_RULES_STORE_COUNTS_H_
