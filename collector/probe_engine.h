// ProbeEngine: runs every check on its own interval, on Boost.Asio, and hands each result to a
// sink.
//
// Schedule: a check runs at the instants  k * interval + offset  (k an integer, in Unix time),
// where the offset is a stable hash of the check's name modulo its interval. So load spreads
// evenly over the interval, a check keeps its phase across restarts and on every agent, and there
// is no drift however long it runs: each due time is computed from the grid, never by adding the
// interval to "now". A result is timestamped with its due time.
//
// Concurrency: at most `max_concurrency` probes are in flight. A due check that finds the cap
// reached waits in FIFO order for a free slot; one still waiting at its next due time is skipped.
// A check whose previous run has not finished when it is due again is skipped too. Skips are
// counted (nines_probe_skipped_total{reason}).
//
// Time: the engine reads time only through the Clock. RunDue(now) is the whole scheduler step, so
// tests drive it with a FakeClock and a fake probe function; Start() runs the same step on a
// thread that waits between due times (a real wait; the due times come from the Clock).
//
// Thread-safety: all methods are thread-safe. The sink is called from the engine's io threads,
// possibly concurrently when threads > 1, never while the engine holds its lock.
#ifndef NINES_COLLECTOR_PROBE_ENGINE_H_
#define NINES_COLLECTOR_PROBE_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collector/collector.h"
#include "core/clock.h"
#include "core/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::collector {

// Called once per finished probe with the check, its result and its due time.
using ResultSink =
    std::function<void(const CheckSpec& check, const ProbeResult& result, core::Timestamp due)>;

// Runs one probe and calls `done` exactly once (from any thread). The default runs the real
// probes (collector/probe.h) on the engine's io_context.
using ProbeFunction = std::function<void(std::shared_ptr<const CheckSpec> check,
                                         std::function<void(ProbeResult)> done)>;

struct ProbeEngineOptions {
  int max_concurrency = 1000;  // probes in flight, >= 1
  int threads = 1;             // io threads running the probes, >= 1
  // Replaces the real probes (tests, benchmarks). Empty: the real ones.
  ProbeFunction probe_function;
  // Called when a probe starts, with its due time and the time it actually started (benchmarks
  // measure schedule delay with it). Called under no lock, from the scheduler's thread.
  std::function<void(const CheckSpec& check, core::Timestamp due, core::Timestamp started)>
      on_start;
  // Metrics (nines_probe_*) are registered here when not null.
  prometheus::Registry* registry = nullptr;
};

// The latest result of one check, for "why is it red" views.
struct CheckStatus {
  std::shared_ptr<const CheckSpec> check;
  bool has_result = false;
  core::Timestamp last_due;  // due time of the latest result
  ProbeResult last;          // the latest result (success, duration, reason)
  core::Timestamp last_success;  // due time of the latest success (zero if none)
  uint64_t runs = 0;
  uint64_t failures = 0;
  uint64_t skipped = 0;
};

// The offset of a check with this name and interval in its schedule, in [0, interval).
core::Duration ScheduleOffset(std::string_view name, core::Duration interval);

// The first instant k * interval + offset strictly after `after`.
core::Timestamp NextDue(core::Timestamp after, core::Duration interval, core::Duration offset);

class ProbeEngine {
 public:
  ProbeEngine(ProbeEngineOptions options, core::Clock& clock, ResultSink sink);
  // Stops (see Stop()).
  ~ProbeEngine();
  ProbeEngine(const ProbeEngine&) = delete;
  ProbeEngine& operator=(const ProbeEngine&) = delete;

  // Replaces the set of checks (names are unique). Checks that keep their name and interval keep
  // their schedule; runs in flight finish and report with the spec they started with.
  void SetChecks(std::vector<CheckSpec> checks);

  // The scheduler step: starts (or queues) every check due at or before `now` and returns the
  // next due time (Timestamp::Max-like far future when there are no checks).
  core::Timestamp RunDue(core::Timestamp now);

  // Starts the io threads; with `schedule` also a thread that calls RunDue(clock.Now()) whenever
  // something is due. Without it the caller drives RunDue (tests with a FakeClock).
  void Start(bool schedule = true);

  // Stops scheduling, waits for probes in flight to finish (each is bounded by its timeout), and
  // joins the threads. Idempotent.
  void Stop();

  // Blocks until no probe is in flight or queued, or `timeout` passes (a real wait). Returns
  // true when idle.
  bool WaitIdle(core::Duration timeout);

  // The latest status of every check, sorted by check name.
  std::vector<CheckStatus> Statuses() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_PROBE_ENGINE_H_
