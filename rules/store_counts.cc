#include "rules/store_counts.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace nines::rules {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kSliceMinutes = 1440;  // raw reads go a day at a time to bound memory

int64_t MinuteOfMs(int64_t t) { return t >= 0 ? t / kMinuteMs : -((-t + kMinuteMs - 1) / kMinuteMs); }

int64_t CeilMinutes(core::Duration d) {
  const int64_t ns = d.nanos();
  if (ns <= 0) return 0;
  const int64_t per = core::Duration::Minutes(1).nanos();
  return (ns + per - 1) / per;
}

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

struct Reading {
  const SloRule& rule;
  store::Reader& reader;
  int64_t begin;  // minutes
  int64_t end;
  int64_t n() const { return end - begin; }
  int64_t min_ms() const { return begin * kMinuteMs; }
  int64_t max_ms() const { return end * kMinuteMs - 1; }

  // The region of a series, or "" when it has none or is not one of the SLO's regions.
  std::string RegionOf(const core::Labels& labels) const {
    std::string r(labels.Get(rule.source.region_label));
    if (r.empty()) return r;
    if (!rule.spec.regions.empty() &&
        std::find(rule.spec.regions.begin(), rule.spec.regions.end(), r) ==
            rule.spec.regions.end()) {
      return "";
    }
    return r;
  }

  // Calls fn(series, slice_begin_minute, slice_n) for the raw samples of every series matching
  // `matchers`, a day of minutes at a time, in time order per series.
  template <typename Fn>
  core::Status ForEachRawSlice(const std::vector<store::Matcher>& matchers, Fn fn) const {
    for (int64_t s = begin; s < end; s += kSliceMinutes) {
      const int64_t t = std::min(end, s + kSliceMinutes);
      ASSIGN_OR_RETURN(std::vector<store::SeriesSamples> all,
                       reader.Select(matchers, s * kMinuteMs, t * kMinuteMs - 1));
      for (store::SeriesSamples& ss : all) fn(ss, s, t - s);
    }
    return core::Status::Ok();
  }

  // One kCounts aggregate per minute of [begin, end) for `series`.
  core::Result<std::vector<store::WindowAggregate>> PerMinute(const core::Labels& series) const {
    std::vector<store::WindowAggregate> out;
    out.reserve(static_cast<size_t>(n()));
    for (int64_t m = begin; m < end; ++m) {
      ASSIGN_OR_RETURN(store::WindowAggregate a,
                       reader.Aggregate(series, m * kMinuteMs, (m + 1) * kMinuteMs,
                                        store::Reader::Fields::kCounts));
      out.push_back(a);
    }
    return out;
  }
};

using RegionMap = std::map<std::string, slo::BucketSeries>;

slo::BucketSeries EmptySeries(int64_t begin, int64_t n) {
  slo::BucketSeries s;
  s.first_minute = begin;
  s.buckets.assign(static_cast<size_t>(n), slo::Bucket::NoData());
  return s;
}

// ---- probe availability -------------------------------------------------------------------

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
    RETURN_IF_ERROR(r.ForEachRawSlice(matchers, [&](const store::SeriesSamples& ss, int64_t s,
                                                    int64_t n) {
      std::vector<slo::ProbeMinute>* v = minutes_of(ss.labels);
      if (v == nullptr) return;
      std::vector<slo::ProbeMinute> pm = slo::ProbeMinutes(ss.samples, s, n);
      for (int64_t i = 0; i < n; ++i) {
        slo::ProbeMinute& o = (*v)[static_cast<size_t>(s - r.begin + i)];
        o.successes += pm[static_cast<size_t>(i)].successes;
        o.failures += pm[static_cast<size_t>(i)].failures;
      }
    }));
  } else {
    ASSIGN_OR_RETURN(std::vector<core::Labels> series,
                     r.reader.Series(matchers, r.min_ms(), r.max_ms()));
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
    (*out)[region] = slo::QuorumBuckets(all, r.begin, r.rule.spec.quorum);
  }
  return core::Status::Ok();
}

// ---- latency from observations -------------------------------------------------------------

core::Status ReadLatency(const Reading& r, RegionMap* out) {
  return r.ForEachRawSlice(r.rule.source.selector, [&](const store::SeriesSamples& ss, int64_t s,
                                                       int64_t n) {
    std::string region = r.RegionOf(ss.labels);
    if (region.empty()) return;
    auto [it, inserted] = out->try_emplace(region);
    if (inserted || it->second.buckets.empty()) it->second = EmptySeries(r.begin, r.n());
    slo::BucketSeries part = slo::LatencyBuckets(ss.samples, r.rule.source.threshold, s, n);
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
    RETURN_IF_ERROR(r.ForEachRawSlice(r.rule.source.selector,
                                      [&](const store::SeriesSamples& ss, int64_t, int64_t) {
                                        std::string region = r.RegionOf(ss.labels);
                                        if (region.empty()) return;
                                        auto& v = merged[region];
                                        v.insert(v.end(), ss.samples.begin(), ss.samples.end());
                                      }));
  } else {
    ASSIGN_OR_RETURN(std::vector<core::Labels> series,
                     r.reader.Series(r.rule.source.selector, r.min_ms(), r.max_ms()));
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
                     r.reader.Series(matchers, r.min_ms(), r.max_ms()));
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
  RETURN_IF_ERROR(r.ForEachRawSlice(matchers, [&](const store::SeriesSamples& ss, int64_t,
                                                  int64_t) {
    if (!error.ok()) return;
    std::vector<slo::CounterMinute>* v = minutes_of(ss.labels);
    if (v == nullptr) return;
    State& st = states[ss.labels];
    for (const core::Sample& s : ss.samples) {
      if (std::isnan(s.value)) continue;
      const int64_t m = MinuteOfMs(s.timestamp_ms);
      if (m < r.begin || m >= r.end) continue;
      slo::CounterMinute& c = (*v)[static_cast<size_t>(m - r.begin)];
      if (!st.started) {
        auto agg = r.reader.Aggregate(ss.labels, r.min_ms(), (m + 1) * kMinuteMs,
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

core::Result<std::map<std::string, slo::BucketSeries>> ReadSloBuckets(
    store::Reader& reader, const SloRule& rule, int64_t begin_minute, int64_t end_minute,
    ReadPath path) {
  RegionMap out;
  if (end_minute < begin_minute) end_minute = begin_minute;
  const Reading r{rule, reader, begin_minute, end_minute};
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

core::Result<int64_t> NeededMinutes(const slo::SloSpec& spec, core::Timestamp now,
                                    core::Duration max_window) {
  ASSIGN_OR_RETURN(slo::WindowBounds w, slo::ResolveWindow(spec.window, now));
  int64_t needed = w.end_minute - w.begin_minute;
  for (core::Duration d : slo::kBurnRateWindows) needed = std::max(needed, CeilMinutes(d));
  for (const slo::BurnRateRule& rule : spec.alerting.rules) {
    needed = std::max(needed, CeilMinutes(rule.long_window));
  }
  return std::min(needed, std::max<int64_t>(CeilMinutes(max_window), 1));
}

// ---------------------------------------------------------------------------------------------

// One region's counts: the settled prefix counts, then the tail rebuilt by every Update.
struct StoreCounts::Region final : slo::CountSource {
  Region(std::string n, int64_t first, double target)
      : name(std::move(n)), settled(first, target), tail(first, target) {}

  slo::WindowCounts Counts(int64_t b, int64_t e) const override {
    const int64_t split = tail.first_minute();
    slo::WindowCounts w;
    if (b < split) w += settled.Counts(b, std::min(e, split));
    if (e > split) w += tail.Counts(std::max(b, split), e);
    return w;
  }

  std::string name;
  slo::PrefixCounts settled;  // ends at StoreCounts::settled_end_
  slo::PrefixCounts tail;     // [settled_end_, end_minute_)
};

StoreCounts::StoreCounts(SloRule rule, StoreCountsOptions options)
    : rule_(std::move(rule)),
      options_(options),
      slice_target_(rule_.spec.SliceTarget()) {}

StoreCounts::~StoreCounts() = default;

const std::string& StoreCounts::region_name(size_t i) const { return regions_[i]->name; }
const slo::CountSource& StoreCounts::region(size_t i) const { return *regions_[i]; }
const slo::CountSource& StoreCounts::global() const { return *global_; }

int64_t StoreCounts::first_minute() const {
  return summed_ ? summed_->settled.first_minute() : 0;
}

size_t StoreCounts::MemoryBytes() const {
  // PrefixCounts keeps 24 bytes per minute (plus one entry).
  auto bytes = [](const Region& r) {
    return static_cast<size_t>(r.settled.end_minute() - r.settled.first_minute() + 1 +
                               r.tail.end_minute() - r.tail.first_minute() + 1) *
           24;
  };
  size_t total = summed_ ? bytes(*summed_) : 0;
  for (const auto& r : regions_) total += bytes(*r);
  return total;
}

StoreCounts::Region& StoreCounts::RegionNamed(const std::string& name, int64_t first_minute) {
  auto it = std::lower_bound(regions_.begin(), regions_.end(), name,
                             [](const std::unique_ptr<Region>& r, const std::string& n) {
                               return r->name < n;
                             });
  if (it != regions_.end() && (*it)->name == name) return **it;
  it = regions_.insert(it, std::make_unique<Region>(name, first_minute, slice_target_));
  // A region first seen now knows nothing before first_minute; its settled series is empty up to
  // the settled end (PrefixCounts answers "no data" outside its range).
  return **it;
}

void StoreCounts::SetTail(std::map<std::string, slo::BucketSeries>& read, int64_t begin,
                          int64_t end) {
  std::vector<const slo::BucketSeries*> parts;
  std::vector<slo::BucketSeries> tails;
  tails.reserve(regions_.size());
  for (auto& region : regions_) {
    slo::BucketSeries t;
    t.first_minute = begin;
    auto it = read.find(region->name);
    for (int64_t m = begin; m < end; ++m) {
      t.buckets.push_back(it == read.end() ? slo::Bucket::NoData() : it->second.At(m));
    }
    region->tail = slo::PrefixCounts::Build(t, slice_target_);
    tails.push_back(std::move(t));
  }
  for (const auto& t : tails) parts.push_back(&t);
  // Every tail spans [begin, end), so their sum does too.
  summed_->tail = parts.empty() ? slo::PrefixCounts(begin, slice_target_)
                                : slo::PrefixCounts::Build(slo::SumSeries(parts), slice_target_);
}

void StoreCounts::RebuildGlobal() {
  std::vector<const slo::CountSource*> sources;
  for (const auto& r : regions_) sources.push_back(r.get());
  global_ = std::make_unique<slo::GlobalCounts>(std::move(sources), summed_.get());
}

core::Status StoreCounts::Backfill(store::Reader& reader, int64_t end, int64_t needed) {
  const int64_t begin = end - needed;
  const int64_t settled_end = std::max(begin, end - CeilMinutes(options_.settle));
  ASSIGN_OR_RETURN(RegionMap read, ReadSloBuckets(reader, rule_, begin, end, options_.backfill));
  // The tail is always re-read raw, like every incremental read (the rollup path cannot serve
  // latency, and raw is what later cycles compare against).
  if (options_.backfill != ReadPath::kRaw && settled_end < end) {
    ASSIGN_OR_RETURN(RegionMap tail, ReadSloBuckets(reader, rule_, settled_end, end));
    for (auto& [name, series] : tail) {
      auto& dst = read[name];
      if (dst.buckets.empty()) dst = EmptySeries(begin, end - begin);
      std::copy(series.buckets.begin(), series.buckets.end(),
                dst.buckets.begin() + (settled_end - begin));
    }
  }
  regions_.clear();
  summed_ = std::make_unique<Region>("", begin, slice_target_);
  for (auto& [name, series] : read) {
    Region& r = RegionNamed(name, begin);
    r.settled = slo::PrefixCounts(begin, slice_target_);
    for (int64_t m = begin; m < settled_end; ++m) r.settled.Append(series.At(m));
  }
  for (int64_t m = begin; m < settled_end; ++m) {
    slo::Bucket sum;
    for (auto& [name, series] : read) {
      slo::Bucket b = series.At(m);
      if (!b.has_data) continue;
      sum.has_data = true;
      sum.good += b.good;
      sum.total += b.total;
    }
    summed_->settled.Append(sum);
  }
  SetTail(read, settled_end, end);
  RebuildGlobal();
  settled_end_ = settled_end;
  end_minute_ = end;
  last_read_minutes_ = end - begin;
  initialized_ = true;
  return core::Status::Ok();
}

void StoreCounts::Trim(int64_t needed) {
  // Keep memory proportional to the needed span: once the settled series holds twice what is
  // needed (and at least a day more), copy the needed part into fresh prefix counts. Each minute
  // is copied at most once per `needed` minutes appended, so the cost is O(1) amortized.
  const int64_t keep_from = settled_end_ - needed;
  auto trim = [&](slo::PrefixCounts& p) {
    if (keep_from - p.first_minute() < std::max<int64_t>(needed, kSliceMinutes)) return;
    slo::PrefixCounts fresh(keep_from, slice_target_);
    for (int64_t m = keep_from; m < p.end_minute(); ++m) {
      slo::WindowCounts c = p.Counts(m, m + 1);
      fresh.Append(c.covered > 0 ? slo::Bucket::Events(c.good, c.total) : slo::Bucket::NoData());
    }
    p = std::move(fresh);
  };
  for (auto& r : regions_) trim(r->settled);
  trim(summed_->settled);
}

core::Status StoreCounts::Update(store::Reader& reader, core::Timestamp now) {
  const int64_t end_now = slo::MinuteOf(now);
  ASSIGN_OR_RETURN(int64_t needed, NeededMinutes(rule_.spec, now, options_.max_window));
  const int64_t settle = CeilMinutes(options_.settle);
  if (!initialized_ || end_now - settled_end_ > needed + settle) {
    return Backfill(reader, end_now, needed);
  }
  const int64_t end = std::max(end_now, settled_end_);
  const int64_t new_settled = std::max(settled_end_, end - settle);
  ASSIGN_OR_RETURN(RegionMap read, ReadSloBuckets(reader, rule_, settled_end_, end));
  for (auto& [name, series] : read) RegionNamed(name, settled_end_);
  for (int64_t m = settled_end_; m < new_settled; ++m) {
    slo::Bucket sum;
    for (auto& region : regions_) {
      auto it = read.find(region->name);
      slo::Bucket b = it == read.end() ? slo::Bucket::NoData() : it->second.At(m);
      region->settled.Append(b);
      if (!b.has_data) continue;
      sum.has_data = true;
      sum.good += b.good;
      sum.total += b.total;
    }
    summed_->settled.Append(sum);
  }
  last_read_minutes_ = end - settled_end_;
  settled_end_ = new_settled;
  end_minute_ = end;
  SetTail(read, new_settled, end);
  RebuildGlobal();
  Trim(needed);
  return core::Status::Ok();
}

}  // namespace nines::rules
