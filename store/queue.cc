#include "store/queue.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>

#include "core/log.h"
#include "store/encoding.h"
#include "store/rocks_iterator.h"
#include "store/rocks_status.h"

namespace nines::store {
namespace {

// Keys: "r" + big-endian seq for records, "n" for the next sequence number (so numbers keep
// growing across restarts even when the queue was empty).
constexpr char kRecordPrefix = 'r';
const std::string kNextSeqKey = "n";

std::string RecordKey(uint64_t seq) {
  std::string k(1, kRecordPrefix);
  enc::PutBE64(&k, seq);
  return k;
}

std::string EncodeSeq(uint64_t seq) {
  std::string v;
  enc::PutBE64(&v, seq);
  return v;
}

class RocksDbQueue final : public DurableQueue {
 public:
  explicit RocksDbQueue(DurableQueueOptions options) : options_(std::move(options)) {}
  ~RocksDbQueue() override {
    Close();
    db_.reset();
  }

  core::Status Open() {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) {
      return core::FailedPreconditionError("queue: cannot create {}: {}", options_.dir,
                                           ec.message());
    }
    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    db_options.compression = rocksdb::kSnappyCompression;
    db_options.max_background_jobs = 1;
    db_options.keep_log_file_num = 2;
    db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    rocksdb::DB* raw = nullptr;
    RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(db_options, options_.dir, &raw),
                              fmt::format("queue: open {}", options_.dir)));
    db_.reset(raw);
    write_options_.sync = options_.sync;

    std::string next;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kNextSeqKey, &next);
    if (s.ok() && next.size() == 8) {
      next_seq_ = enc::GetBE64(next.data());
    } else if (!s.IsNotFound()) {
      return s.ok() ? core::DataLossError("queue {}: bad sequence record", options_.dir)
                    : FromRocks(s, "queue: read sequence");
    }
    // Rebuild the in-memory index of (seq, size) from the records.
    BoundedIterator it(db_.get(), db_->DefaultColumnFamily(), std::string(1, kRecordPrefix),
                       std::string(1, kRecordPrefix + 1));
    for (it->Seek(it.lower()); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key();
      if (k.size() != 9 || k[0] != kRecordPrefix) break;
      uint64_t seq = enc::GetBE64(k.data() + 1);
      sizes_.push_back({seq, static_cast<int64_t>(it->value().size())});
      bytes_ += static_cast<int64_t>(it->value().size());
      if (seq >= next_seq_) next_seq_ = seq + 1;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "queue: recover"));
    if (next_seq_ == 0) next_seq_ = 1;
    RegisterMetrics();
    UpdateGauges();
    if (!sizes_.empty()) {
      LOG_INFO("queue {}: recovered {} records ({} bytes), seq {}..{}", options_.dir,
               sizes_.size(), bytes_, sizes_.front().seq, sizes_.back().seq);
    }
    return core::Status::Ok();
  }

  core::Result<uint64_t> Push(std::string_view data) override {
    if (data.empty()) return core::InvalidArgumentError("queue: empty record");
    const auto size = static_cast<int64_t>(data.size());
    if (size > options_.max_bytes) {
      return core::InvalidArgumentError("queue: record of {} bytes exceeds the budget of {}",
                                        data.size(), options_.max_bytes);
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return core::FailedPreconditionError("queue: closed");
    rocksdb::WriteBatch batch;
    // Drop the oldest records until this one fits the budget.
    size_t drop = 0;
    int64_t dropped_bytes = 0;
    while (drop < sizes_.size() && bytes_ - dropped_bytes + size > options_.max_bytes) {
      dropped_bytes += sizes_[drop].size;
      ++drop;
    }
    if (drop > 0) {
      batch.DeleteRange(RecordKey(sizes_.front().seq), RecordKey(sizes_[drop - 1].seq + 1))
          .PermitUncheckedError();
    }
    const uint64_t seq = next_seq_;
    batch.Put(RecordKey(seq), rocksdb::Slice(data.data(), data.size())).PermitUncheckedError();
    batch.Put(kNextSeqKey, EncodeSeq(seq + 1)).PermitUncheckedError();
    RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "queue: push"));
    if (drop > 0) {
      LOG_WARNING("queue {}: over its budget of {} bytes: dropped the {} oldest records ({} bytes, "
                  "seq {}..{})",
                  options_.dir, options_.max_bytes, drop, dropped_bytes, sizes_.front().seq,
                  sizes_[drop - 1].seq);
      sizes_.erase(sizes_.begin(), sizes_.begin() + static_cast<std::ptrdiff_t>(drop));
      bytes_ -= dropped_bytes;
      dropped_records_ += drop;
      dropped_bytes_ += dropped_bytes;
      if (m_dropped_records_ != nullptr) {
        m_dropped_records_->Increment(static_cast<double>(drop));
        m_dropped_bytes_->Increment(static_cast<double>(dropped_bytes));
      }
    }
    next_seq_ = seq + 1;
    sizes_.push_back({seq, size});
    bytes_ += size;
    if (m_pushed_ != nullptr) m_pushed_->Increment();
    UpdateGauges();
    cv_.notify_all();
    return seq;
  }

  core::Result<std::vector<QueueRecord>> Peek(size_t max_records, int64_t max_bytes) override {
    uint64_t first = 0;
    uint64_t last = 0;
    {
      // Choose the range under the lock; read it without (RocksDB reads are thread-safe, and a
      // concurrent drop only makes the iterator see fewer records).
      std::lock_guard<std::mutex> lock(mu_);
      if (sizes_.empty() || max_records == 0) return std::vector<QueueRecord>{};
      first = sizes_.front().seq;
      int64_t total = 0;
      size_t n = 0;
      while (n < sizes_.size() && n < max_records &&
             (n == 0 || total + sizes_[n].size <= max_bytes)) {
        total += sizes_[n].size;
        ++n;
      }
      last = sizes_[n - 1].seq;
    }
    std::vector<QueueRecord> out;
    BoundedIterator it(db_.get(), db_->DefaultColumnFamily(), RecordKey(first),
                       RecordKey(last + 1));
    for (it->Seek(it.lower()); it->Valid(); it->Next()) {
      out.push_back({enc::GetBE64(it->key().data() + 1), it->value().ToString()});
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "queue: peek"));
    return out;
  }

  core::Status Ack(uint64_t seq) override {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    int64_t acked_bytes = 0;
    while (n < sizes_.size() && sizes_[n].seq <= seq) acked_bytes += sizes_[n++].size;
    if (n == 0) return core::Status::Ok();
    rocksdb::WriteBatch batch;
    batch.DeleteRange(RecordKey(sizes_.front().seq), RecordKey(sizes_[n - 1].seq + 1))
        .PermitUncheckedError();
    RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "queue: ack"));
    sizes_.erase(sizes_.begin(), sizes_.begin() + static_cast<std::ptrdiff_t>(n));
    bytes_ -= acked_bytes;
    if (m_acked_ != nullptr) m_acked_->Increment(static_cast<double>(n));
    UpdateGauges();
    return core::Status::Ok();
  }

  bool WaitForRecords(core::Duration timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout.ToChrono(), [&] { return closed_ || !sizes_.empty(); });
    return !sizes_.empty();
  }

  QueueStats Stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    QueueStats s;
    s.records = sizes_.size();
    s.bytes = bytes_;
    s.first_seq = sizes_.empty() ? 0 : sizes_.front().seq;
    s.last_seq = next_seq_ - 1;
    s.dropped_records = dropped_records_;
    s.dropped_bytes = dropped_bytes_;
    return s;
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  struct Entry {
    uint64_t seq;
    int64_t size;
  };

  void RegisterMetrics() {
    if (options_.registry == nullptr) return;
    prometheus::Registry& r = *options_.registry;
    const std::map<std::string, std::string> labels = {{"queue", options_.name}};
    m_records_ = &prometheus::BuildGauge()
                      .Name("nines_queue_records")
                      .Help("Records waiting in the durable queue.")
                      .Register(r)
                      .Add(labels);
    m_bytes_ = &prometheus::BuildGauge()
                    .Name("nines_queue_bytes")
                    .Help("Bytes of records waiting in the durable queue.")
                    .Register(r)
                    .Add(labels);
    m_pushed_ = &prometheus::BuildCounter()
                     .Name("nines_queue_pushed_records_total")
                     .Help("Records written to the durable queue.")
                     .Register(r)
                     .Add(labels);
    m_acked_ = &prometheus::BuildCounter()
                    .Name("nines_queue_acked_records_total")
                    .Help("Records removed from the durable queue after delivery.")
                    .Register(r)
                    .Add(labels);
    m_dropped_records_ = &prometheus::BuildCounter()
                              .Name("nines_queue_dropped_records_total")
                              .Help("Oldest records dropped to keep the queue in its budget.")
                              .Register(r)
                              .Add(labels);
    m_dropped_bytes_ = &prometheus::BuildCounter()
                            .Name("nines_queue_dropped_bytes_total")
                            .Help("Bytes of records dropped to keep the queue in its budget.")
                            .Register(r)
                            .Add(labels);
  }

  void UpdateGauges() {
    if (m_records_ == nullptr) return;
    m_records_->Set(static_cast<double>(sizes_.size()));
    m_bytes_->Set(static_cast<double>(bytes_));
  }

  const DurableQueueOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  uint64_t next_seq_ = 0;
  std::deque<Entry> sizes_;  // queued records in order
  int64_t bytes_ = 0;
  uint64_t dropped_records_ = 0;
  int64_t dropped_bytes_ = 0;

  prometheus::Gauge* m_records_ = nullptr;
  prometheus::Gauge* m_bytes_ = nullptr;
  prometheus::Counter* m_pushed_ = nullptr;
  prometheus::Counter* m_acked_ = nullptr;
  prometheus::Counter* m_dropped_records_ = nullptr;
  prometheus::Counter* m_dropped_bytes_ = nullptr;
};

}  // namespace

core::Result<std::unique_ptr<DurableQueue>> OpenDurableQueue(DurableQueueOptions options) {
  if (options.dir.empty()) return core::InvalidArgumentError("queue: dir is required");
  if (options.max_bytes <= 0) return core::InvalidArgumentError("queue: max_bytes must be > 0");
  auto q = std::make_unique<RocksDbQueue>(std::move(options));
  RETURN_IF_ERROR(q->Open());
  return std::unique_ptr<DurableQueue>(std::move(q));
}

}  // namespace nines::store
