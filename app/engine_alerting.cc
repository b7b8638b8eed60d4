#include "app/engine_alerting.h"

#include <filesystem>
#include <mutex>
#include <utility>
#include <vector>

#include "alerting/alertmanager_push.h"
#include "alerting/service.h"
#include "api/alertmanager_api.h"
#include "core/log.h"

namespace nines::app {

struct EngineAlerting::Prepared {
  alerting::AlertmanagerConfig config;
  std::string original_yaml;
  std::shared_ptr<const alerting::TemplateSet> templates;
};

namespace {

// The rule engine's one sink: the log always, then whatever Start added.
class FanoutSink final : public alerting::AlertSink {
 public:
  void Send(const std::vector<alerting::Alert>& alerts) override {
    log_.Send(alerts);
    std::lock_guard<std::mutex> lock(mu_);
    for (alerting::AlertSink* s : sinks_) s->Send(alerts);
  }

  void Set(std::vector<alerting::AlertSink*> sinks) {
    std::lock_guard<std::mutex> lock(mu_);
    sinks_ = std::move(sinks);
  }

 private:
  alerting::LogAlertSink log_;
  std::mutex mu_;
  std::vector<alerting::AlertSink*> sinks_;  // guarded by mu_
};

// The templates a routing configuration's text fields render with: the set its parser built
// (nines' built-ins and the `templates:` files), or the built-ins alone.
core::Result<std::shared_ptr<const alerting::TemplateSet>> TemplatesFor(
    const AlertingConfig& config) {
  if (config.templates) return config.templates;
  return std::make_shared<const alerting::TemplateSet>();
}

}  // namespace

class EngineAlerting::Impl {
 public:
  Impl(core::Clock& clock, prometheus::Registry* registry) : clock_(clock), registry_(registry) {}

  core::Status Start(const Config& config, const std::string& server_url) {
    const AlertingConfig& a = config.alerting;
    std::vector<alerting::AlertSink*> sinks;
    SetOriginal(a.original_yaml);
    if (a.routing) {
      alerting::AlertingServiceOptions o;
      o.config = a.alertmanager;
      ASSIGN_OR_RETURN(o.templates, TemplatesFor(a));
      o.external_url = a.external_url.empty() ? server_url : a.external_url;
      o.state_dir = (std::filesystem::path(config.storage.data_dir) / "alerting").string();
      o.registry = registry_;
      ASSIGN_OR_RETURN(std::unique_ptr<alerting::AlertingService> service,
                       alerting::AlertingService::Start(std::move(o), clock_));
      {
        std::lock_guard<std::mutex> lock(mu_);
        service_ = std::shared_ptr<alerting::AlertingService>(std::move(service));
      }
      sinks.push_back(service_.get());
      LOG_INFO("alerting: {} receiver(s){}", a.alertmanager.receivers.size(),
               a.config_file.empty() ? "" : " from " + a.config_file);
    }
    for (const AlertmanagerPushConfig& target : a.alertmanagers) {
      alerting::AlertmanagerPushOptions po;
      po.urls = {target.url};
      po.timeout = target.timeout;
      po.bearer_token = target.bearer_token;
      po.clock = &clock_;
      po.registry = registry_;
      ASSIGN_OR_RETURN(std::unique_ptr<alerting::AlertmanagerNotifier> notifier,
                       alerting::AlertmanagerNotifier::Create(std::move(po)));
      auto queue = std::make_unique<alerting::QueueingAlertSink>(*notifier);
      sinks.push_back(queue.get());
      pushers_.push_back({std::move(notifier), std::move(queue)});
      LOG_INFO("alerting: pushing alerts to the Alertmanager at {}", target.url);
    }
    fanout_.Set(std::move(sinks));
    return core::Status::Ok();
  }

  core::Result<std::shared_ptr<Prepared>> Prepare(const Config& config) const {
    auto prepared = std::make_shared<Prepared>();
    prepared->config = config.alerting.alertmanager;
    prepared->original_yaml = config.alerting.original_yaml;
    ASSIGN_OR_RETURN(prepared->templates, TemplatesFor(config.alerting));
    return prepared;
  }

  void Apply(std::shared_ptr<Prepared> prepared) {
    std::shared_ptr<alerting::AlertingService> running = service();
    if (running == nullptr || prepared == nullptr) return;
    SetOriginal(prepared->original_yaml);
    running->Reload(std::move(prepared->config), std::move(prepared->templates));
  }

  void Stop() {
    fanout_.Set({});
    for (Pusher& p : pushers_) p.queue->Stop();
    pushers_.clear();
    std::shared_ptr<alerting::AlertingService> s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = std::move(service_);
    }
    if (s) s->Stop(core::Duration::Seconds(5));
  }

  // The running service, or null (not started, stopped, or no routing configured).
  std::shared_ptr<alerting::AlertingService> service() const {
    std::lock_guard<std::mutex> lock(mu_);
    return service_;
  }

  alerting::AlertSink& sink() { return fanout_; }
  core::Clock& clock() { return clock_; }
  core::Timestamp started_at() const { return started_at_; }

  std::string original() const {
    std::lock_guard<std::mutex> lock(mu_);
    return original_yaml_;
  }

 private:
  struct Pusher {
    std::unique_ptr<alerting::AlertmanagerNotifier> notifier;
    std::unique_ptr<alerting::QueueingAlertSink> queue;  // in front of notifier
  };

  void SetOriginal(std::string yaml) {
    std::lock_guard<std::mutex> lock(mu_);
    original_yaml_ = std::move(yaml);
  }

  core::Clock& clock_;
  const core::Timestamp started_at_ = clock_.Now();
  prometheus::Registry* const registry_;
  FanoutSink fanout_;
  mutable std::mutex mu_;
  std::shared_ptr<alerting::AlertingService> service_;  // guarded by mu_
  std::string original_yaml_;                           // guarded by mu_
  std::vector<Pusher> pushers_;
};

namespace {

// Alertmanager's API v2 answered from the running service; the routes exist before the service
// starts (the server must serve before the service knows its URL), so until then, and after it
// stopped, Ready() and Receive() are UNAVAILABLE and the routes answer 503 (POSTed alerts are not
// taken: the client sends them again).
class LazyServiceBackend final : public api::AlertmanagerBackend {
 public:
  LazyServiceBackend(std::function<std::shared_ptr<alerting::AlertingService>()> get,
                     std::function<api::AlertmanagerStatusInfo()> status)
      : get_(std::move(get)), status_(std::move(status)) {}

  std::vector<alerting::AlertView> Alerts() const override {
    return With([](auto& s) { return s.Alerts(); }, std::vector<alerting::AlertView>{});
  }
  std::vector<alerting::Dispatcher::GroupView> Groups() const override {
    return With([](auto& s) { return s.Groups(); }, std::vector<alerting::Dispatcher::GroupView>{});
  }
  std::vector<alerting::Silence> Silences() const override {
    return With([](auto& s) { return s.silences().List(); }, std::vector<alerting::Silence>{});
  }
  core::Result<std::string> AddSilence(alerting::Silence silence) override {
    return With([&](auto& s) { return s.AddSilence(std::move(silence)); },
                core::Result<std::string>(NotRunning()));
  }
  core::Status ExpireSilence(const std::string& id) override {
    return With([&](auto& s) { return s.ExpireSilence(id); }, NotRunning());
  }
  std::vector<std::string> ReceiverNames() const override {
    return With([](auto& s) { return s.ReceiverNames(); }, std::vector<std::string>{});
  }
  api::AlertmanagerStatusInfo StatusInfo() const override { return status_(); }
  core::Status Receive(std::vector<alerting::Alert> alerts) override {
    return With(
        [&](auto& s) {
          s.Send(alerts);
          return core::Status::Ok();
        },
        NotRunning());
  }
  core::Status Ready() const override {
    return With([](auto&) { return core::Status::Ok(); }, NotRunning());
  }

 private:
  // f(the running service), or `otherwise` when no service runs.
  template <typename F, typename T>
  T With(F f, T otherwise) const {
    std::shared_ptr<alerting::AlertingService> s = get_();
    if (s == nullptr) return otherwise;
    return f(*s);
  }
  static core::Status NotRunning() {
    return core::UnavailableError("the alerting service is not running (starting or stopping)");
  }

  const std::function<std::shared_ptr<alerting::AlertingService>()> get_;
  const std::function<api::AlertmanagerStatusInfo()> status_;
};

}  // namespace

void EngineAlerting::RegisterRoutes(const Config& config, net::Router& router) {
  if (!config.alerting.routing) return;
  Impl* impl = impl_.get();
  backend_ = std::make_unique<LazyServiceBackend>([impl] { return impl->service(); },
                                                  [impl] {
                                                    api::AlertmanagerStatusInfo info;
                                                    info.config_original = impl->original();
                                                    info.started_at = impl->started_at();
                                                    return info;
                                                  });
  api::RegisterAlertmanagerRoutes(router, *backend_, impl->clock());
}

EngineAlerting::EngineAlerting(core::Clock& clock, prometheus::Registry* registry)
    : impl_(std::make_unique<Impl>(clock, registry)) {}
EngineAlerting::~EngineAlerting() { Stop(); }
alerting::AlertSink& EngineAlerting::sink() { return impl_->sink(); }
core::Status EngineAlerting::Start(const Config& config, const std::string& server_url) {
  return impl_->Start(config, server_url);
}
core::Result<std::shared_ptr<EngineAlerting::Prepared>> EngineAlerting::Prepare(
    const Config& config) const {
  return impl_->Prepare(config);
}
void EngineAlerting::Apply(std::shared_ptr<Prepared> prepared) {
  impl_->Apply(std::move(prepared));
}
void EngineAlerting::Stop() { impl_->Stop(); }

}  // namespace nines::app
