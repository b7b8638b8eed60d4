#include "app/engine.h"

#include <fcntl.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/file.h>
#include <unistd.h>

#include <prometheus/metric_family.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "alerting/alerting.h"
#include "api/api.h"
#include "app/check.h"
#include "app/engine_alerting.h"
#include "app/rule_files.h"
#include "collector/agent.h"
#include "collector/probe_engine.h"
#include "collector/scrape_manager.h"
#include "core/log.h"
#include "net/net.h"
#include "remote/remote.h"
#include "rules/alerts.h"
#include "rules/evaluator.h"
#include "rules/manager.h"
#include "store/store.h"

namespace nines::app {
namespace {

net::ServerOptions ToServerOptions(const ServerConfig& c) {
  net::ServerOptions o;
  o.listen = c.listen;
  o.threads = c.threads;
  o.max_connections = c.max_connections;
  o.max_body_bytes = static_cast<size_t>(c.max_body_bytes);
  o.max_header_bytes = static_cast<size_t>(c.max_header_bytes);
  o.header_timeout = c.header_timeout;
  o.body_timeout = c.body_timeout;
  o.idle_timeout = c.idle_timeout;
  o.shutdown_timeout = c.shutdown_timeout;
  o.tls.cert_file = c.tls.cert_file;
  o.tls.key_file = c.tls.key_file;
  o.write_tokens = c.auth.write_tokens;
  o.admin_tokens = c.auth.admin_tokens;
  o.access_log = c.access_log;
  return o;
}

// Names the settings that differ between `a` and `b` but only take effect after a restart.
std::vector<std::string> RestartOnlyChanges(const Config& a, const Config& b) {
  std::vector<std::string> changed;
  auto check = [&](bool same, const char* name) {
    if (!same) changed.emplace_back(name);
  };
  const ServerConfig& x = a.server;
  const ServerConfig& y = b.server;
  check(x.listen == y.listen, "server.listen");
  check(x.threads == y.threads, "server.threads");
  check(x.max_connections == y.max_connections, "server.max_connections");
  check(x.max_body_bytes == y.max_body_bytes, "server.max_body_bytes");
  check(x.max_header_bytes == y.max_header_bytes, "server.max_header_bytes");
  check(x.header_timeout == y.header_timeout, "server.header_timeout");
  check(x.body_timeout == y.body_timeout, "server.body_timeout");
  check(x.idle_timeout == y.idle_timeout, "server.idle_timeout");
  check(x.shutdown_timeout == y.shutdown_timeout, "server.shutdown_timeout");
  check(x.access_log == y.access_log, "server.access_log");
  check(x.tls.cert_file == y.tls.cert_file && x.tls.key_file == y.tls.key_file, "server.tls");
  check(a.storage.data_dir == b.storage.data_dir, "storage.data_dir");
  check(a.slo.evaluation_interval == b.slo.evaluation_interval, "slo.evaluation_interval");
  check(a.slo.agent_down_after == b.slo.agent_down_after, "slo.agent_down_after");
  check(a.slo.no_data_resolve_after == b.slo.no_data_resolve_after, "slo.no_data_resolve_after");
  check(a.alerting.routing == b.alerting.routing,
        "alerting (its Alertmanager config turned on or off)");
  check(a.alerting.external_url == b.alerting.external_url, "alerting.external_url");
  auto targets = [](const AlertingConfig& c) {
    std::vector<std::tuple<std::string, std::string, core::Duration>> out;
    for (const AlertmanagerPushConfig& t : c.alertmanagers) {
      out.emplace_back(t.url, t.bearer_token, t.timeout);
    }
    return out;
  };
  check(targets(a.alerting) == targets(b.alerting), "alerting.alertmanagers");
  check(a.storage.out_of_order_window == b.storage.out_of_order_window &&
            a.storage.future_tolerance == b.storage.future_tolerance &&
            a.storage.self_scrape_interval == b.storage.self_scrape_interval &&
            a.storage.sync == b.storage.sync && a.storage.raw_retention == b.storage.raw_retention &&
            a.storage.rollup_1m_retention == b.storage.rollup_1m_retention &&
            a.storage.rollup_1h_retention == b.storage.rollup_1h_retention,
        "storage");
  return changed;
}

// Appends every sample of `families` (nines' own registry) to `app` at `t_ms`, named as the text
// format names them (histograms as _bucket{le}, _sum, _count) with `extra` labels added.
void AppendFamilies(const std::vector<prometheus::MetricFamily>& families,
                    const std::vector<core::Label>& extra, int64_t t_ms, store::Appender& app) {
  auto add = [&](const std::string& name, const prometheus::ClientMetric& m,
                 const core::Label* more, double v) {
    core::Labels::Builder b;
    b.Set(core::kMetricNameLabel, name);
    for (const auto& l : m.label) b.Set(l.name, l.value);
    for (const core::Label& l : extra) b.Set(l.name, l.value);
    if (more != nullptr) b.Set(more->name, more->value);
    auto labels = b.Build();
    // A sample the store refuses is one self-metric point lost, not a reason to stop.
    if (labels.ok()) app.Append(*labels, t_ms, v).IgnoreError();
  };
  for (const prometheus::MetricFamily& f : families) {
    for (const prometheus::ClientMetric& m : f.metric) {
      switch (f.type) {
        case prometheus::MetricType::Counter:
          add(f.name, m, nullptr, m.counter.value);
          break;
        case prometheus::MetricType::Gauge:
          add(f.name, m, nullptr, m.gauge.value);
          break;
        case prometheus::MetricType::Untyped:
          add(f.name, m, nullptr, m.untyped.value);
          break;
        case prometheus::MetricType::Histogram:
          for (const auto& bucket : m.histogram.bucket) {
            core::Label le{"le", bucket.upper_bound == std::numeric_limits<double>::infinity()
                                     ? "+Inf"
                                     : fmt::format("{}", bucket.upper_bound)};
            add(f.name + "_bucket", m, &le, static_cast<double>(bucket.cumulative_count));
          }
          add(f.name + "_sum", m, nullptr, m.histogram.sample_sum);
          add(f.name + "_count", m, nullptr, static_cast<double>(m.histogram.sample_count));
          break;
        case prometheus::MetricType::Summary:
          for (const auto& q : m.summary.quantile) {
            core::Label quantile{"quantile", fmt::format("{}", q.quantile)};
            add(f.name, m, &quantile, q.value);
          }
          add(f.name + "_sum", m, nullptr, m.summary.sample_sum);
          add(f.name + "_count", m, nullptr, static_cast<double>(m.summary.sample_count));
          break;
      }
    }
  }
}

}  // namespace

class Engine::Impl {
 public:
  Impl(EngineOptions options, core::Clock& clock)
      : config_path_(std::move(options.config_path)),
        mode_(std::move(options.mode)),
        extra_routes_(std::move(options.extra_routes)),
        clock_(clock),
        config_(std::move(options.config)),
        registry_(std::make_shared<prometheus::Registry>()),
        alerting_(std::make_unique<EngineAlerting>(clock, registry_.get())) {}

  ~Impl() {
    Shutdown();
    if (lock_fd_ >= 0) close(lock_fd_);
  }

  core::Status Init() {
    RETURN_IF_ERROR(LockDataDir());
    auto& build_info = prometheus::BuildGauge()
                           .Name("nines_build_info")
                           .Help("Always 1; the labels tell the running version.")
                           .Register(*registry_);
    build_info.Add({{"version", NINES_VERSION}, {"mode", mode_}}).Set(1);
    auto& reload_ok = prometheus::BuildGauge()
                          .Name("nines_config_last_reload_successful")
                          .Help("Whether the last configuration load succeeded (1) or not (0).")
                          .Register(*registry_);
    reload_ok_ = &reload_ok.Add({});
    reload_ok_->Set(1);
    auto& reload_ts = prometheus::BuildGauge()
                          .Name("nines_config_last_reload_success_timestamp_seconds")
                          .Help("When the configuration was last loaded successfully.")
                          .Register(*registry_);
    reload_ts_ = &reload_ts.Add({});
    reload_ts_->Set(clock_.Now().UnixSecondsDouble());
    evaluations_ = &prometheus::BuildCounter()
                        .Name("nines_rule_evaluations_total")
                        .Help("Evaluations of every SLO and alert rule run so far (one per "
                              "slo.evaluation_interval).")
                        .Register(*registry_)
                        .Add({});

    store::StoreOptions store_options;
    store_options.dir = (std::filesystem::path(config_.storage.data_dir) / "tsdb").string();
    store_options.out_of_order_window = config_.storage.out_of_order_window;
    store_options.future_tolerance = config_.storage.future_tolerance;
    store_options.sync = config_.storage.sync;
    store_options.raw_retention = config_.storage.raw_retention;
    store_options.rollup_1m_retention = config_.storage.rollup_1m_retention;
    store_options.rollup_1h_retention = config_.storage.rollup_1h_retention;
    store_options.registry = registry_;
    ASSIGN_OR_RETURN(store_, store::OpenStore(store_options, clock_));

    RETURN_IF_ERROR(StartRules());

    net::Router router;
    api::EngineRoutes routes;
    routes.store = store_.get();
    routes.clock = &clock_;
    routes.slos = [this] { return slo_eval_->Snapshot(); };
    routes.alerts = [this] { return alerts_->Alerts(); };
    routes.targets = [this] {
      return scrapes_ ? scrapes_->Targets() : std::vector<collector::ScrapeTargetStatus>{};
    };
    routes.landing_page = [this] { return LandingPageNow(); };
    routes.reload = [this] { return Reload(); };
    api::RegisterEngineRoutes(router, std::move(routes));
    alerting_->RegisterRoutes(config_, router);
    if (extra_routes_) extra_routes_(router);
    // Decoded bodies may be several times the compressed request; cap them at 8x the body limit.
    router.Handle("POST", "/api/v1/write", net::Access::kWrite,
                  remote::RemoteWriteHandler([this] { return store_->NewAppender(); }, registry_,
                                             static_cast<size_t>(config_.server.max_body_bytes) * 8));

    // Everything the routes read (probes_, scrapes_) exists before the server serves them.
    RETURN_IF_ERROR(StartLocalProbes());
    ASSIGN_OR_RETURN(server_, net::Server::Start(ToServerOptions(config_.server),
                                                 std::move(router), clock_, registry_));
    scheme_ = config_.server.tls.enabled() ? "https" : "http";
    // Before the rule loop: its first alerts reach the receivers.
    RETURN_IF_ERROR(alerting_->Start(config_, url()));
    if (config_.storage.self_scrape_interval > core::Duration::Zero()) {
      self_scrape_ = std::thread([this, interval = config_.storage.self_scrape_interval] {
        SelfScrapeLoop(interval);
      });
    }
    // The interval is read here, not by the thread: a reload may replace config_ meanwhile
    // (slo.evaluation_interval takes effect at a restart).
    rule_loop_ = std::thread([this, interval = config_.slo.evaluation_interval] {
      RuleLoop(interval);
    });
    server_->SetReady(true);
    return core::Status::Ok();
  }

  std::string url() const { return fmt::format("{}://{}", scheme_, server_->address()); }

  // Rereads the config and everything it names. All-or-nothing: PrepareReload reads and
  // validates every part (config, rule files, tokens, checks, scrape targets) without changing
  // anything; only then does ApplyReload, which cannot fail, put them all in force.
  core::Status Reload() {
    std::lock_guard<std::mutex> reload_lock(reload_mu_);
    if (config_path_.empty()) {
      return core::FailedPreconditionError(
          "no config file to reload: nines was started with its built-in configuration");
    }
    core::Result<ReloadPlan> plan = PrepareReload();
    if (!plan.ok()) {
      reload_ok_->Set(0);
      return plan.status();
    }
    ApplyReload(*std::move(plan));
    reload_ok_->Set(1);
    reload_ts_->Set(clock_.Now().UnixSecondsDouble());
    LOG_INFO("configuration reloaded from {}", config_path_);
    return core::Status::Ok();
  }

  // Stops the server (in-flight requests, writes included, finish) and the self-scrape, then
  // closes the store.
  void Shutdown() {
    if (server_) server_->Shutdown();
    if (scrapes_) scrapes_->Stop();
    if (probes_) probes_->Stop();
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (self_scrape_.joinable()) self_scrape_.join();
    if (rule_loop_.joinable()) rule_loop_.join();
    alerting_->Stop();
    store_.reset();
  }

 private:
  // Everything a reload changes, read and validated (see Reload).
  struct ReloadPlan {
    Config config;  // with the tokens its token files held
    rules::RuleSet rules;
    std::vector<collector::CheckSpec> checks;                          // for probes_
    std::optional<collector::ScrapeManager::PreparedTargets> scrapes;  // for scrapes_
    std::shared_ptr<EngineAlerting::Prepared> alerting;                // for alerting_
  };

  // Marks the reload failed (nines_config_last_reload_successful 0: set before the log, so that
  // whoever reads the log line reads the metric too), logs `errors`, then `summary`, and returns
  // them as one INVALID_ARGUMENT ("file:line:col: message" per line).
  core::Status ReloadErrors(const std::vector<ConfigError>& errors,
                            const std::string& summary) const {
    reload_ok_->Set(0);
    for (const ConfigError& e : errors) LOG_ERROR("reload: {}", e.ToString());
    LOG_ERROR("{}", summary);
    return core::InvalidArgumentError(JoinErrors(errors));
  }

  // Reads and validates everything a reload changes; changes nothing but, on failure, the
  // reload-failed gauge.
  core::Result<ReloadPlan> PrepareReload() const {
    ReloadPlan plan;
    // The config, with its token files (read and checked by the parser: a missing or empty
    // token file, a bad check target are config errors).
    std::vector<ConfigError> errors = LoadConfigFile(config_path_, &plan.config);
    if (!errors.empty()) {
      return ReloadErrors(errors, fmt::format("reload of {} failed with {} error(s); the previous "
                                              "configuration stays in force",
                                              config_path_, errors.size()));
    }
    errors = LoadRuleFiles(plan.config.rule_files, plan.config.rule_files_dir,
                           RuleFileDefaultsFrom(plan.config, config_path_), &plan.rules);
    if (!errors.empty()) {
      return ReloadErrors(errors, fmt::format("reload of {}: {} rule file error(s); the previous "
                                              "configuration and rules stay in force",
                                              config_path_, errors.size()));
    }
    core::Result<std::shared_ptr<EngineAlerting::Prepared>> alerting =
        alerting_->Prepare(plan.config);
    if (!alerting.ok()) {
      reload_ok_->Set(0);
      LOG_ERROR("reload: {}; the previous configuration stays in force",
                alerting.status().ToString());
      return alerting.status();
    }
    plan.alerting = *std::move(alerting);
    // The location is fixed at start, as the probes and scrapes that run here are.
    const std::string location = CurrentConfig().collector.location;
    if (probes_) plan.checks = ChecksForLocation(plan.config, location);
    if (scrapes_) {
      auto prepared = scrapes_->PrepareTargets(ScrapesForLocation(plan.config, location));
      if (!prepared.ok()) {
        reload_ok_->Set(0);
        LOG_ERROR("reload: {}; the previous configuration stays in force",
                  prepared.status().ToString());
        return prepared.status();
      }
      plan.scrapes.emplace(*std::move(prepared));
    }
    return plan;
  }

  // Puts a prepared reload in force. Cannot fail.
  void ApplyReload(ReloadPlan plan) {
    for (const std::string& field : RestartOnlyChanges(CurrentConfig(), plan.config)) {
      LOG_WARNING("reload: {} changed; it takes effect after a restart", field);
    }
    server_->UpdateTokens(plan.config.server.auth.write_tokens,
                          plan.config.server.auth.admin_tokens);
    if (scrapes_ && plan.scrapes) scrapes_->ApplyTargets(*std::move(plan.scrapes));
    if (probes_) probes_->SetChecks(std::move(plan.checks));
    ApplyRules(std::move(plan.rules));
    alerting_->Apply(std::move(plan.alerting));
    core::SetLogLevel(plan.config.log.level);
    std::lock_guard<std::mutex> lock(config_mu_);
    config_ = std::move(plan.config);
  }

  Config CurrentConfig() const {
    std::lock_guard<std::mutex> lock(config_mu_);
    return config_;
  }

  // With collector.location set, this process probes and scrapes too (a one-box setup): the
  // checks and scrape targets of that location run here and their results go straight into the
  // store.
  core::Status StartLocalProbes() {
    const std::string& location = config_.collector.location;
    if (location.empty()) return core::Status::Ok();
    collector::ProbeEngineOptions po;
    po.max_concurrency = config_.collector.max_concurrency;
    po.threads = config_.collector.threads;
    po.registry = registry_.get();
    probes_ = std::make_unique<collector::ProbeEngine>(
        po, clock_,
        [this](const collector::CheckSpec& c, const collector::ProbeResult& r, core::Timestamp due) {
          auto app = store_->NewAppender();
          core::Status s = collector::AppendProbeResult(c, r, due, *app);
          if (s.ok()) s = app->Commit().status();
          if (!s.ok()) LOG_WARNING("check {}: storing its result: {}", c.name, s.ToString());
        });
    std::vector<collector::CheckSpec> checks = ChecksForLocation(config_, location);
    LOG_INFO("probing {} checks from {}", checks.size(), location);
    WarnIfIcmpNotPermitted(checks);
    probes_->SetChecks(std::move(checks));
    probes_->Start();

    collector::ScrapeManagerOptions so;
    so.registry = registry_.get();
    scrapes_ = std::make_unique<collector::ScrapeManager>(so, clock_,
                                                          [this] { return store_->NewAppender(); });
    std::vector<collector::ScrapeSpec> targets = ScrapesForLocation(config_, location);
    if (!targets.empty()) LOG_INFO("scraping {} targets from {}", targets.size(), location);
    RETURN_IF_ERROR(scrapes_->SetTargets(std::move(targets)));
    scrapes_->Start();
    return core::Status::Ok();
  }

  // The rule files' SLOs and alerts: evaluated every slo.evaluation_interval by RuleLoop, their
  // state served at /api/v1/slos and /api/v1/alerts, alert state kept in
  // <data_dir>/alerts.state across restarts. Broken rule files fail the start.
  core::Status StartRules() {
    rules::RuleSet rule_set;
    std::vector<ConfigError> errors =
        LoadRuleFiles(config_.rule_files, config_.rule_files_dir,
                      RuleFileDefaultsFrom(config_, config_path_), &rule_set);
    if (!errors.empty()) return core::InvalidArgumentError(JoinErrors(errors));
    rules::SloEvaluatorOptions eo;
    eo.interval = config_.slo.evaluation_interval;
    eo.agent_down_after = config_.slo.agent_down_after;
    slo_eval_ = std::make_unique<rules::SloEvaluator>(
        *store_, [this] { return store_->NewAppender(); }, eo);
    rules::AlertTrackerOptions ao;
    ao.state_file = (std::filesystem::path(config_.storage.data_dir) / "alerts.state").string();
    ao.sync = config_.storage.sync;
    ao.no_data_resolve_after = config_.slo.no_data_resolve_after;
    alerts_ = std::make_unique<rules::AlertTracker>(ao);
    if (core::Status s = alerts_->Load(); !s.ok()) {
      LOG_ERROR("alert state: {}; starting with no alerts", s.ToString());
    }
    rules::RuleManagerOptions mo;
    mo.interval = config_.slo.evaluation_interval;
    mo.agent_down_after = config_.slo.agent_down_after;
    mo.no_data_resolve_after = config_.slo.no_data_resolve_after;
    rule_manager_ = std::make_unique<rules::RuleManager>(*store_, *slo_eval_, *alerts_,
                                                         alerting_->sink(),
                                                         clock_.Now(), mo);
    ApplyRules(std::move(rule_set));
    return core::Status::Ok();
  }

  void ApplyRules(rules::RuleSet rule_set) {
    LOG_INFO("rules: {} SLOs, {} alert rules", rule_set.slos.size(), rule_set.alerts.size());
    rule_manager_->SetRules(std::move(rule_set), clock_.Now());
  }

  // One evaluation of every rule at `now`; what failed is logged (a failed rule's alerts are
  // left as they were, see rules::RuleManager).
  void EvaluateRules(core::Timestamp now) {
    rules::RuleEvaluation result = rule_manager_->EvaluateOnce(now);
    if (!result.slos.ok()) LOG_WARNING("slo evaluation: {}", result.slos.ToString());
    for (const rules::RuleError& e : result.errors) {
      switch (e.kind) {
        case rules::RuleKind::kSlo:  // logged by the SloEvaluator, with its evaluation time
          break;
        case rules::RuleKind::kAgents:
          LOG_WARNING("agent heartbeats: {}", e.status.ToString());
          break;
        case rules::RuleKind::kAlert:
          LOG_WARNING("alert rule {}: {}", e.name, e.status.ToString());
          break;
      }
    }
    if (!result.alert_state.ok()) LOG_ERROR("alert state: {}", result.alert_state.ToString());
    evaluations_->Increment();
  }

  void RuleLoop(core::Duration interval) {
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stopping_) {
      lock.unlock();
      EvaluateRules(clock_.Now());
      lock.lock();
      stop_cv_.wait_for(lock, interval.ToChrono(), [this] { return stopping_; });
    }
  }

  // Writes the registry into the store every `interval` (real time), stamped by clock_.
  void SelfScrapeLoop(core::Duration interval) {
    const std::vector<core::Label> extra = {{"job", "nines"}, {"instance", server_->address()}};
    std::unique_lock<std::mutex> lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, interval.ToChrono(), [this] { return stopping_; })) {
      lock.unlock();
      auto app = store_->NewAppender();
      AppendFamilies(registry_->Collect(), extra, clock_.Now().UnixMillis(), *app);
      auto committed = app->Commit();
      if (!committed.ok()) LOG_WARNING("self-scrape: {}", committed.status().ToString());
      lock.lock();
    }
  }

  core::Status LockDataDir() {
    namespace fs = std::filesystem;
    const std::string& dir = config_.storage.data_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return core::FailedPreconditionError("storage.data_dir \"{}\": cannot create: {}", dir,
                                           ec.message());
    }
    std::string lock_path = (fs::path(dir) / "nines.lock").string();
    lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) {
      return core::FailedPreconditionError("storage.data_dir \"{}\": cannot open {}: {}", dir,
                                           lock_path, std::strerror(errno));
    }
    if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return core::FailedPreconditionError(
          "storage.data_dir \"{}\" is in use by another nines process (lock {} is held)", dir,
          lock_path);
    }
    return core::Status::Ok();
  }

  // What GET / shows: the current config's objective and regions.
  api::LandingPage LandingPageNow() const {
    Config config = CurrentConfig();
    api::LandingPage page;
    page.mode = mode_;
    page.default_objective = config.slo.default_objective;
    page.default_window = config.slo.default_window;
    for (const RegionConfig& r : config.regions) {
      page.regions.push_back({r.name, r.display_name, r.locations});
    }
    return page;
  }

  const std::string config_path_;
  const std::string mode_;
  const std::function<void(net::Router&)> extra_routes_;
  core::Clock& clock_;
  mutable std::mutex config_mu_;
  Config config_;
  std::mutex reload_mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* reload_ok_ = nullptr;
  prometheus::Gauge* reload_ts_ = nullptr;
  prometheus::Counter* evaluations_ = nullptr;
  // The rule engine's sink and the alerting service; declared before server_ (whose API v2
  // routes read it) and rule_manager_ (which sends to it): outlives both.
  std::unique_ptr<EngineAlerting> alerting_;
  std::unique_ptr<store::Store> store_;    // declared before server_: destroyed after it
  std::unique_ptr<net::Server> server_;
  std::unique_ptr<collector::ProbeEngine> probes_;      // when collector.location is set
  std::unique_ptr<collector::ScrapeManager> scrapes_;  // likewise
  std::string scheme_;  // fixed at Init: TLS changes need a restart
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread self_scrape_;
  std::unique_ptr<rules::SloEvaluator> slo_eval_;
  std::unique_ptr<rules::AlertTracker> alerts_;
  std::unique_ptr<rules::RuleManager> rule_manager_;
  std::thread rule_loop_;
  int lock_fd_ = -1;
};

core::Result<std::unique_ptr<Engine>> Engine::Start(EngineOptions options, core::Clock& clock) {
  auto impl = std::make_unique<Impl>(std::move(options), clock);
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;
std::string Engine::url() const { return impl_->url(); }
core::Status Engine::Reload() { return impl_->Reload(); }
void Engine::Shutdown() { impl_->Shutdown(); }

}  // namespace nines::app
