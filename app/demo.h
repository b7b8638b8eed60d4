// The demo's simulated world: one small HTTP service per regional deployment (us-east-1,
// eu-west-1, ap-southeast-2) on loopback, each following a script of healthy periods, slow
// responses, 5xx bursts and (eu-west-1) a full outage; and one `nines agent` per region, in
// process, probing them and remote-writing to the engine.
//
// Script, in time since the demo started (it repeats every hour):
//   us-east-1       healthy, but /health takes 1.2 s for 15 s of every 4th minute (degraded)
//   eu-west-1       a full outage (every request 503) from 2 minutes before the start until 8
//                   minutes after it (SeedDemoHistory writes the first 2 minutes), then healthy
//   ap-southeast-2  half of all requests answer 500 for the first 20 s of every 3rd minute
// Every service serves /health (JSON), / (HTML) and /metrics (http_requests_total by code).
//
// Thread-safety: Start and Shutdown from one thread.
#ifndef NINES_APP_DEMO_H_
#define NINES_APP_DEMO_H_

#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "core/clock.h"
#include "core/status.h"

namespace nines::app {

class DemoServices {
 public:
  // Starts the three services on 127.0.0.1 with free ports; the script's clock starts now.
  static core::Result<std::unique_ptr<DemoServices>> Start(core::Clock& clock);
  ~DemoServices();

  // The `services:` config section (YAML) with checks of every service, from each region's own
  // location and from one other region's.
  std::string ChecksYaml() const;

  // "region: http://127.0.0.1:port", one per service.
  std::vector<std::string> Describe() const;

  // When the script's clock started (pass it to SeedDemoHistory as `now`).
  core::Timestamp started_at() const;

  void Shutdown();

 private:
  class Impl;
  explicit DemoServices(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes `history` (the demo: 30 days) of plausible history before `now` into the store of
// config.storage.data_dir, so that the SLO windows are full from the first minute: every check
// that `locations` run,
// one probe result per minute (probe_success, probe_duration_seconds), and the services'
// http_requests_total counters, with a few past incidents (a 25-minute eu-west-1 outage 12 days
// ago, a 6-minute us-east-1 one 3 days ago, ap-southeast-2 error bursts) and the first two
// minutes of the scripted eu-west-1 outage when `now` is DemoServices::started_at(). Only on first start:
// a data dir that has it (marker file demo-history) is left alone. Must run before the engine
// opens the store. Errors: the store's.
core::Status SeedDemoHistory(const Config& config, const std::vector<std::string>& locations,
                             core::Timestamp now, core::Duration history);

}  // namespace nines::app

#endif  // NINES_APP_DEMO_H_
