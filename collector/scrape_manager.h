// ScrapeManager: scrapes a set of Prometheus text-format targets (ScrapeSpec) each on its own
// interval and writes every scrape's samples, with Prometheus' synthetic series (up,
// scrape_duration_seconds, ...) and staleness markers, into appenders it gets from a factory
// (the engine's store, or the agent's queue).
//
// Schedule: the probe engine's (collector/probe_engine.h): target T scrapes at k * interval +
// ScheduleOffset("scrape " + job + " " + url), with no drift; a scrape still running at its next
// due time makes that due time skipped (counted). The scrapes themselves are blocking HTTP
// exchanges (collector/scraper.h) and run on `threads` worker threads, so a slow target delays
// no other target beyond the worker count.
//
// A target keeps its Scraper (its keep-alive connection and the series it saw, for staleness
// markers) across SetTargets calls as long as its spec is unchanged.
//
// Thread-safety: the methods are thread-safe. The Clock must outlive the manager; the factory
// is called from the worker threads, concurrently when threads > 1.
#ifndef NINES_COLLECTOR_SCRAPE_MANAGER_H_
#define NINES_COLLECTOR_SCRAPE_MANAGER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/collector.h"
#include "core/clock.h"
#include "core/labels.h"
#include "core/status.h"
#include "core/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::store {
class Appender;
}  // namespace nines::store

namespace nines::collector {

// Gives the appender one scrape's samples go to; the manager commits it. Never null.
using AppenderFactory = std::function<std::unique_ptr<store::Appender>()>;

struct ScrapeManagerOptions {
  int threads = 2;  // worker threads running scrapes, >= 1
  // Metrics (nines_scrapes_total{result}, nines_scrape_targets) are registered here when set.
  prometheus::Registry* registry = nullptr;
};

// What the latest scrape of a target found (Prometheus' /api/v1/targets, roughly).
struct ScrapeTargetStatus {
  ScrapeSpec spec;
  core::Labels target_labels;   // job, instance, region, location, extra labels
  bool has_result = false;
  core::Timestamp last_scrape;  // due time of the latest scrape
  core::Duration last_duration;
  bool up = false;
  std::string last_error;       // why the latest scrape failed; empty when up
  uint64_t scrapes = 0;
  uint64_t failures = 0;
  uint64_t skipped = 0;
};

class ScrapeManager {
 public:
  ScrapeManager(ScrapeManagerOptions options, core::Clock& clock, AppenderFactory appenders);
  ~ScrapeManager();  // Stop()
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Replaces the targets. All are validated first (Scraper::Create); on an error nothing
  // changes. Errors: INVALID_ARGUMENT naming the target; ALREADY_EXISTS for two targets with
  // the same job and url.
  core::Status SetTargets(std::vector<ScrapeSpec> targets);

  // SetTargets in two steps, for a caller that validates everything it changes before it
  // changes anything (the engine's reload): PrepareTargets validates and builds `targets`
  // (unchanged targets are shared with the running set) without changing what runs;
  // ApplyTargets puts the prepared set in force and cannot fail. Errors: as SetTargets.
  class PreparedTargets {
   public:
    PreparedTargets(PreparedTargets&&) noexcept;
    PreparedTargets& operator=(PreparedTargets&&) noexcept;
    ~PreparedTargets();

   private:
    friend class ScrapeManager;
    struct Data;
    explicit PreparedTargets(std::unique_ptr<Data> data);
    std::unique_ptr<Data> data_;
  };
  core::Result<PreparedTargets> PrepareTargets(std::vector<ScrapeSpec> targets) const;
  void ApplyTargets(PreparedTargets prepared);

  // The scheduler step (see ProbeEngine::RunDue): starts every scrape due at or before `now`
  // and returns the next due time. With Start(false) tests drive it with a FakeClock.
  core::Timestamp RunDue(core::Timestamp now);

  // Starts the workers; with `schedule` also the scheduler thread.
  void Start(bool schedule = true);

  // Stops scheduling and waits for the scrapes in flight (each bounded by about twice its
  // timeout). Idempotent.
  void Stop();

  // Blocks until no scrape is in flight, or `timeout` passes (a real wait). True when idle.
  bool WaitIdle(core::Duration timeout);

  // Every target's latest status, sorted by job then url.
  std::vector<ScrapeTargetStatus> Targets() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_SCRAPE_MANAGER_H_
