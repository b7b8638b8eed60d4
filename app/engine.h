// Engine: the running nines server, wired from a Config. The only place that knows concrete
// classes; `nines serve` and `nines demo` both run one.
//
// Owns the metrics registry, the HTTP server and the data directory lock. Thread-safe: Reload
// may run on the signal thread or an admin request's handler while requests are served.
#ifndef NINES_APP_ENGINE_H_
#define NINES_APP_ENGINE_H_

#include <functional>
#include <memory>
#include <string>

#include "app/config.h"
#include "core/clock.h"
#include "core/status.h"

namespace nines::net {
class Router;
}  // namespace nines::net

namespace nines::app {

struct EngineOptions {
  Config config;
  // The file `config` came from, reread by Reload(); empty for built-in configs (demo, defaults).
  std::string config_path;
  // Shown on the landing page and in logs: "serve" or "demo".
  std::string mode = "serve";
  // Registers routes of the caller's on the engine's server (the demo's pager); may be empty.
  // What they use must outlive the engine.
  std::function<void(net::Router&)> extra_routes;
};

class Engine {
 public:
  // Creates the data directory, takes its lock, and starts serving.
  // Errors: FAILED_PRECONDITION when the data directory cannot be created or is locked by another
  // nines; those of net::Server::Start (bad address, port in use, unusable TLS files).
  static core::Result<std::unique_ptr<Engine>> Start(EngineOptions options, core::Clock& clock);

  ~Engine();

  // "http://127.0.0.1:9099" (https when TLS is on), with the bound port.
  std::string url() const;

  // Rereads the config file and what it names (rule files, token files), all or nothing: the
  // config, rule files, tokens, checks and scrape targets are all read and validated before any
  // of them is applied, so a failure anywhere changes nothing: the errors are logged, returned
  // (one "file:line:col: message" per line) and nines_config_last_reload_successful becomes 0.
  // Otherwise tokens, checks, scrape targets, rules and the log level apply at once; settings
  // that need a restart (listen address, threads, limits, TLS, data dir) are logged as such.
  core::Status Reload();

  // Stops serving gracefully (in-flight requests finish). Idempotent.
  void Shutdown();

 private:
  class Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nines::app

#endif  // NINES_APP_ENGINE_H_
