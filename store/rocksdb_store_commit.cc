// The write path of RocksDbStore: its appender (RocksAppender) and CommitBatch, which decides
// per sample, writes the batch to head_log (with any new series) in one RocksDB write, and only
// then applies it to memory.
#include <algorithm>
#include <cstring>

#include "store/rocks_status.h"
#include "store/rocksdb_store_impl.h"

namespace nines::store {

uint64_t HashLabelViews(std::span<const LabelView> labels) {
  // As core::Labels hashes: XXH64 over every "name\xffvalue\xff". Written with memcpy into
  // a buffer sized once: this runs for every series of every remote-write request.
  size_t n = 0;
  for (const LabelView& l : labels) n += l.name.size() + l.value.size() + 2;
  thread_local std::string buf;
  if (buf.size() < n) buf.resize(std::max<size_t>(n, 1024));
  char* p = buf.data();
  auto put = [&p](std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());  // an empty view may be null
    p += bytes.size();
    *p++ = '\xff';
  };
  for (const LabelView& l : labels) {
    put(l.name);
    put(l.value);
  }
  return core::Hash64(std::string_view(buf.data(), n));
}

namespace internal {
namespace {

class RocksAppender final : public SeriesAppender {
 public:
  explicit RocksAppender(RocksDbStore* store) : store_(store) {}

  bool AppendKnownSeries(std::span<const LabelView> labels, uint64_t hash,
                         std::span<const core::Sample> samples) override {
    MemSeries* series = Known(labels, hash);
    if (series == nullptr || !series->utf8_values) return false;
    Stage(series, -1, samples);
    return true;
  }

  core::Status AppendSeries(std::span<const LabelView> labels, uint64_t hash,
                            std::span<const core::Sample> samples) override {
    if (AppendKnownSeries(labels, hash, samples)) return core::Status::Ok();
    {
      // A new series: rare, so build its Labels (validating them once more).
      std::vector<core::Label> pairs;
      pairs.reserve(labels.size());
      for (const LabelView& l : labels) {
        pairs.push_back({std::string(l.name), std::string(l.value)});
      }
      ASSIGN_OR_RETURN(core::Labels built, core::Labels::FromSortedPairs(std::move(pairs)));
      if (built.MetricName().empty()) {
        return core::InvalidArgumentError("series {} has no metric name", built.ToString());
      }
      Stage(nullptr, Pending(built), samples);
    }
    return core::Status::Ok();
  }

  core::Status Append(const core::Labels& series, int64_t timestamp_ms, double value) override {
    RocksDbStore::Staged st;
    st.t = timestamp_ms;
    st.v = value;
    // Consecutive samples of one series are common (remote write groups them by series).
    if (last_ != nullptr && series.Hash() == last_hash_ &&
        EncodedLabelsEqual(series, last_->encoded_labels)) {
      st.series = last_;
    } else if (MemSeries* found = store_->Lookup(series)) {
      // Stored series have a metric name, so these labels have one too.
      last_ = found;
      last_hash_ = series.Hash();
      st.series = found;
    } else {
      if (series.MetricName().empty()) {
        return core::InvalidArgumentError("series {} has no metric name", series.ToString());
      }
      st.pending = Pending(series);
    }
    staged_.push_back(st);
    return core::Status::Ok();
  }

  core::Status AppendWithRef(const core::Labels& series, int64_t timestamp_ms, double value,
                             AppendRef* ref) override {
    if (!ref->known()) {
      RETURN_IF_ERROR(Append(series, timestamp_ms, value));
      // A MemSeries lives as long as the store (see Lookup), so its address names it.
      MemSeries* found = staged_.back().series;
      if (found != nullptr) *ref = MakeRef(reinterpret_cast<uintptr_t>(found));
      return core::Status::Ok();
    }
    RocksDbStore::Staged st;
    st.series = reinterpret_cast<MemSeries*>(static_cast<uintptr_t>(RefValue(*ref)));
    st.t = timestamp_ms;
    st.v = value;
    staged_.push_back(st);
    return core::Status::Ok();
  }

  core::Result<CommitResult> Commit() override {
    auto result = store_->CommitBatch(staged_, pending_);
    Rollback();
    return result;
  }

  void Rollback() override {
    staged_.clear();
    pending_.clear();
    pending_index_.clear();
  }

 private:
  MemSeries* Known(std::span<const LabelView> labels, uint64_t hash) {
    if (last_ != nullptr && hash == last_hash_ &&
        EncodedLabelsEqual(labels, last_->encoded_labels)) {
      return last_;
    }
    MemSeries* found = store_->Lookup(labels, hash);
    if (found != nullptr) {
      last_ = found;
      last_hash_ = hash;
    }
    return found;
  }
  void Stage(MemSeries* series, int pending, std::span<const core::Sample> samples) {
    RocksDbStore::Staged st;
    st.series = series;
    st.pending = pending;
    for (const core::Sample& x : samples) {
      st.t = x.timestamp_ms;
      st.v = x.value;
      staged_.push_back(st);
    }
  }
  // The index in pending_ of the series `labels`, added if new.
  int Pending(const core::Labels& labels) {
    auto& candidates = pending_index_[labels.Hash()];
    for (int idx : candidates) {
      if (pending_[static_cast<size_t>(idx)] == labels) return idx;
    }
    const int idx = static_cast<int>(pending_.size());
    pending_.push_back(labels);
    candidates.push_back(idx);
    return idx;
  }

  RocksDbStore* store_;
  std::vector<RocksDbStore::Staged> staged_;
  std::vector<core::Labels> pending_;
  std::unordered_map<uint64_t, std::vector<int>> pending_index_;
  MemSeries* last_ = nullptr;  // the series of the last Append that found one in the store
  uint64_t last_hash_ = 0;
};

}  // namespace

std::unique_ptr<Appender> RocksDbStore::NewAppender() {
  return std::make_unique<RocksAppender>(this);
}

core::Result<CommitResult> RocksDbStore::CommitBatch(std::vector<Staged>& staged,
                                                     std::vector<core::Labels>& pending_series) {
  CommitResult result;
  if (staged.empty()) return result;
  std::unique_lock lock(mu_);
  rocksdb::WriteBatch& batch = Reuse(commit_batch_);
  if (accepted_.capacity() > (1u << 20)) accepted_ = {};  // what a rare huge batch took
  if (log_samples_.capacity() > (1u << 20)) log_samples_ = {};
  if (record_.capacity() > (16u << 20)) record_ = {};

  Decision decision = DecideLocked(staged, pending_series, batch, &result);
  LogAcceptedLocked(batch);
  if (batch.Count() > 0) {
    RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch), "store: commit"));
  }
  // Durable: now apply to memory.
  ApplyAcceptedLocked(decision, &result);
  CountCommitLocked(result);
  RequestBackgroundWorkLocked();
  lock.unlock();
  if (result.refused() > 0) LogRefusals(result);
  return result;
}

RocksDbStore::Decision RocksDbStore::DecideLocked(std::vector<Staged>& staged,
                                                  std::vector<core::Labels>& pending_series,
                                                  rocksdb::WriteBatch& batch,
                                                  CommitResult* result) {
  // Resolve series created since Append. Series that do not exist yet are created when their
  // first sample is accepted, so that refused samples leave no empty series behind.
  Decision d;
  d.next_id = next_series_id_;
  d.resolved.resize(pending_series.size());
  for (size_t i = 0; i < pending_series.size(); ++i) {
    d.resolved[i] = LookupLocked(pending_series[i]);
  }

  // Decide per sample; within the batch, the first of a repeated (series, t) wins. The common
  // case is every series' samples arriving in time order after what it holds: then nothing can
  // be a duplicate and nothing needs sorting. One sample that is not sends the batch through
  // sort and unique.
  const int64_t now = NowMs();
  const int64_t threshold = now - options_.out_of_order_window.millis();
  const int64_t future_limit = now + options_.future_tolerance.millis();
  result->min_time_ms = threshold;
  result->max_time_ms = future_limit;
  const uint64_t epoch = ++commit_epoch_;
  std::vector<Accepted>& accepted = accepted_;
  accepted.clear();
  accepted.reserve(staged.size());
  bool in_order = true;
  auto labels_of = [&](const Staged& st) -> const core::Labels& {
    return st.series ? st.series->labels : pending_series[static_cast<size_t>(st.pending)];
  };
  for (Staged& st : staged) {
    MemSeries* s = SeriesOfLocked(st, d);
    if (st.t > future_limit) {
      if (result->too_far_in_future++ == 0) result->first_too_far_in_future = {labels_of(st), st.t};
      continue;
    }
    if (st.t < threshold || (s != nullptr && s->has_settled && st.t <= s->settled_max_t)) {
      if (result->too_old++ == 0) result->first_too_old = {labels_of(st), st.t};
      continue;
    }
    if (s == nullptr) s = CreateLocked(labels_of(st), st, d, batch);
    if (s->batch_epoch != epoch) {
      s->batch_epoch = epoch;
      s->batch_last_t = s->head.empty() ? INT64_MIN : s->head.back().timestamp_ms;
    }
    if (st.t > s->batch_last_t) {
      s->batch_last_t = st.t;
      accepted.push_back({s, st.t, st.v});
      continue;
    }
    if (s->HeadHas(st.t)) {
      ++result->duplicates;
      continue;
    }
    in_order = false;
    accepted.push_back({s, st.t, st.v});
  }
  if (!in_order) {
    std::stable_sort(accepted.begin(), accepted.end(), [](const Accepted& a, const Accepted& b) {
      return a.series != b.series ? a.series < b.series : a.t < b.t;
    });
    auto dup = std::unique(accepted.begin(), accepted.end(),
                           [](const Accepted& a, const Accepted& b) {
                             return a.series == b.series && a.t == b.t;
                           });
    result->duplicates += accepted.end() - dup;
    accepted.erase(dup, accepted.end());
  }
  if (!d.created.empty()) {
    std::string v;
    enc::PutBE64(&v, d.next_id);
    batch.Put(cfs_[kMeta], "next_series_id", v);
  }
  return d;
}

MemSeries* RocksDbStore::SeriesOfLocked(const Staged& st, const Decision& d) const {
  MemSeries* s = st.series ? st.series : d.resolved[static_cast<size_t>(st.pending)];
  if (s != nullptr && s->deleted) {  // deleted after Append resolved it: a new series
    MemSeries* again = LookupLocked(s->labels);
    for (const auto& [gone, instead] : d.recreated) {
      if (gone == s) again = instead;
    }
    s = again;
  }
  return s;
}

MemSeries* RocksDbStore::CreateLocked(const core::Labels& labels, const Staged& st, Decision& d,
                                      rocksdb::WriteBatch& batch) {
  auto s = std::make_shared<MemSeries>();
  s->id = d.next_id++;
  s->labels = labels;
  s->encoded_labels = keys_.Add(EncodeLabels(s->labels));
  batch.Put(cfs_[kSeries], SeriesKey(s->id), s->encoded_labels);
  d.created.push_back(s);
  if (st.series != nullptr) {
    d.recreated.emplace_back(st.series, s.get());
  } else {
    d.resolved[static_cast<size_t>(st.pending)] = s.get();
  }
  return s.get();
}

void RocksDbStore::LogAcceptedLocked(rocksdb::WriteBatch& batch) {
  record_.clear();
  if (accepted_.empty()) return;
  log_samples_.clear();
  log_samples_.reserve(accepted_.size());
  for (const Accepted& a : accepted_) log_samples_.push_back({a.series->id, a.t, a.v});
  EncodeHeadLogRecord(log_samples_, &record_);
  std::string key;
  enc::PutBE64(&key, next_seq_);
  batch.Put(cfs_[kHeadLog], key, record_);
}

void RocksDbStore::ApplyAcceptedLocked(Decision& decision, CommitResult* result) {
  next_series_id_ = decision.next_id;
  for (auto& s : decision.created) IndexLocked(s);
  if (!accepted_.empty()) ++next_seq_;
  int64_t batch_min_t = INT64_MAX;
  for (const Accepted& a : accepted_) {
    a.series->HeadInsert(a.t, a.v);
    a.series->dirty = true;
    batch_min_t = std::min(batch_min_t, a.t);
  }
  if (!accepted_.empty()) changes_.NoteCommit(batch_min_t);
  result->appended = static_cast<int64_t>(accepted_.size());
  head_samples_ += result->appended;
  log_bytes_since_checkpoint_ += record_.size();
}

void RocksDbStore::CountCommitLocked(const CommitResult& result) {
  if (metrics_.appended == nullptr) return;
  metrics_.series->Set(static_cast<double>(by_id_.size()));
  metrics_.head_samples->Set(static_cast<double>(head_samples_));
  metrics_.appended->Increment(static_cast<double>(result.appended));
  if (result.duplicates > 0) {
    metrics_.rejected_duplicate->Increment(static_cast<double>(result.duplicates));
  }
  if (result.too_old > 0) {
    metrics_.rejected_too_old->Increment(static_cast<double>(result.too_old));
  }
  if (result.too_far_in_future > 0) {
    metrics_.rejected_too_far_in_future->Increment(static_cast<double>(result.too_far_in_future));
  }
}

void RocksDbStore::RequestBackgroundWorkLocked() {
  // Settling (once per kSettleEveryMs of the clock, with the hourly minute rollups) and
  // checkpoints (when the log has grown) run on the background thread: each loops over every
  // series, which at hundreds of thousands of series takes a second or more, and no commit (nor
  // whoever made it) should pay that. Until they run, the head simply holds more; reads and
  // retention cutoffs move only when they do, so both stay consistent.
  const bool settle = SettleDue();
  const bool checkpoint = CheckpointDue(/*periodic=*/false);
  if (!settle && !checkpoint) return;
  std::lock_guard<std::mutex> bg(bg_mu_);
  if ((settle && !settle_wanted_) || (checkpoint && !checkpoint_wanted_)) bg_cv_.notify_all();
  settle_wanted_ = settle_wanted_ || settle;
  checkpoint_wanted_ = checkpoint_wanted_ || checkpoint;
}

void RocksDbStore::LogRefusals(const CommitResult& r) {
  if (r.too_far_in_future > 0) {
    if (int64_t n = refusal_log_.Admit("too_far_in_future", r.too_far_in_future)) {
      LOG_WARNING(
          "store: refused {} sample(s) as too_far_in_future (since the last such line): more "
          "than {} ahead of the clock, after {}; e.g. {} at {}. Is the sender's clock right?",
          n, options_.future_tolerance.ToString(), FormatTimestampMs(r.max_time_ms),
          r.first_too_far_in_future.series.ToString(),
          FormatTimestampMs(r.first_too_far_in_future.timestamp_ms));
    }
  }
  if (r.too_old > 0) {
    if (int64_t n = refusal_log_.Admit("too_old", r.too_old)) {
      LOG_WARNING(
          "store: refused {} sample(s) as too_old (since the last such line): more than {} "
          "behind the clock, before {}, or not after what the series already settled; e.g. {} "
          "at {}",
          n, options_.out_of_order_window.ToString(), FormatTimestampMs(r.min_time_ms),
          r.first_too_old.series.ToString(), FormatTimestampMs(r.first_too_old.timestamp_ms));
    }
  }
}

}  // namespace internal
}  // namespace nines::store
