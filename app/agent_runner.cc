#include "app/agent_runner.h"

#include <fmt/format.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "api/api.h"
#include "app/check.h"
#include "collector/agent.h"
#include "core/log.h"
#include "net/net.h"

namespace nines::app {

std::string RegionOfLocation(const Config& config, std::string_view location) {
  for (const RegionConfig& r : config.regions) {
    if (location.substr(0, r.name.size()) == r.name) return r.name;
  }
  for (const RegionConfig& r : config.regions) {
    if (std::find(r.locations.begin(), r.locations.end(), location) != r.locations.end()) {
      return r.name;
    }
  }
  return "";
}

class AgentRunner::Impl {
 public:
  Impl(AgentRunnerOptions options, core::Clock& clock)
      : config_path_(std::move(options.config_path)),
        config_(std::move(options.config)),
        clock_(clock),
        registry_(std::make_shared<prometheus::Registry>()) {}

  core::Status Init() {
    const std::string& location = config_.collector.location;
    if (location.empty()) {
      return core::InvalidArgumentError(
          "nines agent needs collector.location (where it probes from) in its config, or "
          "--location");
    }
    if (config_.agent.engine_url.empty()) {
      return core::InvalidArgumentError(
          "nines agent needs agent.engine_url (the engine's /api/v1/write) in its config, or "
          "--engine");
    }
    collector::AgentOptions o;
    o.location = location;
    o.region = RegionOfLocation(config_, location);
    o.engine_url = config_.agent.engine_url;
    o.bearer_token = config_.agent.bearer_token;
    o.tls_verify = config_.agent.tls_verify;
    o.ca_file = config_.agent.ca_file;
    o.cert_file = config_.agent.cert_file;
    o.key_file = config_.agent.key_file;
    o.queue_dir = config_.agent.queue_dir;
    o.queue_max_bytes = config_.agent.queue_max_bytes;
    o.flush_interval = config_.agent.flush_interval;
    o.max_send_bytes = config_.agent.max_send_bytes;
    o.send_timeout = config_.agent.send_timeout;
    o.heartbeat_interval = config_.agent.heartbeat_interval;
    o.probe.max_concurrency = config_.collector.max_concurrency;
    o.probe.threads = config_.collector.threads;
    o.registry = registry_;
    std::vector<collector::CheckSpec> checks = ChecksForLocation(config_, location);
    WarnIfIcmpNotPermitted(checks);
    const size_t check_count = checks.size();
    std::vector<collector::ScrapeSpec> scrapes = ScrapesForLocation(config_, location);
    const size_t scrape_count = scrapes.size();
    ASSIGN_OR_RETURN(agent_, collector::Agent::Start(o, std::move(checks), clock_));
    RETURN_IF_ERROR(agent_->SetScrapes(std::move(scrapes)));

    net::Router router;
    api::RegisterAgentRoutes(
        router, [this] { return agent_->Statuses(); }, [this] { return agent_->ScrapeTargets(); });
    net::ServerOptions so;
    so.listen = config_.agent.listen;
    so.threads = 1;
    so.access_log = false;
    ASSIGN_OR_RETURN(server_, net::Server::Start(so, std::move(router), clock_, registry_));
    server_->SetReady(true);
    LOG_INFO("agent at {} ({} checks, {} scrape targets) serving {}", location, check_count,
             scrape_count, url());
    return core::Status::Ok();
  }

  std::string url() const { return "http://" + server_->address(); }

  core::Status Reload() {
    std::lock_guard<std::mutex> lock(mu_);
    if (config_path_.empty()) {
      return core::FailedPreconditionError("no config file to reload");
    }
    Config next;
    std::vector<ConfigError> errors = LoadConfigFile(config_path_, &next);
    if (!errors.empty()) {
      for (const ConfigError& e : errors) LOG_ERROR("reload: {}", e.ToString());
      LOG_ERROR("reload of {} failed; the previous checks stay in force", config_path_);
      return core::InvalidArgumentError(JoinErrors(errors));
    }
    std::vector<collector::CheckSpec> checks =
        ChecksForLocation(next, config_.collector.location);
    std::vector<collector::ScrapeSpec> scrapes =
        ScrapesForLocation(next, config_.collector.location);
    LOG_INFO("reload: {} checks and {} scrape targets for {}", checks.size(), scrapes.size(),
             config_.collector.location);
    if (const std::vector<std::string> known = ConfiguredLocations(next);
        std::find(known.begin(), known.end(), config_.collector.location) == known.end()) {
      LOG_WARNING("reload: {} no longer names this agent's location {}; it runs nothing",
                  config_path_, config_.collector.location);
    }
    // Scrapes first: they are the part that can still be refused (Scraper::Create).
    RETURN_IF_ERROR(agent_->SetScrapes(std::move(scrapes)));
    agent_->SetChecks(std::move(checks));
    core::SetLogLevel(next.log.level);
    return core::Status::Ok();
  }

  void Shutdown() {
    if (server_) server_->Shutdown();
    if (agent_) agent_->Stop();
  }

 private:
  const std::string config_path_;
  const Config config_;  // as started; Reload only replaces the checks
  core::Clock& clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;
  std::unique_ptr<collector::Agent> agent_;
  std::unique_ptr<net::Server> server_;
};

core::Result<std::unique_ptr<AgentRunner>> AgentRunner::Start(AgentRunnerOptions options,
                                                              core::Clock& clock) {
  auto impl = std::make_unique<Impl>(std::move(options), clock);
  core::Status s = impl->Init();
  if (!s.ok()) {
    impl->Shutdown();
    return s;
  }
  return std::unique_ptr<AgentRunner>(new AgentRunner(std::move(impl)));
}

AgentRunner::AgentRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AgentRunner::~AgentRunner() {
  if (impl_) impl_->Shutdown();
}
std::string AgentRunner::url() const { return impl_->url(); }
core::Status AgentRunner::Reload() { return impl_->Reload(); }
void AgentRunner::Shutdown() { impl_->Shutdown(); }

}  // namespace nines::app
