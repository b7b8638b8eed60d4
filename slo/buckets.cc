#include "slo/buckets.h"

#include <algorithm>
#include <cmath>

namespace nines::slo {

namespace {

constexpr int64_t kMinuteMs = 60'000;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t MinuteOfMs(int64_t ms) { return FloorDiv(ms, kMinuteMs); }

// Index of `minute` in [first, first + n), or -1.
int64_t IndexIn(int64_t minute, int64_t first, int64_t n) {
  int64_t i = minute - first;
  return (i >= 0 && i < n) ? i : -1;
}

}  // namespace

int64_t MinuteOf(core::Timestamp t) { return FloorDiv(t.UnixNanos(), 60'000'000'000); }

core::Timestamp MinuteStart(int64_t minute) { return core::Timestamp::FromUnixSeconds(minute * 60); }

Bucket BucketSeries::At(int64_t minute) const {
  int64_t i = IndexIn(minute, first_minute, static_cast<int64_t>(buckets.size()));
  return i < 0 ? Bucket::NoData() : buckets[static_cast<size_t>(i)];
}

WindowCounts& WindowCounts::operator+=(const WindowCounts& o) {
  good += o.good;
  total += o.total;
  buckets += o.buckets;
  covered += o.covered;
  slices += o.slices;
  slices_covered += o.slices_covered;
  bad_slices += o.bad_slices;
  return *this;
}

bool IsGoodSlice(const Bucket& b, double slice_target) {
  if (b.total <= 0) return true;
  return static_cast<double>(b.good) / static_cast<double>(b.total) >= slice_target - 1e-12;
}

core::Status ValidateBucket(const Bucket& b) {
  if (b.good < 0) return core::InvalidArgumentError("bucket: good {} < 0", b.good);
  if (b.good > b.total) {
    return core::InvalidArgumentError("bucket: good {} > total {}", b.good, b.total);
  }
  if (!b.has_data && (b.good != 0 || b.total != 0)) {
    return core::InvalidArgumentError("bucket: no data but counts {}/{}", b.good, b.total);
  }
  return core::Status::Ok();
}

PrefixCounts::PrefixCounts(int64_t first_minute, double slice_target)
    : first_minute_(first_minute), slice_target_(slice_target) {
  Cumulative zero;
  size_ = 1;
  last_ = zero;
  base_.push_back(zero);
  narrow_.emplace_back();
  wide_at_.push_back(-1);
}

PrefixCounts PrefixCounts::Build(const BucketSeries& series, double slice_target) {
  PrefixCounts p(series.first_minute, slice_target);
  p.narrow_.reserve(series.buckets.size() + 1);
  for (const Bucket& b : series.buckets) p.Append(b);
  return p;
}

void PrefixCounts::Widen(int64_t k) {
  const auto at = static_cast<int32_t>(wide_.size());
  wide_.resize(wide_.size() + kBlock);
  const int64_t first = k * kBlock;
  for (int64_t i = first + 1; i < size_; ++i) {
    const Narrow& n = narrow_[static_cast<size_t>(i)];
    wide_[static_cast<size_t>(at + (i - first))] = {n.good, n.total, n.covered, n.bad_slices};
  }
  wide_at_[static_cast<size_t>(k)] = at;
}

void PrefixCounts::Append(const Bucket& in) {
  // Clamp what ValidateBucket would reject, so one bad bucket cannot make a window's good
  // exceed its total.
  Bucket b = in;
  if (!b.has_data) {
    b.good = b.total = 0;
  } else {
    b.total = std::max<int64_t>(b.total, 0);
    b.good = std::clamp<int64_t>(b.good, 0, b.total);
  }
  Cumulative c = last_;
  c.good += b.good;
  c.total += b.total;
  if (b.has_data) {
    ++c.covered;
    if (!IsGoodSlice(b, slice_target_)) ++c.bad_slices;
  }
  const int64_t i = size_++;
  last_ = c;
  const int64_t k = i >> kBlockBits;
  if ((i & (kBlock - 1)) == 0) {  // a new block starts with its base
    base_.push_back(c);
    wide_at_.push_back(-1);
    narrow_.emplace_back();
    return;
  }
  const Cumulative& base = base_[static_cast<size_t>(k)];
  const Cumulative d{c.good - base.good, c.total - base.total, c.covered - base.covered,
                     c.bad_slices - base.bad_slices};
  narrow_.emplace_back();
  if (wide_at_[static_cast<size_t>(k)] < 0 && d.total > 0xffff) Widen(k);
  if (const int32_t at = wide_at_[static_cast<size_t>(k)]; at >= 0) {
    wide_[static_cast<size_t>(at + (i & (kBlock - 1)))] = d;
  } else {
    // good <= total and covered, bad_slices < kBlock: every field fits.
    narrow_.back() = {static_cast<uint16_t>(d.good), static_cast<uint16_t>(d.total),
                      static_cast<uint8_t>(d.covered), static_cast<uint8_t>(d.bad_slices)};
  }
}

void PrefixCounts::Truncate(int64_t end_minute) {
  const int64_t keep = std::max<int64_t>(end_minute - first_minute_, 0) + 1;
  if (keep >= size_) return;
  size_ = keep;
  const auto blocks = static_cast<size_t>(((keep - 1) >> kBlockBits) + 1);
  narrow_.resize(static_cast<size_t>(keep));
  base_.resize(blocks);
  wide_at_.resize(blocks);
  // Wide blocks take wide_ in block order: what the last kept one uses is all that is needed.
  size_t wide_end = 0;
  for (size_t k = blocks; k-- > 0;) {
    if (wide_at_[k] >= 0) {
      wide_end = static_cast<size_t>(wide_at_[k]) + kBlock;
      break;
    }
  }
  wide_.resize(wide_end);
  last_ = Entry(keep - 1);
}

PrefixCounts::Cumulative PrefixCounts::Entry(int64_t i) const {
  const auto k = static_cast<size_t>(i >> kBlockBits);
  const int64_t j = i & (kBlock - 1);
  Cumulative c = base_[k];
  if (j == 0) return c;
  if (const int32_t at = wide_at_[k]; at >= 0) {
    const Cumulative& d = wide_[static_cast<size_t>(at + j)];
    c.good += d.good;
    c.total += d.total;
    c.covered += d.covered;
    c.bad_slices += d.bad_slices;
  } else {
    const Narrow& d = narrow_[static_cast<size_t>(i)];
    c.good += d.good;
    c.total += d.total;
    c.covered += d.covered;
    c.bad_slices += d.bad_slices;
  }
  return c;
}

PrefixCounts::Cumulative PrefixCounts::At(int64_t minute) const {
  return Entry(std::clamp<int64_t>(minute - first_minute_, 0, size_ - 1));
}

void PrefixCounts::DropBefore(int64_t minute) {
  // Keep the block holding the last entry, so that there is always one.
  const int64_t blocks = std::min((minute - first_minute_) >> kBlockBits,
                                  (size_ - 1) >> kBlockBits);
  if (blocks <= 0) return;
  const auto k0 = static_cast<size_t>(blocks);
  const auto entries = static_cast<int64_t>(k0) * kBlock;
  // Wide blocks own wide_ in block order: the dropped ones own its front.
  size_t wide_dropped = 0;
  for (size_t k = 0; k < k0; ++k) wide_dropped += wide_at_[k] >= 0 ? kBlock : 0;
  base_.erase(base_.begin(), base_.begin() + static_cast<ptrdiff_t>(k0));
  wide_at_.erase(wide_at_.begin(), wide_at_.begin() + static_cast<ptrdiff_t>(k0));
  for (int32_t& at : wide_at_) {
    if (at >= 0) at -= static_cast<int32_t>(wide_dropped);
  }
  wide_.erase(wide_.begin(), wide_.begin() + static_cast<ptrdiff_t>(wide_dropped));
  narrow_.erase(narrow_.begin(), narrow_.begin() + entries);
  first_minute_ += entries;
  size_ -= entries;
}

void PrefixCounts::Reserve(int64_t minutes) {
  const auto entries = static_cast<size_t>(std::max<int64_t>(minutes, 0) + 1);
  narrow_.reserve(entries);
  base_.reserve((entries >> kBlockBits) + 1);
  wide_at_.reserve((entries >> kBlockBits) + 1);
}

size_t PrefixCounts::MemoryBytes() const {
  return base_.capacity() * sizeof(Cumulative) + narrow_.capacity() * sizeof(Narrow) +
         wide_at_.capacity() * sizeof(int32_t) + wide_.capacity() * sizeof(Cumulative);
}

WindowCounts PrefixCounts::Counts(int64_t begin_minute, int64_t end_minute) const {
  WindowCounts w;
  if (end_minute <= begin_minute) return w;
  Cumulative a = At(begin_minute);
  Cumulative b = At(end_minute);
  w.good = b.good - a.good;
  w.total = b.total - a.total;
  w.buckets = w.slices = end_minute - begin_minute;
  w.covered = w.slices_covered = b.covered - a.covered;
  w.bad_slices = b.bad_slices - a.bad_slices;
  return w;
}

BucketSeries SumSeries(const std::vector<const BucketSeries*>& regions) {
  BucketSeries out;
  if (regions.empty()) return out;
  int64_t first = regions[0]->first_minute;
  int64_t end = regions[0]->end_minute();
  for (const BucketSeries* s : regions) {
    first = std::min(first, s->first_minute);
    end = std::max(end, s->end_minute());
  }
  out.first_minute = first;
  out.buckets.assign(static_cast<size_t>(end - first), Bucket::NoData());
  for (const BucketSeries* s : regions) {
    for (size_t i = 0; i < s->buckets.size(); ++i) {
      const Bucket& b = s->buckets[i];
      if (!b.has_data) continue;
      Bucket& o = out.buckets[static_cast<size_t>(s->first_minute - first) + i];
      o.has_data = true;
      o.good += b.good;
      o.total += b.total;
    }
  }
  return out;
}

WindowCounts GlobalCounts::Counts(int64_t begin_minute, int64_t end_minute) const {
  WindowCounts w;
  for (const CountSource* r : regions_) {
    WindowCounts c = r->Counts(begin_minute, end_minute);
    w.good += c.good;
    w.total += c.total;
    w.buckets += c.buckets;
    w.covered += c.covered;
  }
  if (summed_ == nullptr) return w;  // events only: no slice fields
  WindowCounts s = summed_->Counts(begin_minute, end_minute);
  w.slices = s.slices;
  w.slices_covered = s.slices_covered;
  w.bad_slices = s.bad_slices;
  return w;
}

std::vector<ProbeMinute> ProbeMinutes(const std::vector<core::Sample>& samples,
                                      int64_t first_minute, int64_t n) {
  std::vector<ProbeMinute> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (const core::Sample& s : samples) {
    if (std::isnan(s.value)) continue;
    int64_t i = IndexIn(MinuteOfMs(s.timestamp_ms), first_minute, n);
    if (i < 0) continue;
    if (s.value > 0.5) {
      ++out[static_cast<size_t>(i)].successes;
    } else {
      ++out[static_cast<size_t>(i)].failures;
    }
  }
  return out;
}

BucketSeries QuorumBuckets(const std::vector<std::vector<ProbeMinute>>& locations,
                           int64_t first_minute, int quorum, const std::vector<int>* live) {
  BucketSeries out;
  out.first_minute = first_minute;
  size_t n = locations.empty() ? 0 : locations[0].size();
  out.buckets.assign(n, Bucket::NoData());
  for (size_t m = 0; m < n; ++m) {
    int reported = 0;
    int failed = 0;
    for (const auto& loc : locations) {
      if (m >= loc.size() || !loc[m].reported()) continue;
      ++reported;
      if (loc[m].failed()) ++failed;
    }
    if (reported == 0) continue;
    int q = quorum > 0 ? quorum : reported / 2 + 1;
    if (quorum > 0 && live != nullptr && m < live->size()) q = std::max(1, std::min(q, (*live)[m]));
    if (reported < q) continue;  // too few witnesses: unknown
    out.buckets[m] = Bucket::Events(failed >= q ? 0 : 1, 1);
  }
  return out;
}

std::vector<CounterMinute> CounterIncreases(const std::vector<core::Sample>& samples,
                                            int64_t first_minute, int64_t n) {
  std::vector<CounterMinute> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  bool have_prev = false;
  double prev = 0;
  for (const core::Sample& s : samples) {
    if (std::isnan(s.value)) continue;
    double inc = 0;
    if (have_prev) inc = s.value >= prev ? s.value - prev : s.value;
    prev = s.value;
    have_prev = true;
    int64_t i = IndexIn(MinuteOfMs(s.timestamp_ms), first_minute, n);
    if (i < 0) continue;
    CounterMinute& c = out[static_cast<size_t>(i)];
    c.has_data = true;
    c.increase += static_cast<int64_t>(std::llround(inc));
  }
  return out;
}

BucketSeries RequestRatioBuckets(const std::vector<core::Sample>& good_counter,
                                 const std::vector<core::Sample>& total_counter,
                                 int64_t first_minute, int64_t n) {
  std::vector<CounterMinute> good = CounterIncreases(good_counter, first_minute, n);
  std::vector<CounterMinute> total = CounterIncreases(total_counter, first_minute, n);
  BucketSeries out;
  out.first_minute = first_minute;
  out.buckets.assign(total.size(), Bucket::NoData());
  for (size_t i = 0; i < total.size(); ++i) {
    if (!total[i].has_data) continue;
    int64_t t = std::max<int64_t>(total[i].increase, 0);
    out.buckets[i] = Bucket::Events(std::clamp<int64_t>(good[i].increase, 0, t), t);
  }
  return out;
}

BucketSeries LatencyBuckets(const std::vector<core::Sample>& observations, double threshold,
                            int64_t first_minute, int64_t n) {
  BucketSeries out;
  out.first_minute = first_minute;
  out.buckets.assign(static_cast<size_t>(std::max<int64_t>(n, 0)), Bucket::NoData());
  for (const core::Sample& s : observations) {
    if (std::isnan(s.value)) continue;
    int64_t i = IndexIn(MinuteOfMs(s.timestamp_ms), first_minute, n);
    if (i < 0) continue;
    Bucket& b = out.buckets[static_cast<size_t>(i)];
    b.has_data = true;
    ++b.total;
    if (s.value <= threshold) ++b.good;
  }
  return out;
}

BucketSeries FreshnessBuckets(const std::vector<core::Sample>& last_success_seconds,
                              core::Duration max_age, int64_t first_minute, int64_t n) {
  BucketSeries out;
  out.first_minute = first_minute;
  out.buckets.assign(static_cast<size_t>(std::max<int64_t>(n, 0)), Bucket::NoData());
  // Samples are ascending, so the last one seen for a minute is its newest.
  for (const core::Sample& s : last_success_seconds) {
    if (std::isnan(s.value)) continue;
    int64_t i = IndexIn(MinuteOfMs(s.timestamp_ms), first_minute, n);
    if (i < 0) continue;
    double age_s = static_cast<double>(s.timestamp_ms) / 1000.0 - s.value;
    bool good = age_s <= max_age.SecondsDouble();
    out.buckets[static_cast<size_t>(i)] = Bucket::Events(good ? 1 : 0, 1);
  }
  return out;
}

}  // namespace nines::slo
