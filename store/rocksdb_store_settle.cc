// Settling: samples that left the out-of-order window move from the head into chunks and hour
// rollups; hours about to leave the raw tier get their minute rollups from the chunks; a
// checkpoint writes the changed series' state and drops the head_log it covers.
#include <algorithm>
#include <cstring>

#include "store/rocks_iterator.h"
#include "store/rocks_status.h"
#include "store/rocksdb_store_impl.h"

namespace nines::store::internal {

core::Status RocksDbStore::SettleLocked() {
  const int64_t now = NowMs();
  last_settle_ = FloorTo(now, kSettleEveryMs);
  // Never backwards (the clock may step back): what settled stays settled.
  const int64_t point = std::max(settled_until_, now - options_.out_of_order_window.millis());
  settled_until_ = point;
  rocksdb::WriteBatch& batch = Reuse(settle_batch_);
  for (MemSeries* s : live_) {
    if (s->head_front_t < point) SettleSeries(*s, point, &batch);
  }
  UpdateCutoffsLocked();
  if (batch.Count() > 0) {
    // Not synced: everything written here is rebuilt from head_log if lost.
    RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "store: settle"));
  }
  return MaterializeMinutesLocked();
}

void RocksDbStore::SettleSeries(MemSeries& s, int64_t point, rocksdb::WriteBatch* batch) {
  const int64_t span = options_.chunk_max_span.millis();
  size_t n = 0;
  for (; n < s.head.size() && s.head[n].timestamp_ms < point; ++n) {
    const core::Sample& x = s.head[n];
    if (s.chunk.num_samples() > 0 &&
        (s.chunk.num_samples() >= options_.chunk_max_samples ||
         x.timestamp_ms - s.chunk.min_time() >= span)) {
      CloseChunk(s, batch);
    }
    s.chunk.Append(x.timestamp_ms, x.value).IgnoreError();  // strictly increasing by design
    FoldIntoBucket(s.id, x, kRollup1h, &s.hour, &s.totals, &s.settled_pred, batch);
    s.has_settled = true;
    s.settled_max_t = x.timestamp_ms;
  }
  s.HeadEraseFront(n);
  head_samples_ -= static_cast<int64_t>(n);
  s.dirty = true;
}

void RocksDbStore::FoldIntoBucket(uint64_t id, const core::Sample& x, Cf cf, Bucket* b,
                                  Totals* totals, Pred* pred, rocksdb::WriteBatch* batch) {
  const int64_t start = FloorTo(x.timestamp_ms, cf == kRollup1m ? kMinuteMs : kHourMs);
  if (b->agg.w.count > 0 && b->start != start) {
    EmitBucket(id, *b, cf, *totals, *pred, batch);
    b->agg = Agg();
  }
  if (b->agg.w.count == 0) b->before = *totals;
  b->start = start;
  Pred p = *pred;
  b->agg.Add(x.timestamp_ms, x.value, &p);
  totals->Add(x.value, pred);
}

void RocksDbStore::EmitBucket(uint64_t id, const Bucket& b, Cf cf, const Totals& after,
                              const Pred& pred_after, rocksdb::WriteBatch* batch) {
  if (b.agg.w.count == 0) return;
  batch->Put(cfs_[cf], TimeKey(id, b.start),
             StoredBucket::Encode(b.agg, b.start, b.before, after, pred_after));
}

void RocksDbStore::CloseChunk(MemSeries& s, rocksdb::WriteBatch* batch) {
  std::string value;
  enc::PutFixed64(&value, static_cast<uint64_t>(s.chunk.max_time()));
  value += s.chunk.bytes();
  batch->Put(cfs_[kChunks], TimeKey(s.id, s.chunk.min_time()), value);
  s.chunk = ChunkEncoder();
}

core::Status RocksDbStore::MaterializeMinutesLocked() {
  if (settled_until_ == INT64_MIN) return core::Status::Ok();
  // Every hour that is wholly settled and ends at most an hour after the raw cutoff (so the
  // hour holding the cutoff is done before compaction may drop any of it).
  const int64_t raw_cutoff = NowMs() - options_.raw_retention.millis();
  const int64_t settled = settled_until_;
  const int64_t target =
      std::min(FloorTo(raw_cutoff, kHourMs) + kHourMs, FloorTo(settled, kHourMs));
  if (target <= m1_until_) return core::Status::Ok();
  rocksdb::WriteBatch batch;
  for (auto& [id, s] : by_id_) RETURN_IF_ERROR(MaterializeSeries(*s, m1_until_, target, &batch));
  std::string v;
  enc::PutBE64(&v, enc::SortableTime(target));
  batch.Put(cfs_[kMeta], "m1_until", v);
  // Synced: once m1_until_ moves, compaction may drop the chunks these rows were made from.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "store: minute rollups"));
  m1_until_ = target;
  UpdateCutoffsLocked();
  return core::Status::Ok();
}

core::Status RocksDbStore::MaterializeSeries(const MemSeries& s, int64_t from, int64_t to,
                                             rocksdb::WriteBatch* batch) {
  std::vector<core::Sample> samples;
  RETURN_IF_ERROR(SettledSamples(s, from, to, &samples));
  Totals totals;
  Pred pred;
  bool primed = false;
  Bucket minute;
  for (const core::Sample& x : samples) {
    if (!primed && std::bit_cast<uint64_t>(x.value) != kStaleNaNBits) {
      primed = true;
      RETURN_IF_ERROR(TotalsAtHour(s, FloorTo(x.timestamp_ms, kHourMs), &totals, &pred));
    }
    FoldIntoBucket(s.id, x, kRollup1m, &minute, &totals, &pred, batch);
  }
  EmitBucket(s.id, minute, kRollup1m, totals, pred, batch);
  return core::Status::Ok();
}

core::Status RocksDbStore::SettledSamples(const MemSeries& s, int64_t from, int64_t to,
                                          std::vector<core::Sample>* out) {
  auto take = [&](std::string_view bytes) {
    ChunkIterator ci(bytes);
    if (!ci.Seek(from)) return ci.status();
    do {
      if (ci.t() >= to) break;
      out->push_back({ci.t(), ci.v()});
    } while (ci.Next());
    return ci.status();
  };
  // The closed chunks (written by now), then the open one.
  BoundedIterator it(db_.get(), cfs_[kChunks], std::nullopt, TimeKey(s.id, to));
  for (it->Seek(FirstChunkKey(s.id, from)); it->Valid(); it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 8) return core::DataLossError("store: corrupt chunk of series {}", s.id);
    uint64_t max_t;
    std::memcpy(&max_t, v.data(), 8);
    if (static_cast<int64_t>(max_t) < from) continue;
    RETURN_IF_ERROR(take(std::string_view(v.data() + 8, v.size() - 8)));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read chunks"));
  if (s.chunk.num_samples() > 0 && s.chunk.max_time() >= from && s.chunk.min_time() < to) {
    RETURN_IF_ERROR(take(s.chunk.bytes()));
  }
  return core::Status::Ok();
}

core::Status RocksDbStore::TotalsAtHour(const MemSeries& s, int64_t hour, Totals* totals,
                                        Pred* pred) {
  // The running totals before the first counted sample are those the hour rollups hold: the
  // totals before that sample's hour (nothing counted precedes it there) and the predecessor
  // after the hour before.
  if (s.hour.agg.w.count > 0 && s.hour.start == hour) {
    *totals = s.hour.before;
  } else {
    std::string value;
    rocksdb::Status st =
        db_->Get(rocksdb::ReadOptions(), cfs_[kRollup1h], TimeKey(s.id, hour), &value);
    StoredBucket b;
    if (st.ok() && b.Decode(value, hour)) {
      *totals = b.before;
    } else if (!st.IsNotFound()) {
      RETURN_IF_ERROR(FromRocks(st, "store: read rollups"));
      return core::DataLossError("store: corrupt rollup of series {}", s.id);
    } else {
      // Expired from the hour tier (its retention is shorter than raw's): minute runs
      // still difference totals of one consistent sequence.
      LOG_WARNING("store: no hour rollup for series {} at {}; minute totals restart", s.id, hour);
    }
  }
  BoundedIterator prev(db_.get(), cfs_[kRollup1h], std::nullopt, TimeKey(s.id, hour));
  prev->SeekForPrev(TimeKey(s.id, hour - 1));
  if (prev->Valid() && prev->key().size() == 16 && enc::GetBE64(prev->key().data()) == s.id) {
    StoredBucket b;
    if (!b.Decode(prev->value().ToStringView(), TimeOfKey(prev->key().data()))) {
      return core::DataLossError("store: corrupt rollup of series {}", s.id);
    }
    *pred = b.pred_after;
  }
  return FromRocks(prev->status(), "store: read rollups");
}

core::Status RocksDbStore::CheckpointLocked() {
  rocksdb::WriteBatch batch;
  for (auto& [id, s] : by_id_) {
    if (s->dirty) batch.Put(cfs_[kHeadState], SeriesKey(id), s->EncodeState());
  }
  std::string begin, end;
  enc::PutBE64(&begin, 0);
  enc::PutBE64(&end, next_seq_);
  batch.DeleteRange(cfs_[kHeadLog], begin, end);
  rocksdb::WriteOptions wo;
  wo.sync = true;  // the log records it deletes must not outlive the state that replaces them
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "store: checkpoint"));
  for (auto& [id, s] : by_id_) s->dirty = false;
  log_bytes_since_checkpoint_ = 0;
  last_checkpoint_bytes_ = batch.GetDataSize();
  if (metrics_.checkpoints) metrics_.checkpoints->Increment();
  return core::Status::Ok();
}

}  // namespace nines::store::internal
