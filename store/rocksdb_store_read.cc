// The read path of RocksDbStore: snapshots of a series' memory taken under the lock, then raw
// samples (chunks + open chunk + head), rollups and exact window aggregates read without it.
#include <algorithm>
#include <cstring>
#include <limits>

#include "store/rocks_iterator.h"
#include "store/rocks_status.h"
#include "store/rocksdb_store_impl.h"

namespace nines::store::internal {

std::string RocksDbStore::FirstChunkKey(uint64_t id, int64_t from) const {
  const int64_t span = options_.chunk_max_span.millis();
  return TimeKey(id, from < std::numeric_limits<int64_t>::min() + span
                         ? std::numeric_limits<int64_t>::min()
                         : from - span);
}

RocksDbStore::Snapshot RocksDbStore::SnapshotLocked(const MemSeries& s, int64_t mint,
                                                    int64_t maxt) const {
  Snapshot snap;
  snap.id = s.id;
  auto lo = std::lower_bound(s.head.begin(), s.head.end(), mint,
                             [](const core::Sample& x, int64_t t) { return x.timestamp_ms < t; });
  auto hi = std::upper_bound(lo, s.head.end(), maxt,
                             [](int64_t t, const core::Sample& x) { return t < x.timestamp_ms; });
  snap.head.assign(lo, hi);
  if (s.chunk.num_samples() > 0 && s.chunk.max_time() >= mint && s.chunk.min_time() <= maxt) {
    snap.chunk = std::string(s.chunk.bytes());
  }
  if (s.hour.agg.w.count > 0) snap.hour_emitted_end = s.hour.start;
  snap.m1_until = m1_until_;
  return snap;
}

core::Status RocksDbStore::ReadRaw(const Snapshot& snap, int64_t from, int64_t to,
                                   int64_t cutoff, std::vector<core::Sample>* out, Pred* pred) {
  if (pred != nullptr) RETURN_IF_ERROR(FindPredecessor(snap, from, pred));
  if (from >= to) return core::Status::Ok();
  const size_t first = out->size();
  BoundedIterator it(db_.get(), cfs_[kChunks], std::nullopt, TimeKey(snap.id, to));
  for (it->Seek(FirstChunkKey(snap.id, from)); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", snap.id);
    uint64_t max_t;
    std::memcpy(&max_t, v.data(), 8);
    if (static_cast<int64_t>(max_t) < from || static_cast<int64_t>(max_t) < cutoff) continue;
    ChunkIterator ci(std::string_view(v.data() + 8, v.size() - 8));
    while (ci.Next()) {
      if (ci.t() >= from && ci.t() < to && ci.t() >= cutoff) out->push_back({ci.t(), ci.v()});
    }
    RETURN_IF_ERROR(ci.status());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read chunks"));
  if (!snap.chunk.empty()) {
    ChunkIterator ci(snap.chunk);
    while (ci.Next()) {
      if (ci.t() >= from && ci.t() < to && ci.t() >= cutoff) out->push_back({ci.t(), ci.v()});
    }
    RETURN_IF_ERROR(ci.status());
  }
  for (const core::Sample& s : snap.head) {
    if (s.timestamp_ms >= from && s.timestamp_ms < to) out->push_back(s);
  }
  // A chunk closed between the snapshot and the read shows its samples twice.
  auto begin = out->begin() + static_cast<std::ptrdiff_t>(first);
  auto by_time = [](const core::Sample& a, const core::Sample& b) {
    return a.timestamp_ms < b.timestamp_ms;
  };
  if (!std::is_sorted(begin, out->end(), by_time) ||
      std::adjacent_find(begin, out->end(), [](const core::Sample& a, const core::Sample& b) {
        return a.timestamp_ms == b.timestamp_ms;
      }) != out->end()) {
    std::stable_sort(begin, out->end(), by_time);
    out->erase(std::unique(begin, out->end(),
                           [](const core::Sample& a, const core::Sample& b) {
                             return a.timestamp_ms == b.timestamp_ms;
                           }),
               out->end());
  }
  return core::Status::Ok();
}

core::Status RocksDbStore::FindPredecessor(const Snapshot& snap, int64_t before, Pred* pred) {
  *pred = Pred();
  auto valid = [](double v) {
    return !std::isnan(v);  // the staleness marker is a NaN too
  };
  // The snapshot's head only holds samples >= the window start; look at the full series.
  {
    std::shared_lock lock(mu_);
    auto it = by_id_.find(snap.id);
    if (it != by_id_.end()) {
      const MemSeries& s = *it->second;
      for (auto h = s.head.rbegin(); h != s.head.rend(); ++h) {
        if (h->timestamp_ms < before && valid(h->value)) {
          *pred = {true, h->value};
          return core::Status::Ok();
        }
      }
      if (s.chunk.num_samples() > 0 && s.chunk.min_time() < before) {
        ChunkIterator ci(s.chunk.bytes());
        while (ci.Next() && ci.t() < before) {
          if (valid(ci.v())) *pred = {true, ci.v()};
        }
        if (pred->has) return core::Status::Ok();
      }
    }
  }
  BoundedIterator it(db_.get(), cfs_[kChunks], TimeKey(snap.id, std::numeric_limits<int64_t>::min()),
                     std::nullopt);
  for (it->SeekForPrev(TimeKey(snap.id, before - 1)); it->Valid(); it->Prev()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", snap.id);
    ChunkIterator ci(std::string_view(v.data() + 8, v.size() - 8));
    while (ci.Next() && ci.t() < before) {
      if (valid(ci.v())) *pred = {true, ci.v()};
    }
    RETURN_IF_ERROR(ci.status());
    if (pred->has) return core::Status::Ok();
  }
  return FromRocks(it->status(), "store: read chunks");
}

core::Status RocksDbStore::ReadRollups(uint64_t id, Cf cf, int64_t from, int64_t to,
                                       Fields fields, Agg* agg) {
  const int64_t len = cf == kRollup1m ? kMinuteMs : kHourMs;
  // Buckets wholly before the tier's cutoff are expired even if compaction has not run yet.
  const int64_t cutoff = (cf == kRollup1m ? m1_filter_ : h1_filter_).cutoff();
  if (cutoff != INT64_MIN) from = std::max(from, FloorTo(cutoff - len, len) + len);
  if (from >= to) return core::Status::Ok();
  BoundedIterator it(db_.get(), cfs_[cf], TimeKey(id, from), TimeKey(id, to));
  it->Seek(it.lower());
  if (!it->Valid()) return FromRocks(it->status(), "store: read rollups");
  auto bucket_start = [&it] { return TimeOfKey(it->key().data()); };
  StoredBucket first, last;
  if (!first.Decode(it->value().ToStringView(), bucket_start())) {
    return core::DataLossError("store: corrupt rollup of series {}", id);
  }
  Agg out;  // min and max stay neutral (+inf, -inf) unless scanned
  if (fields == Fields::kAll) {
    out.w.min = first.w.min;
    out.w.max = first.w.max;
    for (it->Next(); it->Valid(); it->Next()) {
      StoredBucket b;
      if (!b.Decode(it->value().ToStringView(), bucket_start())) {
        return core::DataLossError("store: corrupt rollup of series {}", id);
      }
      out.w.min = std::min(out.w.min, b.w.min);
      out.w.max = std::max(out.w.max, b.w.max);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "store: read rollups"));
  }
  it->SeekForPrev(std::string(TimeKey(id, to - 1)));
  if (!it->Valid() || !last.Decode(it->value().ToStringView(), bucket_start())) {
    RETURN_IF_ERROR(FromRocks(it->status(), "store: read rollups"));
    return core::DataLossError("store: rollups of series {} changed during a read", id);
  }
  out.w.count = last.after.count - first.before.count;
  out.w.sum = last.after.sum.Since(first.before.sum);
  out.w.increase = last.after.increase.Since(first.before.increase);
  out.w.last = last.w.last;
  out.w.last_timestamp_ms = last.w.last_timestamp_ms;
  out.last_valid = last.pred_after;
  agg->Merge(out);
  return core::Status::Ok();
}

core::Result<WindowAggregate> RocksDbStore::Aggregate(const core::Labels& series,
                                                      int64_t start_ms, int64_t end_ms,
                                                      Fields fields) {
  Snapshot snap;
  {
    std::shared_lock lock(mu_);
    auto s = LookupLocked(series);
    if (!s) {
      WindowAggregate none;
      if (fields == Fields::kCounts) none.min = none.max = std::numeric_limits<double>::quiet_NaN();
      return none;
    }
    snap = SnapshotLocked(*s, start_ms, end_ms - 1);
  }
  Agg total;
  Pred pred;
  bool pred_known = false;  // whether `pred` is the predecessor of `cur`
  int64_t cur = start_ms;
  std::vector<core::Sample> raw;
  // Hour rollups up to the open hour; minute rollups only where they were materialized, which
  // is where raw samples may be gone. Everywhere else the chunks are complete: a sample is
  // dropped only when it is older than both the raw cutoff and m1_until, so reading raw
  // samples back to min(the two) is exact.
  const int64_t hour_end = std::min(FloorTo(end_ms, kHourMs), snap.hour_emitted_end);
  const int64_t minute_end = std::min(FloorTo(end_ms, kMinuteMs), snap.m1_until);
  const int64_t raw_cutoff =
      std::min(raw_read_cutoff_.load(std::memory_order_relaxed), snap.m1_until);
  // Adds the rollups of `cf` in [cur, run_end) and moves `cur` to `run_end`.
  auto rollup_run = [&](Cf cf, int64_t run_end) {
    Agg part;
    RETURN_IF_ERROR(ReadRollups(snap.id, cf, cur, run_end, fields, &part));
    total.Merge(part);
    // A run without valid values leaves the predecessor (known or not) as it was.
    if (part.last_valid.has) {
      pred = part.last_valid;
      pred_known = true;
    }
    cur = run_end;
    return core::Status::Ok();
  };
  while (cur < end_ms) {
    if (cur % kHourMs == 0 && cur + kHourMs <= hour_end) {
      RETURN_IF_ERROR(rollup_run(kRollup1h, hour_end));
      continue;
    }
    const int64_t next_hour = FloorTo(cur, kHourMs) + kHourMs;
    if (cur % kMinuteMs == 0 && cur + kMinuteMs <= minute_end) {
      int64_t run_end = minute_end;
      if (next_hour + kHourMs <= hour_end) run_end = std::min(run_end, next_hour);
      RETURN_IF_ERROR(rollup_run(kRollup1m, run_end));
      continue;
    }
    // Raw up to where a rollup run can start: the next minute when minute rollups follow,
    // else the next hour when an hour run follows, else the end.
    const int64_t next_minute = FloorTo(cur, kMinuteMs) + kMinuteMs;
    int64_t raw_end = end_ms;
    if (next_minute + kMinuteMs <= minute_end) {
      raw_end = next_minute;
    } else if (next_hour + kHourMs <= hour_end) {
      raw_end = next_hour;
    }
    raw_end = std::min(raw_end, end_ms);
    raw.clear();
    Pred found;
    RETURN_IF_ERROR(
        ReadRaw(snap, cur, raw_end, raw_cutoff, &raw, pred_known ? nullptr : &found));
    if (!pred_known) pred = found;
    Agg part;
    for (const core::Sample& s : raw) part.Add(s.timestamp_ms, s.value, &pred);
    total.Merge(part);
    pred_known = true;
    cur = raw_end;
  }
  if (fields == Fields::kCounts) {
    total.w.min = total.w.max = std::numeric_limits<double>::quiet_NaN();
  }
  return total.w;
}

core::Result<std::vector<WindowAggregate>> RocksDbStore::MinuteAggregates(
    const core::Labels& series, int64_t start_ms, int64_t end_ms) {
  WindowAggregate none;
  none.min = none.max = std::numeric_limits<double>::quiet_NaN();
  std::vector<WindowAggregate> out(
      static_cast<size_t>(std::max<int64_t>(0, (end_ms - start_ms) / kMinuteMs)), none);
  if (out.empty()) return out;
  uint64_t id = 0;
  int64_t m1_until = INT64_MIN;
  {
    std::shared_lock lock(mu_);
    auto s = LookupLocked(series);
    if (!s) return out;
    id = s->id;
    m1_until = m1_until_;
  }
  // Minutes before m1_until: their rows, in one scan (a minute without a row has no sample, as
  // Aggregate answers). Rows wholly before the tier's cutoff are expired, as ReadRollups says.
  const int64_t rows_end = std::clamp(m1_until, start_ms, end_ms);
  int64_t from = start_ms;
  const int64_t cutoff = m1_filter_.cutoff();
  if (cutoff != INT64_MIN) from = std::max(from, FloorTo(cutoff - kMinuteMs, kMinuteMs) + kMinuteMs);
  if (from < rows_end) {
    BoundedIterator it(db_.get(), cfs_[kRollup1m], TimeKey(id, from), TimeKey(id, rows_end));
    for (it->Seek(it.lower()); it->Valid(); it->Next()) {
      const int64_t t = TimeOfKey(it->key().data());
      StoredBucket b;
      if (!b.Decode(it->value().ToStringView(), t)) {
        return core::DataLossError("store: corrupt rollup of series {}", id);
      }
      if (t < start_ms || t >= rows_end) continue;
      WindowAggregate& w = out[static_cast<size_t>((t - start_ms) / kMinuteMs)];
      w = b.w;
      w.min = w.max = std::numeric_limits<double>::quiet_NaN();
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "store: read rollups"));
  }
  // The rest (where raw samples exist) minute by minute.
  for (int64_t m = std::max(rows_end, start_ms); m < end_ms; m += kMinuteMs) {
    ASSIGN_OR_RETURN(out[static_cast<size_t>((m - start_ms) / kMinuteMs)],
                     Aggregate(series, m, m + kMinuteMs, Fields::kCounts));
  }
  return out;
}

core::Result<std::vector<core::Labels>> RocksDbStore::Series(const std::vector<Matcher>& matchers,
                                                             int64_t mint_ms, int64_t maxt_ms) {
  std::vector<std::pair<core::Labels, Snapshot>> snaps;
  {
    std::shared_lock lock(mu_);
    for (const auto& s : MatchLocked(matchers)) {
      snaps.emplace_back(s->labels, SnapshotLocked(*s, mint_ms, maxt_ms));
    }
  }
  const int64_t to = maxt_ms == INT64_MAX ? INT64_MAX : maxt_ms + 1;
  std::vector<core::Labels> out;
  for (auto& [labels, snap] : snaps) {
    ASSIGN_OR_RETURN(bool has, HasSample(snap, mint_ms, to));
    if (has) out.push_back(std::move(labels));
  }
  return out;
}

core::Result<bool> RocksDbStore::HasSample(const Snapshot& snap, int64_t from, int64_t to) {
  if (from >= to) return false;
  if (!snap.head.empty()) return true;  // the snapshot holds only head samples in range
  const int64_t cutoff = raw_read_cutoff_.load(std::memory_order_relaxed);
  from = std::max(from, cutoff);
  auto in_chunk = [&](std::string_view bytes) {
    ChunkIterator ci(bytes);
    return ci.Seek(from) && ci.t() < to;
  };
  if (!snap.chunk.empty() && in_chunk(snap.chunk)) return true;
  BoundedIterator it(db_.get(), cfs_[kChunks], std::nullopt, TimeKey(snap.id, to));
  for (it->Seek(FirstChunkKey(snap.id, from)); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", snap.id);
    uint64_t max_t;
    std::memcpy(&max_t, v.data(), 8);
    if (static_cast<int64_t>(max_t) < from) continue;  // skipped without decoding
    if (in_chunk(std::string_view(v.data() + 8, v.size() - 8))) return true;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read chunks"));
  return false;
}

core::Result<std::vector<SeriesSamples>> RocksDbStore::Select(const std::vector<Matcher>& matchers,
                                                              int64_t mint_ms, int64_t maxt_ms) {
  std::vector<std::pair<core::Labels, Snapshot>> snaps;
  {
    std::shared_lock lock(mu_);
    for (const auto& s : MatchLocked(matchers)) {
      snaps.emplace_back(s->labels, SnapshotLocked(*s, mint_ms, maxt_ms));
    }
  }
  std::vector<SeriesSamples> out;
  const int64_t to = maxt_ms == INT64_MAX ? INT64_MAX : maxt_ms + 1;
  for (auto& [labels, snap] : snaps) {
    SeriesSamples ss;
    RETURN_IF_ERROR(ReadRaw(snap, mint_ms, to, raw_read_cutoff_.load(std::memory_order_relaxed),
                            &ss.samples, nullptr));
    if (ss.samples.empty()) continue;
    ss.labels = std::move(labels);
    out.push_back(std::move(ss));
  }
  return out;
}

core::Result<std::vector<std::vector<core::Sample>>> RocksDbStore::SamplesOf(
    const std::vector<uint64_t>& ids, int64_t mint_ms, int64_t maxt_ms) {
  std::vector<std::vector<core::Sample>> out(ids.size());
  const int64_t to = maxt_ms == INT64_MAX ? INT64_MAX : maxt_ms + 1;
  std::vector<std::pair<size_t, Snapshot>> slow;  // series with settled samples in range
  {
    std::shared_lock lock(mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = by_id_.find(ids[i]);
      if (it == by_id_.end()) continue;
      const MemSeries& s = *it->second;
      if (s.has_settled && s.settled_max_t >= mint_ms) {
        slow.emplace_back(i, SnapshotLocked(s, mint_ms, maxt_ms));
        continue;
      }
      // Nothing settled at or after mint: the range is all in the head (the fast path for reads
      // within the out-of-order window). Recent ranges are found by walking back from the newest
      // sample, which touches only the head's last block; longer ones by binary search.
      if (s.head.empty() || s.head.back().timestamp_ms < mint_ms) continue;
      auto lo = s.head.end();
      for (int steps = 0; lo != s.head.begin() && (lo - 1)->timestamp_ms >= mint_ms; --lo) {
        if (++steps > 16) {
          lo = std::lower_bound(s.head.begin(), lo, mint_ms, [](const core::Sample& x, int64_t t) {
            return x.timestamp_ms < t;
          });
          break;
        }
      }
      auto hi = std::upper_bound(lo, s.head.end(), maxt_ms, [](int64_t t, const core::Sample& x) {
        return t < x.timestamp_ms;
      });
      out[i].assign(lo, hi);
    }
  }
  const int64_t cutoff = raw_read_cutoff_.load(std::memory_order_relaxed);
  for (auto& [i, snap] : slow) {
    RETURN_IF_ERROR(ReadRaw(snap, mint_ms, to, cutoff, &out[i], nullptr));
  }
  return out;
}

}  // namespace nines::store::internal
