// rules/store_reads.h (private to rules/): reading an SLO's per-minute buckets from the store,
// per SLI kind (probe availability with its quorum and lost probers, latency, freshness,
// counters), raw or from the minute rollups. store_reads.cc implements these and the public
// ReadSloBuckets (rules/store_counts.h); StoreCounts (store_counts.cc) keeps the counts they
// feed.
//
// Thread-safety: the functions are thread-safe as far as the Reader is.
#ifndef NINES_RULES_STORE_READS_H_
#define NINES_RULES_STORE_READS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "rules/rules.h"
#include "rules/store_counts.h"
#include "slo/buckets.h"
#include "store/store.h"

namespace nines::rules {

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kSliceMinutes = 1440;  // raw reads go a day at a time to bound memory

// The minute of a Unix time in milliseconds (floor, negative times included).
inline int64_t MinuteOfMs(int64_t t) {
  return t >= 0 ? t / kMinuteMs : -((-t + kMinuteMs - 1) / kMinuteMs);
}

// `d` in whole minutes, rounded up; 0 for d <= 0.
inline int64_t CeilMinutes(core::Duration d) {
  const int64_t ns = d.nanos();
  if (ns <= 0) return 0;
  const int64_t per = core::Duration::Minutes(1).nanos();
  return (ns + per - 1) / per;
}

// `selector` with a __name__="name" matcher added when it has no metric-name matcher.
core::Result<std::vector<store::Matcher>> WithName(const std::vector<store::Matcher>& selector,
                                                   std::string_view name);

// Whether two selectors are the same matchers in the same order.
bool SameMatchers(const std::vector<store::Matcher>& a, const std::vector<store::Matcher>& b);

// One selector of an SLO resolved to series ids (Reader::ResolveSeries), so that raw reads
// skip matching and labels and read the ids directly (Reader::SamplesOf).
struct ResolvedSelector {
  std::vector<store::Matcher> matchers;
  std::vector<store::SeriesRef> series;  // sorted by labels, as Select returns them
  std::vector<uint64_t> ids;             // series[i].id
};

// Buckets per region name.
using RegionMap = std::map<std::string, slo::BucketSeries>;

// ReadSloBuckets with the SLO's selectors resolved to series ids (`resolved`, may be null: raw
// reads then Select by matchers), the probe SLIs' lost-prober horizon, and where to say which
// regions' newest minute was counted with a capped quorum (`reduced`, may be null).
core::Result<RegionMap> ReadBuckets(
    store::Reader& reader, const SloRule& rule, int64_t begin_minute, int64_t end_minute,
    ReadPath path, const std::vector<ResolvedSelector>* resolved,
    core::Duration agent_down_after = core::Duration::Minutes(2),
    std::map<std::string, ReducedCoverage>* reduced = nullptr);

// The selectors the raw reads of `rule` use (as ReadBuckets passes them).
core::Result<std::vector<std::vector<store::Matcher>>> RawSelectors(const SloRule& rule);

// `older` (over [from, mid)) followed by `newer` (over [mid, end)), per region, as one map over
// [from, end).
RegionMap Concat(RegionMap older, const RegionMap& newer, int64_t from, int64_t end);

// Whether any series of `rule` has a sample in the `lookback` before minute `from`.
core::Result<bool> HasDataBefore(store::Reader& reader, const SloRule& rule,
                                 const std::vector<ResolvedSelector>* resolved, int64_t from,
                                 core::Duration lookback);

}  // namespace nines::rules

#endif  // NINES_RULES_STORE_READS_H_
