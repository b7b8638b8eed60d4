// Retention and deletion: the per-tier compaction filters and their cutoffs (measured from the
// store's clock), retention compactions, and DeleteSeries.
#include <algorithm>
#include <cstring>
#include <limits>

#include "store/rocks_status.h"
#include "store/rocksdb_store_impl.h"

namespace nines::store::internal {

bool RetentionFilter::Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value,
                             std::string* /*new_value*/, bool* /*value_changed*/) const {
  int64_t cutoff = cutoff_.load(std::memory_order_relaxed);
  if (cutoff == INT64_MIN || key.size() != 16) return false;
  int64_t last;
  if (bucket_ms_ == 0) {
    if (value.size() < 8) return false;
    uint64_t max_t;
    std::memcpy(&max_t, value.data(), 8);
    last = static_cast<int64_t>(max_t);
  } else {
    last = TimeOfKey(key.data()) + bucket_ms_ - 1;
  }
  return last < cutoff;
}

void RocksDbStore::UpdateCutoffsLocked() {
  const int64_t now = NowMs();
  const int64_t raw_cutoff = now - options_.raw_retention.millis();
  raw_read_cutoff_.store(raw_cutoff, std::memory_order_relaxed);
  // Chunks of hours whose minute rollups are not written yet stay.
  raw_filter_.SetCutoff(std::min(raw_cutoff, m1_until_));
  m1_filter_.SetCutoff(now - options_.rollup_1m_retention.millis());
  h1_filter_.SetCutoff(now - options_.rollup_1h_retention.millis());
}

core::Status RocksDbStore::EnforceRetention() {
  {
    std::unique_lock lock(mu_);
    // A settle the background thread has not run yet first (samples still in the head are not
    // subject to the raw cutoff).
    if (SettleDue()) RETURN_IF_ERROR(SettleLocked());
    UpdateCutoffsLocked();
  }
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (Cf cf : {kChunks, kRollup1m, kRollup1h}) {
    RETURN_IF_ERROR(FromRocks(db_->CompactRange(options, cfs_[cf], nullptr, nullptr),
                              "store: retention compaction"));
  }
  return core::Status::Ok();
}

core::Result<int64_t> RocksDbStore::DeleteSeries(const std::vector<Matcher>& matchers) {
  std::unique_lock lock(mu_);
  auto victims = MatchLocked(matchers);
  if (victims.empty()) return 0;
  rocksdb::WriteBatch batch;
  for (const auto& s : victims) {
    batch.Delete(cfs_[kSeries], SeriesKey(s->id));
    batch.Delete(cfs_[kHeadState], SeriesKey(s->id));
    for (Cf cf : {kChunks, kRollup1m, kRollup1h}) {
      batch.DeleteRange(cfs_[cf], TimeKey(s->id, std::numeric_limits<int64_t>::min()),
                        SeriesKey(s->id + 1) + std::string(8, '\0'));
    }
  }
  RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "store: delete series"));
  for (const auto& s : victims) {
    head_samples_ -= static_cast<int64_t>(s->head.size());
    s->deleted = true;
    UnindexLocked(s);
    deleted_.push_back(s);
  }
  if (metrics_.series) metrics_.series->Set(static_cast<double>(by_id_.size()));
  return static_cast<int64_t>(victims.size());
}

}  // namespace nines::store::internal
