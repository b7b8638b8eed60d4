#include "collector/probe_engine.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <thread>

#include "collector/probe.h"
#include "core/log.h"

namespace nines::collector {
namespace {

// FNV-1a: stable across builds and machines, so every agent schedules a check alike.
uint64_t StableHash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

constexpr core::Timestamp kFarFuture = core::Timestamp::FromUnixSeconds(int64_t{1} << 32);

}  // namespace

core::Duration ScheduleOffset(std::string_view name, core::Duration interval) {
  if (interval.nanos() <= 0) return core::Duration::Zero();
  // Millisecond resolution: samples are stored in ms, and round offsets read better.
  int64_t ms = std::max<int64_t>(1, interval.millis());
  return core::Duration::Milliseconds(static_cast<int64_t>(StableHash(name) % static_cast<uint64_t>(ms)));
}

core::Timestamp NextDue(core::Timestamp after, core::Duration interval, core::Duration offset) {
  const int64_t step = interval.nanos();
  const int64_t x = after.UnixNanos() - offset.nanos();
  int64_t k = x / step;
  if (x % step != 0 && x < 0) --k;  // floor
  return core::Timestamp::FromUnixNanos((k + 1) * step + offset.nanos());
}

class ProbeEngine::Impl {
 public:
  Impl(ProbeEngineOptions options, core::Clock& clock, ResultSink sink)
      : options_(std::move(options)), clock_(clock), sink_(std::move(sink)),
        work_(boost::asio::make_work_guard(io_)) {
    options_.max_concurrency = std::max(1, options_.max_concurrency);
    options_.threads = std::max(1, options_.threads);
    if (!options_.probe_function) {
      options_.probe_function = [this](std::shared_ptr<const CheckSpec> check,
                                       std::function<void(ProbeResult)> done) {
        StartProbe(io_, clock_, std::move(check), std::move(done));
      };
    }
    RegisterMetrics();
  }

  ~Impl() { Stop(); }

  void SetChecks(std::vector<CheckSpec> checks) {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, std::shared_ptr<Entry>> next;
    const core::Timestamp now = clock_.Now();
    for (CheckSpec& spec : checks) {
      auto it = entries_.find(spec.name);
      std::shared_ptr<Entry> e;
      if (it != entries_.end() && it->second->spec->interval == spec.interval) {
        e = it->second;  // keeps its place in the schedule and its status
      } else {
        e = std::make_shared<Entry>();
        e->offset = ScheduleOffset(spec.name, spec.interval);
        e->generation = ++generation_;
        e->next_due = NextDue(now, spec.interval, e->offset);
        heap_.push({e->next_due, e->generation, e});
      }
      e->spec = std::make_shared<const CheckSpec>(std::move(spec));
      next.emplace(e->spec->name, e);
    }
    for (auto& [name, e] : entries_) {
      if (!next.count(name)) e->removed = true;
    }
    entries_ = std::move(next);
    if (m_checks_ != nullptr) m_checks_->Set(static_cast<double>(entries_.size()));
    cv_.notify_all();
  }

  core::Timestamp RunDue(core::Timestamp now) {
    std::vector<Start> starts;
    core::Timestamp next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (!heap_.empty() && heap_.top().due <= now) {
        HeapItem item = heap_.top();
        heap_.pop();
        std::shared_ptr<Entry> e = item.entry;
        if (e->removed || item.generation != e->generation || item.due != e->next_due) continue;
        e->next_due = NextDue(now, e->spec->interval, e->offset);
        heap_.push({e->next_due, e->generation, e});
        if (e->running || e->waiting) {
          // Still running (or still waiting for a slot) from its previous due time.
          Skip(*e, e->running ? "overlap" : "concurrency");
          continue;
        }
        if (in_flight_ < options_.max_concurrency) {
          starts.push_back(Begin(e, item.due));
        } else {
          e->waiting = true;
          waiting_.push_back({e, item.due});
        }
      }
      next = heap_.empty() ? kFarFuture : heap_.top().due;
    }
    Launch(std::move(starts));
    return next;
  }

  void StartThreads(bool schedule) {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
    for (int i = 0; i < options_.threads; ++i) {
      io_threads_.emplace_back([this] { io_.run(); });
    }
    if (schedule) scheduler_ = std::thread([this] { ScheduleLoop(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      // Waiting checks never start.
      for (auto& w : waiting_) w.entry->waiting = false;
      waiting_.clear();
    }
    cv_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
    // Probes in flight finish (each is bounded by its timeout); then the io threads end. Without
    // io threads nothing posted can run, so there is nothing to wait for.
    if (!io_threads_.empty()) WaitIdle(core::Duration::Seconds(120));
    work_.reset();
    io_.stop();
    for (std::thread& t : io_threads_) t.join();
    io_threads_.clear();
  }

  bool WaitIdle(core::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return idle_cv_.wait_for(lock, timeout.ToChrono(),
                             [&] { return in_flight_ == 0 && waiting_.empty(); });
  }

  std::vector<CheckStatus> Statuses() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<CheckStatus> out;
    out.reserve(entries_.size());
    for (const auto& [name, e] : entries_) {
      CheckStatus s = e->status;
      s.check = e->spec;
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  struct Entry {
    std::shared_ptr<const CheckSpec> spec;
    core::Duration offset;
    uint64_t generation = 0;
    core::Timestamp next_due;
    bool running = false;
    bool waiting = false;
    bool removed = false;
    CheckStatus status;
  };
  struct HeapItem {
    core::Timestamp due;
    uint64_t generation;
    std::shared_ptr<Entry> entry;
    bool operator>(const HeapItem& o) const { return due > o.due; }
  };
  struct Waiting {
    std::shared_ptr<Entry> entry;
    core::Timestamp due;
  };
  struct Start {
    std::shared_ptr<Entry> entry;
    std::shared_ptr<const CheckSpec> spec;
    core::Timestamp due;
  };

  // REQUIRES: mu_ held.
  Start Begin(const std::shared_ptr<Entry>& e, core::Timestamp due) {
    e->running = true;
    ++in_flight_;
    if (m_in_flight_ != nullptr) m_in_flight_->Set(in_flight_);
    return {e, e->spec, due};
  }

  // REQUIRES: mu_ held.
  void Skip(Entry& e, const char* reason) {
    ++e.status.skipped;
    if (m_skipped_overlap_ == nullptr) return;
    (std::string_view(reason) == "overlap" ? m_skipped_overlap_ : m_skipped_concurrency_)
        ->Increment();
  }

  // Starts probes outside the lock.
  void Launch(std::vector<Start> starts) {
    if (starts.empty()) return;
    const core::Timestamp started = clock_.Now();
    for (Start& s : starts) {
      if (options_.on_start) options_.on_start(*s.spec, s.due, started);
      if (m_delay_ != nullptr) {
        m_delay_->Observe(std::max(0.0, (started - s.due).SecondsDouble()));
      }
      boost::asio::post(io_, [this, s = std::move(s)]() mutable {
        auto entry = s.entry;
        auto spec = s.spec;
        core::Timestamp due = s.due;
        options_.probe_function(spec, [this, entry, spec, due](ProbeResult result) {
          Finish(entry, spec, due, std::move(result));
        });
      });
    }
  }

  void Finish(const std::shared_ptr<Entry>& e, const std::shared_ptr<const CheckSpec>& spec,
              core::Timestamp due, ProbeResult result) {
    sink_(*spec, result, due);
    std::vector<Start> starts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      e->running = false;
      --in_flight_;
      CheckStatus& s = e->status;
      ++s.runs;
      if (!result.success) ++s.failures;
      if (result.success) s.last_success = due;
      if (!s.has_result || due >= s.last_due) {
        s.has_result = true;
        s.last_due = due;
        s.last = std::move(result);
      }
      if (m_probes_ != nullptr) {
        (s.last.success ? m_probes_ok_ : m_probes_failed_)->Increment();
      }
      // Hand the free slot to the longest-waiting check, skipping those whose next due time
      // has already come (they would be stale).
      const core::Timestamp now = clock_.Now();
      while (!waiting_.empty() && in_flight_ < options_.max_concurrency) {
        Waiting w = std::move(waiting_.front());
        waiting_.pop_front();
        w.entry->waiting = false;
        if (w.entry->removed || now >= w.due + w.entry->spec->interval) {
          Skip(*w.entry, "concurrency");
          continue;
        }
        starts.push_back(Begin(w.entry, w.due));
      }
      if (m_in_flight_ != nullptr) m_in_flight_->Set(in_flight_);
      if (in_flight_ == 0 && waiting_.empty()) idle_cv_.notify_all();
    }
    Launch(std::move(starts));
  }

  void ScheduleLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_) {
      lock.unlock();
      core::Timestamp next = RunDue(clock_.Now());
      lock.lock();
      if (stopped_) break;
      core::Duration wait = next - clock_.Now();
      // Re-check at least every second so a clock step (NTP) cannot park the scheduler.
      wait = std::clamp(wait, core::Duration::Zero(), core::Duration::Seconds(1));
      if (wait > core::Duration::Zero()) cv_.wait_for(lock, wait.ToChrono());
    }
  }

  void RegisterMetrics() {
    if (options_.registry == nullptr) return;
    prometheus::Registry& r = *options_.registry;
    m_checks_ = &prometheus::BuildGauge()
                     .Name("nines_probe_checks")
                     .Help("Checks scheduled by this process.")
                     .Register(r)
                     .Add({});
    m_in_flight_ = &prometheus::BuildGauge()
                        .Name("nines_probe_in_flight")
                        .Help("Probes running now.")
                        .Register(r)
                        .Add({});
    m_probes_ = &prometheus::BuildCounter()
                     .Name("nines_probes_total")
                     .Help("Probes finished, by result.")
                     .Register(r);
    m_probes_ok_ = &m_probes_->Add({{"result", "success"}});
    m_probes_failed_ = &m_probes_->Add({{"result", "failure"}});
    auto& skipped = prometheus::BuildCounter()
                        .Name("nines_probe_skipped_total")
                        .Help("Scheduled probes not run: the previous run was still going "
                              "(overlap) or no slot freed up in time (concurrency).")
                        .Register(r);
    m_skipped_overlap_ = &skipped.Add({{"reason", "overlap"}});
    m_skipped_concurrency_ = &skipped.Add({{"reason", "concurrency"}});
    m_delay_ = &prometheus::BuildHistogram()
                    .Name("nines_probe_start_delay_seconds")
                    .Help("How late probes start against their schedule.")
                    .Register(r)
                    .Add({}, prometheus::Histogram::BucketBoundaries{
                                 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5});
  }

  ProbeEngineOptions options_;
  core::Clock& clock_;
  ResultSink sink_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the scheduler
  std::condition_variable idle_cv_;  // signals "nothing in flight"
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> heap_;
  std::deque<Waiting> waiting_;
  uint64_t generation_ = 0;
  int in_flight_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::vector<std::thread> io_threads_;
  std::thread scheduler_;

  prometheus::Gauge* m_checks_ = nullptr;
  prometheus::Gauge* m_in_flight_ = nullptr;
  prometheus::Family<prometheus::Counter>* m_probes_ = nullptr;
  prometheus::Counter* m_probes_ok_ = nullptr;
  prometheus::Counter* m_probes_failed_ = nullptr;
  prometheus::Counter* m_skipped_overlap_ = nullptr;
  prometheus::Counter* m_skipped_concurrency_ = nullptr;
  prometheus::Histogram* m_delay_ = nullptr;
};

ProbeEngine::ProbeEngine(ProbeEngineOptions options, core::Clock& clock, ResultSink sink)
    : impl_(std::make_unique<Impl>(std::move(options), clock, std::move(sink))) {}
ProbeEngine::~ProbeEngine() = default;
void ProbeEngine::SetChecks(std::vector<CheckSpec> checks) { impl_->SetChecks(std::move(checks)); }
core::Timestamp ProbeEngine::RunDue(core::Timestamp now) { return impl_->RunDue(now); }
void ProbeEngine::Start(bool schedule) { impl_->StartThreads(schedule); }
void ProbeEngine::Stop() { impl_->Stop(); }
bool ProbeEngine::WaitIdle(core::Duration timeout) { return impl_->WaitIdle(timeout); }
std::vector<CheckStatus> ProbeEngine::Statuses() const { return impl_->Statuses(); }

}  // namespace nines::collector
