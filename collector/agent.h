// Agent: the regional prober. It runs the checks of its location (ProbeEngine) and scrapes its
// targets (ScrapeManager), writes every result into a durable on-disk queue first, and ships the queue to the engine over Prometheus
// remote write, deleting a record only after the engine acknowledged it (2xx).
//
//   probes, scrapes ──► WriteRequestBuilder ──(every flush_interval)──► DurableQueue ──► sender ──► engine
//
// While the engine is unreachable the agent keeps measuring and queueing, up to the queue's disk
// budget (past it the oldest records are dropped, counted and logged). When the engine is back,
// the sender drains the queue oldest first, in batches of up to max_send_bytes, so every series
// arrives in time order and fresh results wait only for the drain (seconds for an hour of
// backlog; see bench/). A crash between send and acknowledgement re-sends the record; the store
// treats a repeated (series, timestamp) as a duplicate, so each sample is stored exactly once.
// What the engine refuses for good (a 4xx: samples too far ahead of its clock or older than its
// out-of-order window) is removed from the queue, never retried, but never silently: it is
// counted in nines_agent_samples_refused_total{reason} and logged, at most once a minute per
// reason.
//
// It also writes nines_agent_heartbeat{location,region} = 1 every heartbeat_interval through the
// same queue, one series per region it measures (the regions of its checks and scrape targets;
// its own region, `AgentOptions::region`, when it measures none), all with the same timestamp, so
// the engine can tell "the region is down" (probes fail, heartbeats arrive) from "the prober is
// gone" (no heartbeats), and knows every region a lost prober was measuring (NinesAgentDown,
// rules/heartbeat.h).
//
// Thread-safety: the public methods are thread-safe. The Clock must outlive the Agent.
#ifndef NINES_COLLECTOR_AGENT_H_
#define NINES_COLLECTOR_AGENT_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "collector/collector.h"
#include "collector/probe_engine.h"
#include "collector/scrape_manager.h"
#include "core/clock.h"
#include "core/status.h"
#include "remote/remote.h"
#include "store/queue.h"
#include "store/store.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::collector {

// A store::Appender that collects samples into a remote-write request in memory (for the agent's
// queue). Append validates nothing beyond what Labels guarantees; Commit returns the number of
// samples held and keeps them until Take().
// Thread-safety: thread-safe (several probes finish at once).
class WriteRequestBuilder final : public store::Appender {
 public:
  core::Status Append(const core::Labels& series, int64_t timestamp_ms, double value) override;
  core::Result<store::CommitResult> Commit() override;
  void Rollback() override;

  // The protobuf encoding (remote::EncodeWriteRequestProto) of everything appended since the last
  // Take, and the number of samples in it; "" and 0 when empty.
  std::pair<std::string, int64_t> Take();

 private:
  std::mutex mu_;
  std::vector<remote::TimeSeries> series_;
  std::unordered_map<uint64_t, std::vector<size_t>> index_;  // labels hash -> series_ indexes
  int64_t samples_ = 0;
};

struct AgentOptions {
  std::string region;    // the agent's own region (the heartbeat's when it measures none)
  std::string location;  // REQUIRED: where it probes from
  // REQUIRED: the engine's remote-write endpoint.
  std::string engine_url;
  std::string bearer_token;
  // TLS towards an https engine_url: verification, a private CA, a client certificate.
  bool tls_verify = true;
  std::string ca_file;    // "" uses the system's CAs
  std::string cert_file;  // both or neither
  std::string key_file;
  std::string queue_dir;  // REQUIRED
  int64_t queue_max_bytes = int64_t{1} << 30;
  bool queue_sync = false;
  core::Duration flush_interval = core::Duration::Seconds(1);
  // Uncompressed protobuf bytes per remote-write request (several queue records are merged).
  int64_t max_send_bytes = 4 << 20;
  core::Duration send_timeout = core::Duration::Seconds(30);
  // Backoff between failed sends (the client retries within one send too).
  core::Duration min_backoff = core::Duration::Milliseconds(100);
  core::Duration max_backoff = core::Duration::Seconds(10);
  core::Duration heartbeat_interval = core::Duration::Seconds(15);  // 0: no heartbeat
  ProbeEngineOptions probe;  // its registry is replaced by `registry`
  int scrape_threads = 2;    // workers running scrapes (see ScrapeManager)
  // Metrics of the agent, its queue and its probe engine; REQUIRES: not null.
  std::shared_ptr<prometheus::Registry> registry;
};

class Agent {
 public:
  // Opens the queue (recovering what a previous run left), starts probing `checks` and sending.
  // Errors: INVALID_ARGUMENT for missing options or a bad engine_url; the queue's errors
  // (FAILED_PRECONDITION when another agent holds queue_dir).
  static core::Result<std::unique_ptr<Agent>> Start(AgentOptions options,
                                                    std::vector<CheckSpec> checks,
                                                    core::Clock& clock);
  ~Agent();  // Stop()
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Replaces the checks (see ProbeEngine::SetChecks).
  void SetChecks(std::vector<CheckSpec> checks);

  // Replaces the scrape targets (see ScrapeManager::SetTargets; on an error nothing changes).
  // A scrape's samples go to the queue as a whole, with the probes' results.
  core::Status SetScrapes(std::vector<ScrapeSpec> targets);

  // Stops probing, writes what was measured to the queue, and stops sending (a send in flight
  // ends within send_timeout; what was not acknowledged stays queued for the next run).
  void Stop();

  // Writes what was measured so far to the queue now (normally every flush_interval).
  core::Status Flush();

  std::vector<CheckStatus> Statuses() const;
  std::vector<ScrapeTargetStatus> ScrapeTargets() const;
  store::QueueStats QueueStats() const;

 private:
  class Impl;
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The latest result of one check, as the engine finds it in the store.
struct LatestCheckResult {
  core::Labels labels;       // of its probe_success series: probe, service, target, region, ...
  core::Timestamp last_run;  // the latest sample's time
  bool success = false;
  std::string reason;        // recorded with a failure (kFailureReasonMetric); "" on success
};

// The engine's view of every check that reported into `reader` (from agents or its own probes):
// the latest probe_success of each (probe, location) and, when it is 0, the reason recorded with
// it (kFailureReasonMetric). Only series with a sample in [now - lookback, now] are listed,
// sorted by probe then location. GET /api/v1/checks shows them (api/json.h).
// Errors: those of the reader.
core::Result<std::vector<LatestCheckResult>> LatestResults(store::Reader& reader,
                                                           core::Timestamp now,
                                                           core::Duration lookback);

}  // namespace nines::collector

#endif  // NINES_COLLECTOR_AGENT_H_
