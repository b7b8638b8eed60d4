#include "rules/store_reads.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

namespace nines::rules {

// `selector` with a __name__="name" matcher added when it has no metric-name matcher.
core::Result<std::vector<store::Matcher>> WithName(const std::vector<store::Matcher>& selector,
                                                   std::string_view name) {
  std::vector<store::Matcher> out = selector;
  for (const store::Matcher& m : selector) {
    if (m.name() == core::kMetricNameLabel) return out;
  }
  ASSIGN_OR_RETURN(store::Matcher m, store::Matcher::Create(store::Matcher::Op::kEqual,
                                                            std::string(core::kMetricNameLabel),
                                                            std::string(name)));
  out.push_back(std::move(m));
  return out;
}

bool SameMatchers(const std::vector<store::Matcher>& a, const std::vector<store::Matcher>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const store::Matcher& x, const store::Matcher& y) {
                      return x.op() == y.op() && x.name() == y.name() && x.value() == y.value();
                    });
}

namespace {

struct Reading {
  const SloRule& rule;
  store::Reader& reader;
  int64_t begin;  // minutes
  int64_t end;
  // The rule's selectors resolved to series ids, or null: raw reads then Select by matchers.
  const std::vector<ResolvedSelector>* resolved = nullptr;
  // Probe SLIs: when an agent counts as lost (StoreCountsOptions::agent_down_after), and where
  // to say which regions' newest minute was counted with a capped quorum (may be null).
  core::Duration agent_down_after = core::Duration::Minutes(2);
  std::map<std::string, ReducedCoverage>* reduced = nullptr;
  int64_t n() const { return end - begin; }
  int64_t min_ms() const { return begin * kMinuteMs; }
  int64_t max_ms() const { return end * kMinuteMs - 1; }

  // The region of a series, or "" when it has none or is not one of the SLO's regions (its own
  // `regions`, else the declared ones when there are any).
  std::string RegionOf(const core::Labels& labels) const {
    std::string r(labels.Get(rule.source.region_label));
    if (r.empty()) return r;
    const std::vector<std::string>& allowed =
        rule.spec.regions.empty() ? rule.declared_regions : rule.spec.regions;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), r) == allowed.end()) {
      return "";
    }
    return r;
  }

  // Calls fn(labels, samples, slice_begin_minute, slice_n) for the raw samples of every series
  // matching `matchers` that has samples in the slice, a day of minutes at a time, in time
  // order per series and in label order within a slice.
  template <typename Fn>
  core::Status ForEachRawSlice(const std::vector<store::Matcher>& matchers, Fn fn) const {
    const ResolvedSelector* ids = nullptr;
    if (resolved != nullptr) {
      for (const ResolvedSelector& r : *resolved) {
        if (SameMatchers(r.matchers, matchers)) ids = &r;
      }
    }
    for (int64_t s = begin; s < end; s += kSliceMinutes) {
      const int64_t t = std::min(end, s + kSliceMinutes);
      if (ids != nullptr) {
        if (ids->ids.empty()) continue;
        ASSIGN_OR_RETURN(std::vector<std::vector<core::Sample>> all,
                         reader.SamplesOf(ids->ids, s * kMinuteMs, t * kMinuteMs - 1));
        for (size_t i = 0; i < all.size(); ++i) {
          if (!all[i].empty()) fn(ids->series[i].labels, all[i], s, t - s);
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::vector<store::SeriesSamples> all,
                       reader.Select(matchers, s * kMinuteMs, t * kMinuteMs - 1));
      for (store::SeriesSamples& ss : all) fn(ss.labels, ss.samples, s, t - s);
    }
    return core::Status::Ok();
  }

  // The series matching `matchers` with samples in [begin, end), for the rollup path. Series()
  // looks only at raw samples, which retention may have dropped, so resolved series are checked
  // with one Aggregate each (served from the rollups).
  core::Result<std::vector<core::Labels>> SeriesWithData(
      const std::vector<store::Matcher>& matchers) const {
    const ResolvedSelector* ids = nullptr;
    if (resolved != nullptr) {
      for (const ResolvedSelector& r : *resolved) {
        if (SameMatchers(r.matchers, matchers)) ids = &r;
      }
    }
    if (ids == nullptr) return reader.Series(matchers, min_ms(), max_ms());
    std::vector<core::Labels> out;
    for (const store::SeriesRef& ref : ids->series) {
      ASSIGN_OR_RETURN(store::WindowAggregate a,
                       reader.Aggregate(ref.labels, min_ms(), max_ms() + 1,
                                        store::Reader::Fields::kCounts));
      if (a.count > 0) out.push_back(ref.labels);
    }
    return out;
  }

  // One kCounts aggregate per minute of [begin, end) for `series`.
  core::Result<std::vector<store::WindowAggregate>> PerMinute(const core::Labels& series) const {
    return reader.MinuteAggregates(series, begin * kMinuteMs, end * kMinuteMs);
  }
};

slo::BucketSeries EmptySeries(int64_t begin, int64_t n) {
  slo::BucketSeries s;
  s.first_minute = begin;
  s.buckets.assign(static_cast<size_t>(n), slo::Bucket::NoData());
  return s;
}

// ---- probe availability -------------------------------------------------------------------

constexpr int64_t kAgentsSeenWithinMs = 7 * 1440 * kMinuteMs;  // as ReadAgentHeartbeats

// The number of `region`'s probers alive in each minute of the reading, for a quorum capped at
// them (see StoreCounts): the SLO's locations for the region (every location of its probe series
// seen within 7 days), less those with an agent (a heartbeat series for the region) that sent
// no heartbeat in (minute start - agent_down_after, minute end); INT_MAX (no cap) in a minute
// with no prober lost. A location without heartbeats (the engine's own prober, a Prometheus) is
// never counted lost. Only the minutes of `short_runs` ([begin, end) minute ranges, sorted) are
// looked at: a minute whose reporters meet the quorum needs no cap. Also notes in r.reduced
// whether the last minute's quorum is capped, and by which lost locations.
core::Status LiveProbers(const Reading& r, const std::vector<store::Matcher>& matchers,
                         const std::string& region,
                         const std::vector<std::pair<int64_t, int64_t>>& short_runs,
                         std::vector<int>* live) {
  std::set<std::string> expected;
  const ResolvedSelector* ids = nullptr;
  if (r.resolved != nullptr) {
    for (const ResolvedSelector& rs : *r.resolved) {
      if (SameMatchers(rs.matchers, matchers)) ids = &rs;
    }
  }
  auto add_expected = [&](const core::Labels& labels) {
    if (r.RegionOf(labels) == region) expected.insert(std::string(labels.Get("location")));
  };
  if (ids != nullptr) {
    for (const store::SeriesRef& ref : ids->series) add_expected(ref.labels);
  } else {
    ASSIGN_OR_RETURN(std::vector<core::Labels> series,
                     r.reader.Series(matchers, r.min_ms() - kAgentsSeenWithinMs, r.max_ms()));
    for (const core::Labels& labels : series) add_expected(labels);
  }
  ASSIGN_OR_RETURN(store::Matcher in_region,
                   store::Matcher::Create(store::Matcher::Op::kEqual, "region", region));
  ASSIGN_OR_RETURN(std::vector<store::Matcher> hb,
                   WithName({std::move(in_region)}, "nines_agent_heartbeat"));
  ASSIGN_OR_RETURN(std::vector<core::Labels> agents,
                   r.reader.Series(hb, r.min_ms() - kAgentsSeenWithinMs, r.max_ms()));
  const int64_t down_ms = std::max<int64_t>(r.agent_down_after.nanos() / 1'000'000, 1);
  // Heartbeats are read only around the runs of short minutes (a backfill of a long window
  // must not read every heartbeat of it for one short minute).
  std::vector<int> lost(static_cast<size_t>(r.n()), 0);
  std::vector<bool> lost_at_end;  // per agent, in the order of `agents`
  lost_at_end.assign(agents.size(), false);
  for (auto [run_begin, run_end] : short_runs) {  // minutes, absolute
    ASSIGN_OR_RETURN(std::vector<store::SeriesSamples> beats,
                     r.reader.Select(hb, run_begin * kMinuteMs - down_ms + 1,
                                     run_end * kMinuteMs - 1));
    for (size_t k = 0; k < agents.size(); ++k) {
      const core::Labels& agent = agents[k];
      if (!expected.contains(std::string(agent.Get("location")))) continue;
      const std::vector<core::Sample>* samples = nullptr;
      for (const store::SeriesSamples& b : beats) {
        if (b.labels == agent) samples = &b.samples;
      }
      // Minute m is covered by a heartbeat at t when start(m) - down < t < end(m): from the
      // heartbeat's minute to the last minute starting before t + down.
      std::vector<bool> alive(static_cast<size_t>(run_end - run_begin), false);
      if (samples != nullptr) {
        for (const core::Sample& smp : *samples) {
          const int64_t first = std::max<int64_t>(MinuteOfMs(smp.timestamp_ms), run_begin);
          const int64_t last =
              std::min<int64_t>(MinuteOfMs(smp.timestamp_ms + down_ms - 1), run_end - 1);
          for (int64_t m = first; m <= last; ++m) alive[static_cast<size_t>(m - run_begin)] = true;
        }
      }
      for (size_t i = 0; i < alive.size(); ++i) {
        if (!alive[i]) ++lost[static_cast<size_t>(run_begin - r.begin) + i];
      }
      if (run_end == r.end && !alive.empty() && !alive.back()) lost_at_end[k] = true;
    }
  }
  std::vector<std::string> lost_last;
  for (size_t k = 0; k < agents.size(); ++k) {
    if (lost_at_end[k]) lost_last.emplace_back(agents[k].Get("location"));
  }
  // Only lost probers cap the quorum: a region with fewer locations than the quorum, all alive,
  // stays without data as before (a configuration the quorum cannot be met with).
  live->assign(lost.size(), std::numeric_limits<int>::max());
  for (size_t m = 0; m < lost.size(); ++m) {
    if (lost[m] > 0) (*live)[m] = static_cast<int>(expected.size()) - lost[m];
  }
  if (r.reduced != nullptr && !live->empty() && live->back() < r.rule.spec.quorum) {
    ReducedCoverage& rc = (*r.reduced)[region];
    rc.quorum = r.rule.spec.quorum;
    rc.live = std::max(live->back(), 0);
    rc.lost = std::move(lost_last);
  }
  return core::Status::Ok();
}

core::Status ReadProbe(const Reading& r, ReadPath path, RegionMap* out) {
  ASSIGN_OR_RETURN(std::vector<store::Matcher> matchers, WithName(r.rule.source.selector,
                                                                  "probe_success"));
  // region -> location -> minutes.
  std::map<std::string, std::map<std::string, std::vector<slo::ProbeMinute>>> locs;
  auto minutes_of = [&](const core::Labels& labels) -> std::vector<slo::ProbeMinute>* {
    std::string region = r.RegionOf(labels);
    if (region.empty()) return nullptr;
    auto& v = locs[region][std::string(labels.Get("location"))];
    if (v.empty()) v.resize(static_cast<size_t>(r.n()));
    return &v;
  };
  if (path == ReadPath::kRaw) {
    RETURN_IF_ERROR(r.ForEachRawSlice(matchers, [&](const core::Labels& labels,
                                                    const std::vector<core::Sample>& samples,
                                                    int64_t s, int64_t n) {
      std::vector<slo::ProbeMinute>* v = minutes_of(labels);
      if (v == nullptr) return;
      std::vector<slo::ProbeMinute> pm = slo::ProbeMinutes(samples, s, n);
      for (int64_t i = 0; i < n; ++i) {
        slo::ProbeMinute& o = (*v)[static_cast<size_t>(s - r.begin + i)];
        o.successes += pm[static_cast<size_t>(i)].successes;
        o.failures += pm[static_cast<size_t>(i)].failures;
      }
    }));
  } else {
    ASSIGN_OR_RETURN(std::vector<core::Labels> series,
                     r.SeriesWithData(matchers));
    for (const core::Labels& labels : series) {
      std::vector<slo::ProbeMinute>* v = minutes_of(labels);
      if (v == nullptr) continue;
      ASSIGN_OR_RETURN(std::vector<store::WindowAggregate> aggs, r.PerMinute(labels));
      for (size_t i = 0; i < aggs.size(); ++i) {
        // probe_success is 0 or 1, so the sum is the number of successes.
        const int64_t ok = std::clamp<int64_t>(std::llround(aggs[i].sum), 0, aggs[i].count);
        (*v)[i].successes += static_cast<int32_t>(ok);
        (*v)[i].failures += static_cast<int32_t>(aggs[i].count - ok);
      }
    }
  }
  for (auto& [region, by_location] : locs) {
    std::vector<std::vector<slo::ProbeMinute>> all;
    all.reserve(by_location.size());
    for (auto& [location, minutes] : by_location) all.push_back(std::move(minutes));
    // Minutes a fixed quorum misses: are probers lost, or only quiet? Runs of them (joined
    // across gaps under an hour) are looked into.
    std::vector<int> live;
    const int quorum = r.rule.spec.quorum;
    std::vector<std::pair<int64_t, int64_t>> short_runs;
    for (int64_t m = 0; m < r.n() && quorum > 1; ++m) {
      int reported = 0;
      for (const auto& loc : all) reported += loc[static_cast<size_t>(m)].reported() ? 1 : 0;
      if (reported >= quorum) continue;
      const int64_t minute = r.begin + m;
      if (!short_runs.empty() && minute - short_runs.back().second < 60) {
        short_runs.back().second = minute + 1;
      } else {
        short_runs.emplace_back(minute, minute + 1);
      }
    }
    if (!short_runs.empty()) {
      RETURN_IF_ERROR(LiveProbers(r, matchers, region, short_runs, &live));
    }
    (*out)[region] = slo::QuorumBuckets(all, r.begin, quorum, live.empty() ? nullptr : &live);
  }
  return core::Status::Ok();
}

// ---- latency from observations -------------------------------------------------------------

core::Status ReadLatency(const Reading& r, RegionMap* out) {
  return r.ForEachRawSlice(r.rule.source.selector, [&](const core::Labels& labels,
                                                       const std::vector<core::Sample>& samples,
                                                       int64_t s, int64_t n) {
    std::string region = r.RegionOf(labels);
    if (region.empty()) return;
    auto [it, inserted] = out->try_emplace(region);
    if (inserted || it->second.buckets.empty()) it->second = EmptySeries(r.begin, r.n());
    slo::BucketSeries part = slo::LatencyBuckets(samples, r.rule.source.threshold, s, n);
    for (int64_t i = 0; i < n; ++i) {
      const slo::Bucket& b = part.buckets[static_cast<size_t>(i)];
      if (!b.has_data) continue;
      slo::Bucket& o = it->second.buckets[static_cast<size_t>(s - r.begin + i)];
      o.has_data = true;
      o.good += b.good;
      o.total += b.total;
    }
  });
}

// ---- freshness -----------------------------------------------------------------------------

core::Status ReadFreshness(const Reading& r, ReadPath path, RegionMap* out) {
  std::map<std::string, std::vector<core::Sample>> merged;
  if (path == ReadPath::kRaw) {
    RETURN_IF_ERROR(r.ForEachRawSlice(
        r.rule.source.selector, [&](const core::Labels& labels,
                                    const std::vector<core::Sample>& samples, int64_t, int64_t) {
          std::string region = r.RegionOf(labels);
          if (region.empty()) return;
          auto& v = merged[region];
          v.insert(v.end(), samples.begin(), samples.end());
        }));
  } else {
    ASSIGN_OR_RETURN(std::vector<core::Labels> series,
                     r.SeriesWithData(r.rule.source.selector));
    for (const core::Labels& labels : series) {
      std::string region = r.RegionOf(labels);
      if (region.empty()) continue;
      ASSIGN_OR_RETURN(std::vector<store::WindowAggregate> aggs, r.PerMinute(labels));
      auto& v = merged[region];
      for (const store::WindowAggregate& a : aggs) {
        if (a.count > 0) v.push_back({a.last_timestamp_ms, a.last});
      }
    }
  }
  for (auto& [region, samples] : merged) {
    std::stable_sort(samples.begin(), samples.end(),
                     [](const core::Sample& a, const core::Sample& b) {
                       return a.timestamp_ms < b.timestamp_ms;
                     });
    (*out)[region] =
        slo::FreshnessBuckets(samples, r.rule.source.max_age, r.begin, r.n());
  }
  return core::Status::Ok();
}

// ---- counters ------------------------------------------------------------------------------

// Per-region sums of the per-minute increases of every counter matching `matchers`.
core::Status SumCounters(const Reading& r, const std::vector<store::Matcher>& matchers,
                         ReadPath path,
                         std::map<std::string, std::vector<slo::CounterMinute>>* out) {
  auto minutes_of = [&](const core::Labels& labels) -> std::vector<slo::CounterMinute>* {
    std::string region = r.RegionOf(labels);
    if (region.empty()) return nullptr;
    auto& v = (*out)[region];
    if (v.empty()) v.resize(static_cast<size_t>(r.n()));
    return &v;
  };
  if (path == ReadPath::kRollups) {
    ASSIGN_OR_RETURN(std::vector<core::Labels> series,
                     r.SeriesWithData(matchers));
    for (const core::Labels& labels : series) {
      std::vector<slo::CounterMinute>* v = minutes_of(labels);
      if (v == nullptr) continue;
      ASSIGN_OR_RETURN(std::vector<store::WindowAggregate> aggs, r.PerMinute(labels));
      for (size_t i = 0; i < aggs.size(); ++i) {
        if (aggs[i].count == 0) continue;
        (*v)[i].has_data = true;
        (*v)[i].increase += std::llround(aggs[i].increase);
      }
    }
    return core::Status::Ok();
  }
  // Raw: each series' increases follow its samples across the day slices. The predecessor of a
  // series' first sample in the range may lie anywhere before it, so the first minute with a
  // sample takes its increase from the store's Aggregate (which finds that predecessor, exactly as
  // the rollups do); every later sample's predecessor is the previous sample read.
  struct State {
    bool started = false;
    int64_t skip_before_ms = 0;  // samples of the first minute are in the Aggregate already
    double prev = 0;
  };
  std::map<core::Labels, State> states;
  core::Status error = core::Status::Ok();
  RETURN_IF_ERROR(r.ForEachRawSlice(matchers, [&](const core::Labels& labels,
                                                  const std::vector<core::Sample>& samples,
                                                  int64_t, int64_t) {
    if (!error.ok()) return;
    std::vector<slo::CounterMinute>* v = minutes_of(labels);
    if (v == nullptr) return;
    State& st = states[labels];
    for (const core::Sample& s : samples) {
      if (std::isnan(s.value)) continue;
      const int64_t m = MinuteOfMs(s.timestamp_ms);
      if (m < r.begin || m >= r.end) continue;
      slo::CounterMinute& c = (*v)[static_cast<size_t>(m - r.begin)];
      if (!st.started) {
        auto agg = r.reader.Aggregate(labels, r.min_ms(), (m + 1) * kMinuteMs,
                                      store::Reader::Fields::kCounts);
        if (!agg.ok()) {
          error = agg.status();
          return;
        }
        st.started = true;
        st.skip_before_ms = (m + 1) * kMinuteMs;
        c.has_data = true;
        c.increase += std::llround(agg->increase);
      }
      if (s.timestamp_ms < st.skip_before_ms) {
        st.prev = s.value;  // ends as the minute's last valid value
        continue;
      }
      const double inc = s.value >= st.prev ? s.value - st.prev : s.value;
      st.prev = s.value;
      c.has_data = true;
      c.increase += std::llround(inc);
    }
  }));
  return error;
}

core::Status ReadCounters(const Reading& r, ReadPath path, RegionMap* out) {
  const SliSource& src = r.rule.source;
  if (src.total.empty() || (src.good.empty() == src.bad.empty())) {
    return core::InvalidArgumentError(
        "slo {}: a counter SLI needs `total` and exactly one of `good` and `bad`",
        r.rule.spec.name);
  }
  std::map<std::string, std::vector<slo::CounterMinute>> total, part;
  RETURN_IF_ERROR(SumCounters(r, src.total, path, &total));
  const bool from_bad = src.good.empty();
  RETURN_IF_ERROR(SumCounters(r, from_bad ? src.bad : src.good, path, &part));
  for (auto& [region, minutes] : total) {
    slo::BucketSeries s = EmptySeries(r.begin, r.n());
    auto p = part.find(region);
    for (size_t i = 0; i < minutes.size(); ++i) {
      if (!minutes[i].has_data) continue;
      const int64_t t = std::max<int64_t>(minutes[i].increase, 0);
      const int64_t x = p == part.end() ? 0 : std::clamp<int64_t>(p->second[i].increase, 0, t);
      // Good clamped to total, as slo::RequestRatioBuckets does; with `bad`, bad is clamped.
      s.buckets[i] = slo::Bucket::Events(from_bad ? t - x : x, t);
    }
    (*out)[region] = std::move(s);
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<RegionMap> ReadBuckets(
    store::Reader& reader, const SloRule& rule, int64_t begin_minute, int64_t end_minute,
    ReadPath path, const std::vector<ResolvedSelector>* resolved,
    core::Duration agent_down_after, std::map<std::string, ReducedCoverage>* reduced) {
  RegionMap out;
  if (end_minute < begin_minute) end_minute = begin_minute;
  const Reading r{rule, reader, begin_minute, end_minute, resolved, agent_down_after, reduced};
  if (r.n() > 0) {
    switch (rule.spec.sli) {
      case slo::SliKind::kProbeAvailability:
        RETURN_IF_ERROR(ReadProbe(r, path, &out));
        break;
      case slo::SliKind::kLatency:
        if (!rule.source.total.empty()) {
          RETURN_IF_ERROR(ReadCounters(r, path, &out));
        } else {
          if (rule.source.selector.empty()) {
            return core::InvalidArgumentError("slo {}: a latency SLI needs a selector",
                                              rule.spec.name);
          }
          RETURN_IF_ERROR(ReadLatency(r, &out));
        }
        break;
      case slo::SliKind::kRequestRatio:
        RETURN_IF_ERROR(ReadCounters(r, path, &out));
        break;
      case slo::SliKind::kFreshness:
        if (rule.source.selector.empty()) {
          return core::InvalidArgumentError("slo {}: a freshness SLI needs a selector",
                                            rule.spec.name);
        }
        RETURN_IF_ERROR(ReadFreshness(r, path, &out));
        break;
    }
  }
  for (const std::string& region : rule.spec.regions) {
    if (!out.contains(region)) out[region] = EmptySeries(begin_minute, r.n());
  }
  return out;
}

// The selectors the raw reads of `rule` use (as ReadProbe, ReadCounters, ... pass them).
core::Result<std::vector<std::vector<store::Matcher>>> RawSelectors(const SloRule& rule) {
  const SliSource& src = rule.source;
  std::vector<std::vector<store::Matcher>> out;
  auto add = [&out](const std::vector<store::Matcher>& m) {
    if (!m.empty()) out.push_back(m);
  };
  switch (rule.spec.sli) {
    case slo::SliKind::kProbeAvailability: {
      ASSIGN_OR_RETURN(std::vector<store::Matcher> m, WithName(src.selector, "probe_success"));
      out.push_back(std::move(m));
      break;
    }
    case slo::SliKind::kLatency:
    case slo::SliKind::kRequestRatio:
    case slo::SliKind::kFreshness:
      add(src.selector);
      add(src.total);
      add(src.good);
      add(src.bad);
      break;
  }
  return out;
}

// `older` (over [from, mid)) followed by `newer` (over [mid, end)), per region, as one map over
// [from, end).
RegionMap Concat(RegionMap older, const RegionMap& newer, int64_t from, int64_t end) {
  for (const auto& [region, series] : newer) {
    auto [it, inserted] = older.try_emplace(region);
    slo::BucketSeries& s = it->second;
    if (inserted) s = EmptySeries(from, 0);
    s.buckets.resize(static_cast<size_t>(series.first_minute - from), slo::Bucket::NoData());
    s.buckets.insert(s.buckets.end(), series.buckets.begin(), series.buckets.end());
  }
  for (auto& [region, s] : older) {
    s.buckets.resize(static_cast<size_t>(end - from), slo::Bucket::NoData());
  }
  return older;
}

// Whether any series of `rule` has a sample in the `lookback` before minute `from`.
core::Result<bool> HasDataBefore(store::Reader& reader, const SloRule& rule,
                                 const std::vector<ResolvedSelector>* resolved, int64_t from,
                                 core::Duration lookback) {
  const int64_t end_ms = from * kMinuteMs;
  const int64_t start_ms = end_ms - lookback.millis();
  std::vector<core::Labels> series;
  if (resolved != nullptr) {
    for (const ResolvedSelector& r : *resolved) {
      for (const store::SeriesRef& ref : r.series) series.push_back(ref.labels);
    }
  } else {
    ASSIGN_OR_RETURN(std::vector<std::vector<store::Matcher>> selectors, RawSelectors(rule));
    for (const auto& matchers : selectors) {
      ASSIGN_OR_RETURN(std::vector<core::Labels> found,
                       reader.Series(matchers, start_ms, end_ms - 1));
      series.insert(series.end(), found.begin(), found.end());
    }
  }
  for (const core::Labels& labels : series) {
    ASSIGN_OR_RETURN(store::WindowAggregate a,
                     reader.Aggregate(labels, start_ms, end_ms, store::Reader::Fields::kCounts));
    if (a.count > 0) return true;
  }
  return false;
}

core::Result<std::map<std::string, slo::BucketSeries>> ReadSloBuckets(
    store::Reader& reader, const SloRule& rule, int64_t begin_minute, int64_t end_minute,
    ReadPath path) {
  return ReadBuckets(reader, rule, begin_minute, end_minute, path, nullptr,
                     core::Duration::Minutes(2), nullptr);
}

}  // namespace nines::rules
