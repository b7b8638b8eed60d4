// `nines agent`: the regional prober process. It runs the checks of its location through
// collector::Agent (durable queue, remote write to the engine) and serves its own small HTTP
// endpoint: /metrics (queue depth, sends, probes), /healthz, /readyz, GET /api/v1/checks (the
// latest result and reason of each of its checks) and GET /api/v1/targets (its scrape targets).
//
// Thread-safety: Reload and Shutdown may be called from any thread.
#ifndef NINES_APP_AGENT_RUNNER_H_
#define NINES_APP_AGENT_RUNNER_H_

#include <memory>
#include <string>

#include "app/config.h"
#include "core/clock.h"
#include "core/status.h"

namespace nines::app {

struct AgentRunnerOptions {
  Config config;
  std::string config_path;  // reread by Reload(); empty for a built-in config
};

// The region an agent at `location` belongs to: the region whose name prefixes the location
// ("eu-west-1" for "eu-west-1a"), else the first region listing it, else "".
std::string RegionOfLocation(const Config& config, std::string_view location);

class AgentRunner {
 public:
  // Errors: INVALID_ARGUMENT when collector.location or agent.engine_url is missing; those of
  // collector::Agent::Start and net::Server::Start.
  static core::Result<std::unique_ptr<AgentRunner>> Start(AgentRunnerOptions options,
                                                          core::Clock& clock);
  ~AgentRunner();

  // "http://127.0.0.1:9100": the agent's own endpoint.
  std::string url() const;

  // Rereads the config file and replaces the checks and scrape targets (the location, engine and queue settings
  // need a restart). An invalid file changes nothing; its errors are returned.
  core::Status Reload();

  // Stops probing and sending; what is queued stays on disk for the next start. Idempotent.
  void Shutdown();

 private:
  class Impl;
  explicit AgentRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::app

#endif  // NINES_APP_AGENT_RUNNER_H_
