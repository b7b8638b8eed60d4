// Private to app/engine.cc: the alerting of a running engine.
//
// The rule engine sends its alerts to sink(), which exists from construction and fans them out:
// always to nines' log (LogAlertSink), and, once Start has run with an `alerting:` section, to
// the alerting service (routing, grouping, silences, receivers, the notification log in
// <data_dir>/alerting) and to a queue per existing Alertmanager it pushes to. Alertmanager's API
// v2 (api/alertmanager_api.h) is served from the service.
//
// Reload: Prepare validates what a reload would change (nothing changes); Apply puts it in force
// and cannot fail. Turning alerting on or off, external_url and the Alertmanagers pushed to take
// effect at a restart (the engine logs that).
//
// Thread-safety: sink() and the API backend are thread-safe; Start, Apply and Stop are called by
// one thread at a time (the engine's start, reload and shutdown).
#ifndef NINES_APP_ENGINE_ALERTING_H_
#define NINES_APP_ENGINE_ALERTING_H_

#include <memory>
#include <string>

#include "alerting/alerting.h"
#include "app/config.h"
#include "core/clock.h"
#include "core/status.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::net {
class Router;
}  // namespace nines::net

namespace nines::api {
class AlertmanagerBackend;
}  // namespace nines::api

namespace nines::app {

class EngineAlerting {
 public:
  // `registry` (may be null) must outlive this.
  EngineAlerting(core::Clock& clock, prometheus::Registry* registry);
  ~EngineAlerting();  // Stop()
  EngineAlerting(const EngineAlerting&) = delete;
  EngineAlerting& operator=(const EngineAlerting&) = delete;

  // Where the rule engine sends its alerts. Never blocks.
  alerting::AlertSink& sink();

  // When `config` routes alerts itself (alerting.routing): registers Alertmanager's API v2 on
  // `router`, answered from the service while it runs. Before Start and after Stop every route but
  // GET /api/v2/status answers 503 (POST /api/v2/alerts takes nothing, so the sender retries).
  // The router's server must stop before this is destroyed.
  void RegisterRoutes(const Config& config, net::Router& router);

  // Starts what `config`'s `alerting:` asks for: the service (state in <data_dir>/alerting,
  // links to alerting.external_url, else `server_url`) and the Alertmanager pushers. Nothing
  // when the section is absent. Errors: the service's (unreadable state directory), an unusable
  // Alertmanager URL or TLS setting.
  core::Status Start(const Config& config, const std::string& server_url);

  // Validates what a reload to `config` changes in alerting (the routing configuration and its
  // templates). Errors: INVALID_ARGUMENT, one "file:line:col: message" per line.
  struct Prepared;
  core::Result<std::shared_ptr<Prepared>> Prepare(const Config& config) const;
  // Puts a prepared reload in force: routes, receivers, inhibition, time intervals and
  // templates (alerts, silences and the notification log are kept). Cannot fail.
  void Apply(std::shared_ptr<Prepared> prepared);

  // Stops the service (in-flight sends get a few seconds) and the pushers (they deliver what is
  // queued). The sink then only logs. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<api::AlertmanagerBackend> backend_;  // when RegisterRoutes registered the API
};

}  // namespace nines::app

#endif  // NINES_APP_ENGINE_ALERTING_H_
