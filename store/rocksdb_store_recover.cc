// Recovery at open: the series, the last checkpoint (head_state), then the head_log records
// committed after it, replayed into memory; and the repair of a directory whose time a sample
// from the future had moved.
#include <algorithm>

#include "store/rocks_iterator.h"
#include "store/rocks_status.h"
#include "store/rocksdb_store_impl.h"

namespace nines::store::internal {

core::Status RocksDbStore::Recover() {
  std::unique_lock lock(mu_);
  std::string next;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kMeta], "next_series_id", &next);
  if (s.ok() && next.size() == 8) next_series_id_ = enc::GetBE64(next.data());
  std::string m1;
  s = db_->Get(rocksdb::ReadOptions(), cfs_[kMeta], "m1_until", &m1);
  if (s.ok() && m1.size() == 8) m1_until_ = enc::FromSortableTime(enc::GetBE64(m1.data()));
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "store: read m1_until");

  RETURN_IF_ERROR(LoadSeriesLocked());
  RETURN_IF_ERROR(LoadHeadStatesLocked());
  RETURN_IF_ERROR(ReplayHeadLogLocked());
  RETURN_IF_ERROR(RecoverFromFutureLocked());
  UpdateCutoffsLocked();
  return SettleLocked();
}

core::Status RocksDbStore::LoadSeriesLocked() {
  BoundedIterator it(db_.get(), cfs_[kSeries], std::nullopt, std::nullopt);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return core::DataLossError("store: bad series key");
    auto series = std::make_shared<MemSeries>();
    series->id = enc::GetBE64(it->key().data());
    ASSIGN_OR_RETURN(series->labels, DecodeLabels(it->value().ToStringView()));
    next_series_id_ = std::max(next_series_id_, series->id + 1);
    IndexLocked(series);
  }
  return FromRocks(it->status(), "store: read series");
}

core::Status RocksDbStore::LoadHeadStatesLocked() {
  BoundedIterator it(db_.get(), cfs_[kHeadState], std::nullopt, std::nullopt);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto found = by_id_.find(enc::GetBE64(it->key().data()));
    if (found == by_id_.end()) continue;
    RETURN_IF_ERROR(found->second->DecodeState(it->value().ToStringView()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read head state"));
  for (auto& [id, series] : by_id_) head_samples_ += static_cast<int64_t>(series->head.size());
  return core::Status::Ok();
}

core::Status RocksDbStore::ReplayHeadLogLocked() {
  // Replay what was committed after the checkpoint. Every logged sample had been accepted, so
  // none is rejected for age here; settled ones are already in chunks.
  int64_t replayed = 0;
  std::vector<HeadLogSample> samples;
  BoundedIterator it(db_.get(), cfs_[kHeadLog], std::nullopt, std::nullopt);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    next_seq_ = enc::GetBE64(it->key().data()) + 1;
    samples.clear();
    RETURN_IF_ERROR(DecodeHeadLogRecord(it->value().ToStringView(), &samples));
    for (const HeadLogSample& x : samples) {
      auto found = by_id_.find(x.series_id);
      if (found == by_id_.end()) continue;  // deleted since
      MemSeries& series = *found->second;
      if (series.has_settled && x.t <= series.settled_max_t) continue;
      size_t before = series.head.size();
      series.HeadInsert(x.t, x.v);
      head_samples_ += static_cast<int64_t>(series.head.size() - before);
      series.dirty = true;
      ++replayed;
    }
    log_bytes_since_checkpoint_ += it->value().size();
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "store: read head log"));
  if (replayed > 0) LOG_INFO("store: replayed {} samples from the head log", replayed);
  return core::Status::Ok();
}

core::Status RocksDbStore::RecoverFromFutureLocked() {
  // Older nines measured time from the newest sample, so a sample stamped ahead of the clock
  // moved everything: the settle point, retention, and how far minute rollups were
  // materialized. Such a directory must open and work at the clock's time. The samples ahead
  // stay (they are data; DeleteSeries removes them) but no longer move anything; only the
  // minute-rollup boundary has to come back.
  const int64_t now = NowMs();
  const int64_t future_limit = now + options_.future_tolerance.millis();
  int64_t ahead = 0;
  const MemSeries* newest = nullptr;
  for (const MemSeries* series : live_) {
    const int64_t t = series->MaxTime();
    if (t <= future_limit) continue;
    ++ahead;
    if (newest == nullptr || t > newest->MaxTime()) newest = series;
  }
  if (ahead > 0) {
    LOG_WARNING(
        "store {}: {} series hold samples more than {} ahead of the clock (now {}), e.g. {} at "
        "{}; they no longer move the store's time, but a series whose settled samples are ahead "
        "refuses new samples as too_old until it is deleted "
        "(POST /api/v1/admin/tsdb/delete_series?match[]=...)",
        options_.dir, ahead, options_.future_tolerance.ToString(), FormatTimestampMs(now),
        newest->labels.ToString(), FormatTimestampMs(newest->MaxTime()));
  }
  // Minute rollups are final only for hours no sample can enter any more: before the window.
  // A boundary past that was moved by a sample from the future; the rows past the new boundary
  // are written again from the chunks when their hours leave the raw tier, and until then
  // reads take those hours from the chunks, which compaction now keeps.
  const int64_t final_until = FloorTo(now - options_.out_of_order_window.millis(), kHourMs);
  if (m1_until_ > final_until) {
    LOG_WARNING("store {}: minute rollups were materialized up to {}, ahead of the clock (now "
                "{}); moving the boundary back to {}",
                options_.dir, FormatTimestampMs(m1_until_), FormatTimestampMs(now),
                FormatTimestampMs(final_until));
    m1_until_ = final_until;
    std::string v;
    enc::PutBE64(&v, enc::SortableTime(m1_until_));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocks(db_->Put(wo, cfs_[kMeta], "m1_until", v), "store: m1_until"));
  }
  return core::Status::Ok();
}

}  // namespace nines::store::internal
