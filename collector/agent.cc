#include "collector/agent.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <set>
#include <thread>

#include "core/log.h"
#include "remote/sender.h"

namespace nines::collector {

core::Status WriteRequestBuilder::Append(const core::Labels& series, int64_t timestamp_ms,
                                         double value) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<size_t>& slots = index_[series.Hash()];
  for (size_t i : slots) {
    if (series_[i].labels == series) {
      series_[i].samples.push_back({timestamp_ms, value});
      ++samples_;
      return core::Status::Ok();
    }
  }
  slots.push_back(series_.size());
  series_.push_back({series, {{timestamp_ms, value}}});
  ++samples_;
  return core::Status::Ok();
}

core::Result<store::CommitResult> WriteRequestBuilder::Commit() {
  std::lock_guard<std::mutex> lock(mu_);
  store::CommitResult r;
  r.appended = samples_;
  return r;
}

void WriteRequestBuilder::Rollback() {
  std::lock_guard<std::mutex> lock(mu_);
  series_.clear();
  index_.clear();
  samples_ = 0;
}

std::pair<std::string, int64_t> WriteRequestBuilder::Take() {
  remote::WriteRequest request;
  int64_t samples = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    request.series.swap(series_);
    index_.clear();
    samples = samples_;
    samples_ = 0;
  }
  if (request.series.empty()) return {"", 0};
  // Each series' samples in time order (probes of one check finish in order, but be sure).
  for (remote::TimeSeries& ts : request.series) {
    std::stable_sort(ts.samples.begin(), ts.samples.end(),
                     [](const core::Sample& a, const core::Sample& b) {
                       return a.timestamp_ms < b.timestamp_ms;
                     });
  }
  return {remote::EncodeWriteRequestProto(request), samples};
}

namespace {

// Stages one scrape's samples and hands them to the builder on Commit, so a scrape that fails
// half way adds nothing.
class StagingAppender final : public store::Appender {
 public:
  explicit StagingAppender(WriteRequestBuilder& builder) : builder_(builder) {}
  core::Status Append(const core::Labels& series, int64_t timestamp_ms, double value) override {
    staged_.push_back({series, timestamp_ms, value});
    return core::Status::Ok();
  }
  core::Result<store::CommitResult> Commit() override {
    store::CommitResult r;
    for (const Staged& s : staged_) {
      RETURN_IF_ERROR(builder_.Append(s.series, s.timestamp_ms, s.value));
      ++r.appended;
    }
    staged_.clear();
    return r;
  }
  void Rollback() override { staged_.clear(); }

 private:
  struct Staged {
    core::Labels series;
    int64_t timestamp_ms;
    double value;
  };
  WriteRequestBuilder& builder_;
  std::vector<Staged> staged_;
};

}  // namespace

class Agent::Impl {
 public:
  Impl(AgentOptions options, core::Clock& clock) : options_(std::move(options)), clock_(clock) {}

  core::Status Init(std::vector<CheckSpec> checks) {
    if (options_.location.empty()) return core::InvalidArgumentError("agent: location is required");
    if (options_.queue_dir.empty()) return core::InvalidArgumentError("agent: queue_dir is required");
    if (options_.registry == nullptr) return core::InvalidArgumentError("agent: registry is required");
    RETURN_IF_ERROR(OpenQueueAndClient());
    RegisterMetrics(*options_.registry);

    ProbeEngineOptions po = options_.probe;
    po.registry = options_.registry.get();
    engine_ = std::make_unique<ProbeEngine>(
        po, clock_, [this](const CheckSpec& c, const ProbeResult& result, core::Timestamp due) {
          core::Status s = AppendProbeResult(c, result, due, builder_);
          if (!s.ok()) LOG_WARNING("agent: check {}: {}", c.name, s.ToString());
        });
    SetCheckRegions(checks);
    engine_->SetChecks(std::move(checks));
    engine_->Start();
    ScrapeManagerOptions so;
    so.threads = options_.scrape_threads;
    so.registry = options_.registry.get();
    scrapes_ = std::make_unique<ScrapeManager>(
        so, clock_, [this] { return std::make_unique<StagingAppender>(builder_); });
    scrapes_->Start();
    flusher_ = std::thread([this] { FlushLoop(); });
    sender_ = std::thread([this] { SendLoop(); });
    LOG_INFO("agent: location {} sending to {}, queue {} ({} records waiting)", options_.location,
             options_.engine_url, options_.queue_dir, queue_->Stats().records);
    return core::Status::Ok();
  }

  // The durable queue in queue_dir and the remote-write client to the engine.
  core::Status OpenQueueAndClient() {
    store::DurableQueueOptions qo;
    qo.dir = options_.queue_dir;
    qo.max_bytes = options_.queue_max_bytes;
    qo.sync = options_.queue_sync;
    qo.registry = options_.registry.get();
    qo.name = "agent";
    ASSIGN_OR_RETURN(queue_, store::OpenDurableQueue(qo));

    remote::RemoteWriteClientOptions co;
    co.url = options_.engine_url;
    co.bearer_token = options_.bearer_token;
    co.http.verify_tls = options_.tls_verify;
    co.http.ca_file = options_.ca_file;
    co.http.cert_file = options_.cert_file;
    co.http.key_file = options_.key_file;
    co.timeout = options_.send_timeout;
    co.min_backoff = options_.min_backoff;
    co.max_backoff = options_.max_backoff;
    // Short: the sender loop owns the long-term retry (forever, with its own backoff) and must
    // notice Stop.
    co.max_retry_duration = std::min(options_.max_backoff, core::Duration::Seconds(2));
    co.name = "engine";
    co.registry = options_.registry;
    ASSIGN_OR_RETURN(client_, remote::RemoteWriteClient::Create(co, clock_));
    return core::Status::Ok();
  }

  void RegisterMetrics(prometheus::Registry& r) {
    m_sent_records_ = &prometheus::BuildCounter()
                           .Name("nines_agent_sent_records_total")
                           .Help("Queue records delivered to the engine.")
                           .Register(r)
                           .Add({});
    m_sent_bytes_ = &prometheus::BuildCounter()
                         .Name("nines_agent_sent_bytes_total")
                         .Help("Uncompressed protobuf bytes delivered to the engine.")
                         .Register(r)
                         .Add({});
    m_rejected_records_ = &prometheus::BuildCounter()
                               .Name("nines_agent_rejected_records_total")
                               .Help("Queue records the engine answered with a 4xx (removed from "
                                     "the queue; what the engine stored of them is stored).")
                               .Register(r)
                               .Add({});
    m_samples_refused_ = &prometheus::BuildCounter()
                              .Name("nines_agent_samples_refused_total")
                              .Help("Samples the engine refused for good, by its reason "
                                    "(too_far_in_future, too_old, invalid; rejected: a whole "
                                    "batch refused without a reason per sample; other).")
                              .Register(r);
    m_send_failures_ = &prometheus::BuildCounter()
                            .Name("nines_agent_send_failures_total")
                            .Help("Sends that failed after retries (the records stay queued).")
                            .Register(r)
                            .Add({});
    m_measured_ = &prometheus::BuildCounter()
                       .Name("nines_agent_measured_samples_total")
                       .Help("Samples measured and written to the queue.")
                       .Register(r)
                       .Add({});
    m_last_ack_ = &prometheus::BuildGauge()
                       .Name("nines_agent_last_delivery_timestamp_seconds")
                       .Help("When the engine last acknowledged a send (Unix time).")
                       .Register(r)
                       .Add({});
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    // In-flight probes and scrapes finish and land in the builder.
    if (scrapes_) scrapes_->Stop();
    if (engine_) engine_->Stop();
    cv_.notify_all();
    if (flusher_.joinable()) flusher_.join();
    if (engine_) {  // Init got as far as measuring
      core::Status s = Flush();
      if (!s.ok()) LOG_ERROR("agent: final flush: {}", s.ToString());
    }
    if (client_) client_->Cancel();
    if (queue_) queue_->Close();
    if (sender_.joinable()) sender_.join();
    // Release the queue's directory so that another agent (a restart) can open it.
    std::lock_guard<std::mutex> lock(flush_mu_);
    if (queue_) {
      final_stats_ = queue_->Stats();
      queue_.reset();
    }
  }

  core::Status Flush() {
    std::lock_guard<std::mutex> lock(flush_mu_);
    if (!queue_) return core::FailedPreconditionError("agent: stopped");
    const core::Timestamp now = clock_.Now();
    if (options_.heartbeat_interval > core::Duration::Zero() && now >= next_heartbeat_) {
      // One series per region probed (see agent.h), all stamped `now`.
      for (const std::string& region : HeartbeatRegionsLocked()) {
        core::Labels::Builder b;
        b.Set("__name__", "nines_agent_heartbeat");
        b.Set("location", options_.location);
        if (!region.empty()) b.Set("region", region);
        ASSIGN_OR_RETURN(core::Labels labels, b.Build());
        RETURN_IF_ERROR(builder_.Append(labels, now.UnixMillis(), 1));
      }
      next_heartbeat_ = now + options_.heartbeat_interval;
    }
    auto [record, samples] = builder_.Take();
    if (record.empty()) return core::Status::Ok();
    auto seq = queue_->Push(record);
    if (!seq.ok()) {
      // The queue refused it (a record above the budget, or closed): nothing else can hold it.
      LOG_ERROR("agent: dropped {} samples: {}", samples, seq.status().ToString());
      return seq.status();
    }
    m_measured_->Increment(static_cast<double>(samples));
    return core::Status::Ok();
  }

  std::vector<CheckStatus> Statuses() const { return engine_->Statuses(); }
  store::QueueStats QueueStats() const {
    std::lock_guard<std::mutex> lock(flush_mu_);
    return queue_ ? queue_->Stats() : final_stats_;
  }
  void SetChecks(std::vector<CheckSpec> checks) {
    SetCheckRegions(checks);
    engine_->SetChecks(std::move(checks));
  }
  core::Status SetScrapes(std::vector<ScrapeSpec> targets) {
    std::set<std::string> regions;
    for (const ScrapeSpec& t : targets) {
      if (!t.region.empty()) regions.insert(t.region);
    }
    RETURN_IF_ERROR(scrapes_->SetTargets(std::move(targets)));
    std::lock_guard<std::mutex> lock(flush_mu_);
    scrape_regions_ = std::move(regions);
    return core::Status::Ok();
  }
  std::vector<ScrapeTargetStatus> ScrapeTargets() const { return scrapes_->Targets(); }

 private:
  void SetCheckRegions(const std::vector<CheckSpec>& checks) {
    std::set<std::string> regions;
    for (const CheckSpec& c : checks) {
      if (!c.region.empty()) regions.insert(c.region);
    }
    std::lock_guard<std::mutex> lock(flush_mu_);
    check_regions_ = std::move(regions);
  }

  // The regions the heartbeat names: every region of a check or scrape target, or the agent's
  // own region ("" when unknown: a heartbeat without a region label) when it measures none.
  std::set<std::string> HeartbeatRegionsLocked() const {
    std::set<std::string> out = check_regions_;
    out.insert(scrape_regions_.begin(), scrape_regions_.end());
    if (out.empty()) out.insert(options_.region);
    return out;
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }

  void FlushLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_) {
      cv_.wait_for(lock, options_.flush_interval.ToChrono(), [&] { return stopped_; });
      if (stopped_) break;
      lock.unlock();
      core::Status s = Flush();
      if (!s.ok()) LOG_WARNING("agent: flush: {}", s.ToString());
      lock.lock();
    }
  }

  void SendLoop() {
    core::Duration backoff = options_.min_backoff;
    while (true) {
      if (!queue_->WaitForRecords(core::Duration::Seconds(1))) {
        if (Stopping()) return;
        continue;
      }
      auto records = queue_->Peek(10'000, options_.max_send_bytes);
      if (!records.ok()) {
        LOG_ERROR("agent: reading the queue: {}", records.status().ToString());
        if (!Wait(backoff)) return;
        continue;
      }
      if (records->empty()) continue;
      std::string body;
      for (const store::QueueRecord& r : *records) body += r.data;
      const uint64_t last = records->back().seq;
      const size_t n = records->size();
      std::string compressed = remote::SnappyCompress(body);
      remote::Refusal refusal;
      core::Status s = client_->SendEncoded(compressed, &refusal);
      if (s.ok() || s.code() == core::StatusCode::kInvalidArgument) {
        if (s.ok()) {
          m_sent_records_->Increment(static_cast<double>(n));
          m_sent_bytes_->Increment(static_cast<double>(body.size()));
          m_last_ack_->Set(clock_.Now().UnixSecondsDouble());
        } else {
          // Refused for good (a 4xx): a retry would be refused again, and keeping it would
          // block the queue forever. Not silently: counted by reason and logged.
          m_rejected_records_->Increment(static_cast<double>(n));
          CountRefusal(refusal, compressed, s, n);
        }
        core::Status ack = queue_->Ack(last);
        if (!ack.ok()) LOG_ERROR("agent: acknowledging seq {}: {}", last, ack.ToString());
        backoff = options_.min_backoff;
        continue;
      }
      if (s.code() == core::StatusCode::kCancelled) return;  // Stop(): the records stay queued
      m_send_failures_->Increment();
      LOG_WARNING("agent: engine unreachable ({}); {} records waiting", s.message(),
                  queue_->Stats().records);
      if (!Wait(backoff)) return;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }

  // Counts and logs (at most once a minute per reason) what the engine refused of a batch of
  // `records` records whose body is `compressed`.
  void CountRefusal(const remote::Refusal& refusal, const std::string& compressed,
                    const core::Status& status, size_t records) {
    std::vector<std::pair<std::string, int64_t>> refused = refusal.refused_samples;
    if (refused.empty()) {
      // The whole batch, without a reason per sample (a malformed body, another receiver).
      auto decoded = remote::DecodeWriteRequest(compressed);
      refused.emplace_back("rejected", decoded.ok() ? decoded->SampleCount() : 0);
    }
    for (auto& [reason, count] : refused) {
      if (count <= 0) continue;
      // The label's values come from the receiver: keep them few and tame.
      if (reason != "too_far_in_future" && reason != "too_old" && reason != "invalid" &&
          reason != "rejected") {
        reason = "other";
      }
      m_samples_refused_->Add({{"reason", reason}}).Increment(static_cast<double>(count));
      const int64_t n = refusal_log_.Admit(reason, count);
      if (n == 0) continue;
      const char* hint = reason == "too_far_in_future" ? " Is this host's clock ahead?"
                         : reason == "too_old"         ? " (a backlog older than the engine's "
                                                         "out-of-order window, or a clock behind)"
                                                       : "";
      LOG_ERROR("agent: the engine refused {} sample(s) as {} since the last such line, for "
                "good; this batch: {} record(s), {} sample(s) stored.{} {}",
                n, reason, records,
                refusal.stored_samples >= 0 ? std::to_string(refusal.stored_samples) : "no",
                hint, status.message());
    }
  }

  // Waits `d` (real time) unless stopping; returns false when stopping.
  bool Wait(core::Duration d) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, d.ToChrono(), [&] { return stopped_; });
    return !stopped_;
  }

  AgentOptions options_;
  core::Clock& clock_;
  std::unique_ptr<store::DurableQueue> queue_;
  std::unique_ptr<remote::RemoteWriteClient> client_;
  std::unique_ptr<ProbeEngine> engine_;
  std::unique_ptr<ScrapeManager> scrapes_;
  WriteRequestBuilder builder_;

  mutable std::mutex flush_mu_;  // guards queue_ being reset, and the heartbeat schedule
  core::Timestamp next_heartbeat_;
  std::set<std::string> check_regions_;   // the regions of the checks and the scrape targets
  std::set<std::string> scrape_regions_;
  store::QueueStats final_stats_;  // the queue's stats when Stop released it

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  std::thread flusher_;
  std::thread sender_;

  prometheus::Counter* m_sent_records_ = nullptr;
  prometheus::Counter* m_sent_bytes_ = nullptr;
  prometheus::Counter* m_rejected_records_ = nullptr;
  prometheus::Family<prometheus::Counter>* m_samples_refused_ = nullptr;
  core::LogLimiter refusal_log_{clock_, core::Duration::Minutes(1)};
  prometheus::Counter* m_send_failures_ = nullptr;
  prometheus::Counter* m_measured_ = nullptr;
  prometheus::Gauge* m_last_ack_ = nullptr;
};

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() {
  if (impl_) impl_->Stop();
}

core::Result<std::unique_ptr<Agent>> Agent::Start(AgentOptions options,
                                                  std::vector<CheckSpec> checks,
                                                  core::Clock& clock) {
  auto impl = std::make_unique<Impl>(std::move(options), clock);
  core::Status s = impl->Init(std::move(checks));
  if (!s.ok()) {
    impl->Stop();
    return s;
  }
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

void Agent::SetChecks(std::vector<CheckSpec> checks) { impl_->SetChecks(std::move(checks)); }
core::Status Agent::SetScrapes(std::vector<ScrapeSpec> targets) {
  return impl_->SetScrapes(std::move(targets));
}
std::vector<ScrapeTargetStatus> Agent::ScrapeTargets() const { return impl_->ScrapeTargets(); }
void Agent::Stop() { impl_->Stop(); }
core::Status Agent::Flush() { return impl_->Flush(); }
std::vector<CheckStatus> Agent::Statuses() const { return impl_->Statuses(); }
store::QueueStats Agent::QueueStats() const { return impl_->QueueStats(); }

core::Result<std::vector<LatestCheckResult>> LatestResults(store::Reader& reader,
                                                           core::Timestamp now,
                                                           core::Duration lookback) {
  const int64_t start = (now - lookback).UnixMillis();
  const int64_t end = now.UnixMillis();
  auto name_is = [](std::string_view name) {
    return std::vector<store::Matcher>{
        *store::Matcher::Create(store::Matcher::Op::kEqual, "__name__", std::string(name))};
  };
  struct Latest {
    core::Labels labels;
    int64_t t = 0;
    bool success = false;
    std::string reason;
  };
  std::map<std::pair<std::string, std::string>, Latest> checks;  // (probe, location)
  ASSIGN_OR_RETURN(std::vector<core::Labels> series, reader.Series(name_is("probe_success"), start, end));
  for (const core::Labels& l : series) {
    ASSIGN_OR_RETURN(store::WindowAggregate agg,
                     reader.Aggregate(l, start, end, store::Reader::Fields::kCounts));
    if (agg.count == 0) continue;
    Latest& c = checks[{std::string(l.Get("probe")), std::string(l.Get("location"))}];
    if (agg.last_timestamp_ms < c.t) continue;
    c = {l, agg.last_timestamp_ms, agg.last == 1, ""};
  }
  ASSIGN_OR_RETURN(std::vector<core::Labels> reasons,
                   reader.Series(name_is(kFailureReasonMetric), start, end));
  for (const core::Labels& l : reasons) {
    auto it = checks.find({std::string(l.Get("probe")), std::string(l.Get("location"))});
    if (it == checks.end() || it->second.success) continue;
    ASSIGN_OR_RETURN(store::WindowAggregate agg,
                     reader.Aggregate(l, start, end, store::Reader::Fields::kCounts));
    if (agg.count > 0 && agg.last_timestamp_ms == it->second.t) it->second.reason = l.Get("reason");
  }
  std::vector<LatestCheckResult> out;
  out.reserve(checks.size());
  for (auto& [key, c] : checks) {
    out.push_back({std::move(c.labels), core::Timestamp::FromUnixMillis(c.t), c.success,
                   std::move(c.reason)});
  }
  return out;
}

}  // namespace nines::collector
