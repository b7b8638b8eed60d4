// RocksDbStore's life: open (column families, the format marker, recovery), close, flush,
// metrics and the background thread; and OpenStore(). The design and the file map are in
// rocksdb_store_impl.h, the on-disk layout in keys.h.
#include <algorithm>
#include <utility>

#include "store/rocks_status.h"
#include "store/rocksdb_store_impl.h"

namespace nines::store {
namespace internal {

void Metrics::Register(prometheus::Registry& r) {
  series = &prometheus::BuildGauge().Name("nines_store_series")
                .Help("Series in the store.").Register(r).Add({});
  head_samples = &prometheus::BuildGauge().Name("nines_store_head_samples")
                      .Help("Samples still inside the out-of-order window, held in memory.")
                      .Register(r).Add({});
  appended = &prometheus::BuildCounter().Name("nines_store_samples_appended_total")
                  .Help("Samples committed to the store.").Register(r).Add({});
  auto& rejected = prometheus::BuildCounter().Name("nines_store_samples_rejected_total")
                       .Help("Samples not stored, by reason.").Register(r);
  rejected_duplicate = &rejected.Add({{"reason", "duplicate"}});
  rejected_too_old = &rejected.Add({{"reason", "too_old"}});
  rejected_too_far_in_future = &rejected.Add({{"reason", "too_far_in_future"}});
  checkpoints = &prometheus::BuildCounter().Name("nines_store_checkpoints_total")
                     .Help("Head checkpoints written.").Register(r).Add({});
  compactions = &prometheus::BuildCounter().Name("nines_store_compactions_total")
                     .Help("RocksDB compactions completed.").Register(r).Add({});
  wal_bytes = &prometheus::BuildGauge().Name("nines_store_wal_bytes")
                   .Help("Size of RocksDB's write-ahead log files.").Register(r).Add({});
  auto& disk = prometheus::BuildGauge().Name("nines_store_disk_bytes")
                   .Help("Bytes on disk (SST files) by tier.").Register(r);
  for (int cf = 0; cf < kNumCfs; ++cf) bytes[cf] = &disk.Add({{"tier", kCfNames[cf]}});
}

core::Status RocksDbStore::Open() {
  if (options_.dir.empty()) return core::InvalidArgumentError("store: no directory given");
  if (options_.registry) {
    metrics_.Register(*options_.registry);
  }
  compaction_counter_ = std::make_shared<CompactionCounter>(metrics_.compactions);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.listeners.push_back(compaction_counter_);
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 3;
  // Bound the memtables of all column families together; without it each could grow to 64 MiB.
  db_options.db_write_buffer_size = 64 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int cf = 0; cf < kNumCfs; ++cf) {
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.write_buffer_size = 16 << 20;
    switch (cf) {
      case kChunks:
        cf_options.compression = rocksdb::kNoCompression;  // Gorilla chunks are compressed
        cf_options.compaction_filter = &raw_filter_;
        break;
      case kRollup1m:
        cf_options.compaction_filter = &m1_filter_;
        cf_options.compression = rocksdb::kZSTD;  // rollups are repetitive: zstd halves them
        break;
      case kRollup1h:
        cf_options.compaction_filter = &h1_filter_;
        cf_options.compression = rocksdb::kZSTD;
        break;
      case kHeadLog:
        cf_options.compression = rocksdb::kNoCompression;
        break;
      default:
        break;
    }
    descriptors.emplace_back(kCfNames[cf], cf_options);
  }
  rocksdb::DB* raw_db = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::Open(db_options, options_.dir, descriptors, &cfs_, &raw_db),
      fmt::format("store: open {}", options_.dir)));
  db_.reset(raw_db);
  write_options_.sync = options_.sync;

  std::string format;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kMeta], "format", &format);
  if (s.IsNotFound()) {
    std::string v;
    enc::PutBE64(&v, kFormatVersion);
    RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, cfs_[kMeta], "format", v), "store"));
  } else if (!s.ok()) {
    return FromRocks(s, "store: read format");
  } else if (format.size() != 8) {
    return core::DataLossError("store {}: corrupt format marker", options_.dir);
  } else if (uint64_t found = enc::GetBE64(format.data()); found != kFormatVersion) {
    return core::FailedPreconditionError(
        "store {}: on-disk format {} is not the format {} this nines reads{}; move the directory "
        "away (or delete it) and let nines create a new one",
        options_.dir, found, kFormatVersion,
        found == 1 ? " (format 1 kept a rollup row per minute; format 2 derives minutes from "
                     "the raw chunks)"
                   : "");
  }
  RETURN_IF_ERROR(Recover());
  RefreshMetrics();
  background_ = std::thread([this] { BackgroundLoop(); });
  return core::Status::Ok();
}

void RocksDbStore::Close() {
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (background_.joinable()) background_.join();
  if (db_) {
    {
      std::unique_lock lock(mu_);
      core::Status s = CheckpointLocked();
      if (!s.ok()) LOG_WARNING("store: final checkpoint: {}", s.ToString());
    }
    for (auto* h : cfs_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    cfs_.clear();
    db_->Close().PermitUncheckedError();
    db_.reset();
  }
}

core::Status RocksDbStore::Flush() {
  {
    std::unique_lock lock(mu_);
    if (SettleDue()) RETURN_IF_ERROR(SettleLocked());
    RETURN_IF_ERROR(CheckpointLocked());
  }
  RETURN_IF_ERROR(FromRocks(db_->Flush(rocksdb::FlushOptions(), cfs_), "store: flush"));
  RefreshMetrics();
  return core::Status::Ok();
}

void RocksDbStore::RefreshMetrics() {
  if (metrics_.series == nullptr) return;
  {
    std::shared_lock lock(mu_);
    metrics_.series->Set(static_cast<double>(by_id_.size()));
    metrics_.head_samples->Set(static_cast<double>(head_samples_));
  }
  for (int cf = 0; cf < kNumCfs; ++cf) {
    uint64_t bytes = 0;
    if (db_->GetIntProperty(cfs_[cf], "rocksdb.total-sst-files-size", &bytes)) {
      metrics_.bytes[cf]->Set(static_cast<double>(bytes));
    }
  }
  rocksdb::VectorLogPtr wal_files;
  if (db_->GetSortedWalFiles(wal_files).ok()) {
    uint64_t total = 0;
    for (const auto& f : wal_files) total += f->SizeFileBytes();
    metrics_.wal_bytes->Set(static_cast<double>(total));
  }
}

void RocksDbStore::BackgroundLoop() {
  core::Duration last_checkpoint = clock_.Monotonic();
  core::Duration last_retention = clock_.Monotonic();
  std::unique_lock<std::mutex> lock(bg_mu_);
  while (!stopping_) {
    bg_cv_.wait_for(lock, std::chrono::seconds(5),
                    [this] { return stopping_ || checkpoint_wanted_ || settle_wanted_; });
    if (stopping_) break;
    const bool wanted = std::exchange(checkpoint_wanted_, false);
    settle_wanted_ = false;
    lock.unlock();
    {
      // Due when a commit found it so, or when the clock moved on without commits.
      std::unique_lock store_lock(mu_);
      if (SettleDue()) {
        core::Status s = SettleLocked();
        if (!s.ok()) LOG_WARNING("store: settle: {}", s.ToString());
      }
    }
    core::Duration now = clock_.Monotonic();
    const bool periodic = now - last_checkpoint >= core::Duration::Minutes(5);
    if (wanted || periodic) {
      std::unique_lock store_lock(mu_);
      if (log_bytes_since_checkpoint_ > 0 && CheckpointDue(periodic)) {
        core::Status s = CheckpointLocked();
        if (!s.ok()) LOG_WARNING("store: checkpoint: {}", s.ToString());
      }
      if (periodic) last_checkpoint = now;
    }
    if (now - last_retention >= core::Duration::Hours(1)) {
      core::Status s = EnforceRetention();
      if (!s.ok()) LOG_WARNING("store: retention: {}", s.ToString());
      last_retention = now;
    }
    RefreshMetrics();
    lock.lock();
  }
}

}  // namespace internal

core::Result<std::unique_ptr<Store>> OpenStore(StoreOptions options, core::Clock& clock) {
  auto store = std::make_unique<internal::RocksDbStore>(std::move(options), clock);
  RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nines::store
