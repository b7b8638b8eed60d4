#include "rules/store_counts.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "rules/store_reads.h"

namespace nines::rules {
namespace {

// How many minutes beyond the needed span the counts may hold before StoreCounts::Trim copies
// the needed part out: an eighth of it, at least a day.
int64_t TrimSlack(int64_t needed) { return std::max<int64_t>(needed / 8, kSliceMinutes); }

}  // namespace

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

// One region's counts (name order in StoreCounts::regions_).
struct StoreCounts::Region {
  Region(std::string n, int64_t first, double target)
      : name(std::move(n)), counts(first, target) {}
  std::string name;
  slo::PrefixCounts counts;  // [counts.first_minute(), StoreCounts::end_minute_)
};

StoreCounts::StoreCounts(SloRule rule, StoreCountsOptions options)
    : rule_(std::move(rule)),
      options_(options),
      slice_target_(rule_.spec.SliceTarget()) {}

StoreCounts::~StoreCounts() = default;

const std::string& StoreCounts::region_name(size_t i) const { return regions_[i]->name; }
const slo::CountSource& StoreCounts::region(size_t i) const { return regions_[i]->counts; }
const slo::CountSource& StoreCounts::global() const { return *global_; }

int64_t StoreCounts::first_minute() const { return first_minute_; }

int64_t StoreCounts::known_since() const {
  if (rule_.spec.no_data == slo::NoDataPolicy::kUnknown || data_before_backfill_) {
    return slo::kKnownSinceAlways;
  }
  return std::min(first_data_minute_, created_minute_);
}

const ReducedCoverage* StoreCounts::reduced_coverage(size_t i) const {
  auto it = reduced_.find(regions_[i]->name);
  return it == reduced_.end() ? nullptr : &it->second;
}

core::Status StoreCounts::CountUndeclared(store::Reader& reader,
                                          const std::vector<ResolvedSelector>* ids, int64_t from,
                                          int64_t end) {
  const std::vector<std::string>& declared = rule_.declared_regions;
  if (declared.empty() || from >= end) return core::Status::Ok();
  // The selector whose series are the SLI's events (a ratio's `total`, not also its `good`).
  const SliSource& src = rule_.source;
  std::vector<store::Matcher> matchers = src.total.empty() ? src.selector : src.total;
  if (rule_.spec.sli == slo::SliKind::kProbeAvailability) {
    ASSIGN_OR_RETURN(matchers, WithName(src.selector, "probe_success"));
  }
  if (matchers.empty()) return core::Status::Ok();
  auto undeclared = [&](const core::Labels& labels) {
    std::string_view r = labels.Get(src.region_label);
    return !r.empty() && std::find(declared.begin(), declared.end(), r) == declared.end();
  };
  std::vector<core::Labels> series;
  const ResolvedSelector* resolved = nullptr;
  if (ids != nullptr) {
    for (const ResolvedSelector& rs : *ids) {
      if (SameMatchers(rs.matchers, matchers)) resolved = &rs;
    }
  }
  if (resolved != nullptr) {
    for (const store::SeriesRef& ref : resolved->series) {
      if (undeclared(ref.labels)) series.push_back(ref.labels);
    }
  } else {
    ASSIGN_OR_RETURN(std::vector<core::Labels> all,
                     reader.Series(matchers, from * kMinuteMs, end * kMinuteMs - 1));
    for (core::Labels& labels : all) {
      if (undeclared(labels)) series.push_back(std::move(labels));
    }
  }
  for (const core::Labels& labels : series) {
    ASSIGN_OR_RETURN(store::WindowAggregate agg,
                     reader.Aggregate(labels, from * kMinuteMs, end * kMinuteMs,
                                      store::Reader::Fields::kCounts));
    if (agg.count > 0) undeclared_[std::string(labels.Get(src.region_label))] += agg.count;
  }
  return core::Status::Ok();
}

size_t StoreCounts::MemoryBytes() const {
  auto bytes = [](const Region& r) { return r.counts.MemoryBytes(); };
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
  // A region first seen now knows nothing before first_minute (PrefixCounts answers "no data"
  // outside its range).
  it = regions_.insert(it, std::make_unique<Region>(name, first_minute, slice_target_));
  regions_changed_ = true;
  return **it;
}

void StoreCounts::Replace(const RegionMap& read, int64_t from, int64_t end) {
  for (const auto& [name, series] : read) RegionNamed(name, from);
  auto rewind = [&](Region& r) {
    if (from <= r.counts.first_minute()) {
      r.counts = slo::PrefixCounts(from, slice_target_);
      r.counts.Reserve(end - from + TrimSlack(end - from));  // Trim keeps it within this
    } else {
      r.counts.Truncate(from);
    }
  };
  for (auto& region : regions_) rewind(*region);
  if (summed_) rewind(*summed_);
  std::vector<const slo::BucketSeries*> per_region;
  per_region.reserve(regions_.size());
  for (auto& region : regions_) {
    auto it = read.find(region->name);
    per_region.push_back(it == read.end() ? nullptr : &it->second);
  }
  for (int64_t m = from; m < end; ++m) {
    slo::Bucket sum;
    for (size_t i = 0; i < regions_.size(); ++i) {
      const slo::Bucket b = per_region[i] ? per_region[i]->At(m) : slo::Bucket::NoData();
      regions_[i]->counts.Append(b);
      if (!b.has_data) continue;
      sum.has_data = true;
      sum.good += b.good;
      sum.total += b.total;
    }
    if (summed_) summed_->counts.Append(sum);
  }
  if (regions_changed_ || !global_) {
    std::vector<const slo::CountSource*> sources;
    for (const auto& r : regions_) sources.push_back(&r->counts);
    global_ = std::make_unique<slo::GlobalCounts>(std::move(sources),
                                                  summed_ ? &summed_->counts : nullptr);
    regions_changed_ = false;
  }
}

void StoreCounts::Trim(int64_t needed) {
  // Keep memory proportional to the needed span: once a series holds TrimSlack(needed) more than
  // is needed, forget the blocks before the needed part (a memmove of the kept part, once per
  // slack's worth of minutes appended: O(1) amortized), so the counts never outgrow what
  // Replace reserved.
  const int64_t keep_from = end_minute_ - needed;
  auto trim = [&](slo::PrefixCounts& p) {
    if (keep_from - p.first_minute() >= TrimSlack(needed)) p.DropBefore(keep_from);
  };
  for (auto& r : regions_) trim(r->counts);
  if (summed_) {
    trim(summed_->counts);
    first_minute_ = summed_->counts.first_minute();
  } else if (keep_from - first_minute_ >= TrimSlack(needed)) {
    // As DropBefore moves the regions backfilled with this first minute.
    constexpr int64_t kBlock = slo::PrefixCounts::kBlockMinutes;
    first_minute_ += (keep_from - first_minute_) / kBlock * kBlock;
  }
}

core::Status StoreCounts::Update(store::Reader& reader, core::Timestamp now) {
  const int64_t end_now = slo::MinuteOf(now);
  ASSIGN_OR_RETURN(int64_t needed, NeededMinutes(rule_.spec, now, options_.max_window));

  // What changed since the last Update, asked before any read: a commit racing with the reads
  // below is reported again next time.
  uint64_t cursor = cursor_;
  auto changes = reader.ChangesSince(&cursor);
  if (!changes.ok() && changes.status().code() != core::StatusCode::kUnimplemented) {
    return changes.status();
  }
  const store::StoreChanges* tracked = changes.ok() ? &*changes : nullptr;
  bool rebuild = !initialized_ || end_now - end_minute_ > needed ||
                 (tracked && tracked->oldest_appended_ms == store::StoreChanges::kUnknown);

  // The series behind the selectors, resolved again only when the store's series changed.
  std::vector<ResolvedSelector> resolved;
  bool re_resolved = false;
  if (tracked && (!resolved_ || tracked->series_generation != series_generation_)) {
    RETURN_IF_ERROR(Resolve(reader, &resolved, &rebuild));
    re_resolved = true;
  }
  const std::vector<ResolvedSelector>* ids =
      !tracked ? nullptr : re_resolved ? &resolved : resolved_.get();

  Span span;
  RETURN_IF_ERROR(ReadSpan(reader, ids, rebuild, tracked, end_now, needed, &span));
  // Undeclared regions: counted in the minutes not counted before (all of a rebuild's).
  std::map<std::string, int64_t> undeclared_before;
  if (rebuild) undeclared_before.swap(undeclared_);
  if (core::Status s = CountUndeclared(reader, ids,
                                       rebuild ? span.from : std::max(span.from, end_minute_),
                                       span.end);
      !s.ok()) {
    if (rebuild) undeclared_.swap(undeclared_before);
    return s;
  }
  int64_t first_data = 0;
  bool data_before = false;
  RETURN_IF_ERROR(KnownSince(reader, ids, rebuild, span, &first_data, &data_before));

  // Every read succeeded: from here on nothing fails.
  first_data_minute_ = first_data;
  data_before_backfill_ = data_before;
  if (created_minute_ == INT64_MAX) created_minute_ = end_now;
  if (rebuild) {
    regions_.clear();
    summed_.reset();
    if (rule_.spec.method == slo::BudgetingMethod::kTimeslices) {
      summed_ = std::make_unique<Region>("", span.from, slice_target_);
    }
    first_minute_ = span.from;
    global_.reset();
  }
  if (span.from < span.end) reduced_ = std::move(span.reduced);  // the newest minute was read
  Replace(span.read, span.from, span.end);
  end_minute_ = span.end;
  last_read_minutes_ = span.end - span.from;
  initialized_ = true;
  if (tracked) {
    cursor_ = cursor;
    series_generation_ = tracked->series_generation;
    if (re_resolved) {
      resolved_ = std::make_unique<std::vector<ResolvedSelector>>(std::move(resolved));
    }
  }
  Trim(needed);
  return core::Status::Ok();
}

core::Status StoreCounts::Resolve(store::Reader& reader, std::vector<ResolvedSelector>* resolved,
                                  bool* rebuild) const {
  ASSIGN_OR_RETURN(std::vector<std::vector<store::Matcher>> selectors, RawSelectors(rule_));
  for (auto& matchers : selectors) {
    ResolvedSelector r;
    auto series = reader.ResolveSeries(matchers);
    if (!series.ok()) return series.status();
    r.matchers = std::move(matchers);
    r.series = std::move(*series);
    for (const store::SeriesRef& ref : r.series) r.ids.push_back(ref.id);
    resolved->push_back(std::move(r));
  }
  // A series that is gone (deleted) took counted samples with it: count everything again.
  if (resolved_ && !*rebuild) {
    for (size_t i = 0; i < resolved->size() && i < resolved_->size(); ++i) {
      std::vector<uint64_t> now_ids = (*resolved)[i].ids, before = (*resolved_)[i].ids;
      std::sort(now_ids.begin(), now_ids.end());
      std::sort(before.begin(), before.end());
      if (!std::includes(now_ids.begin(), now_ids.end(), before.begin(), before.end())) {
        *rebuild = true;
      }
    }
  }
  return core::Status::Ok();
}

core::Status StoreCounts::ReadSpan(store::Reader& reader,
                                   const std::vector<ResolvedSelector>* ids, bool rebuild,
                                   const store::StoreChanges* tracked, int64_t end_now,
                                   int64_t needed, Span* span) const {
  int64_t& from = span->from;
  int64_t& end = span->end;
  if (!rebuild) {
    end = std::max(end_now, end_minute_);
    if (!tracked) {
      from = end_minute_ - CeilMinutes(options_.settle);
    } else if (tracked->oldest_appended_ms == store::StoreChanges::kNothingAppended) {
      from = end_minute_;
    } else {
      from = std::min(end_minute_, MinuteOfMs(tracked->oldest_appended_ms));
    }
    from = std::max(from, first_minute());  // earlier minutes are outside every window kept
    ASSIGN_OR_RETURN(span->read, ReadBuckets(reader, rule_, from, end, ReadPath::kRaw, ids,
                                             options_.agent_down_after, &span->reduced));
    return core::Status::Ok();
  }
  end = end_now;
  from = end - needed;
  // Raw samples where the raw tier still has them, minute rollups before: a window longer than
  // raw retention (a quarter, a rolling 90d) is counted whole, as if it had been counted minute
  // by minute all along.
  const int64_t horizon_ms = reader.RawHorizonMs();
  const int64_t horizon =
      horizon_ms <= from * kMinuteMs ? from
                                     : std::min(end, MinuteOfMs(horizon_ms - 1) + 1);  // ceil
  if (options_.backfill == ReadPath::kRollups || horizon >= end) {
    ASSIGN_OR_RETURN(span->read, ReadBuckets(reader, rule_, from, end, ReadPath::kRollups, ids,
                                             options_.agent_down_after, &span->reduced));
  } else if (horizon > from) {
    // Only the read that ends at `end` reports the newest minute's coverage.
    ASSIGN_OR_RETURN(RegionMap old, ReadBuckets(reader, rule_, from, horizon, ReadPath::kRollups,
                                                ids, options_.agent_down_after, nullptr));
    ASSIGN_OR_RETURN(RegionMap recent,
                     ReadBuckets(reader, rule_, horizon, end, ReadPath::kRaw, ids,
                                 options_.agent_down_after, &span->reduced));
    span->read = Concat(std::move(old), recent, from, end);
  } else {
    ASSIGN_OR_RETURN(span->read, ReadBuckets(reader, rule_, from, end, ReadPath::kRaw, ids,
                                             options_.agent_down_after, &span->reduced));
  }
  return core::Status::Ok();
}

core::Status StoreCounts::KnownSince(store::Reader& reader,
                                     const std::vector<ResolvedSelector>* ids, bool rebuild,
                                     const Span& span, int64_t* first_data,
                                     bool* data_before) const {
  // The SLO's first minute with data, from what was read.
  *first_data = rebuild ? INT64_MAX : first_data_minute_;
  *data_before = rebuild ? false : data_before_backfill_;
  const bool track_known = rule_.spec.no_data != slo::NoDataPolicy::kUnknown;
  if (track_known && span.from < *first_data) {
    for (const auto& [region, series] : span.read) {
      for (int64_t m = span.from; m < std::min(span.end, *first_data); ++m) {
        if (series.At(m).has_data) {
          *first_data = m;
          break;
        }
      }
    }
  }
  if (track_known && rebuild && *first_data > span.from) {
    // Minutes without data at the start of the span count as no data only if the SLO's series
    // had samples before it (nines or its agents were down), not if they began later.
    ASSIGN_OR_RETURN(*data_before,
                     HasDataBefore(reader, rule_, ids, span.from, options_.max_window));
  }
  return core::Status::Ok();
}

}  // namespace nines::rules
