// app/alerting_backend.h: the running alerting service as the backend of
// Alertmanager's API v2 (api/alertmanager_api.h), so amtool and Grafana read
// and change what the engine pages with.
//
// A thin adapter: alerts, groups and receivers come from AlertingService;
// silences are created and expired through it (so they are persisted); POSTed
// alerts go to its inbox (Send), as the rule engine's do, and show in GET
// /api/v2/alerts after its next cycle (Alertmanager's "unprocessed" window).
// Thread-safe as AlertingService is; the service must outlive it.
#ifndef NINES_APP_ALERTING_BACKEND_H_
#define NINES_APP_ALERTING_BACKEND_H_

#include <functional>
#include <string>
#include <vector>

#include "alerting/service.h"
#include "api/alertmanager_api.h"

namespace nines::app {

class AlertingServiceBackend final : public api::AlertmanagerBackend {
 public:
  // `status` gives GET /api/v2/status its config text (YAML, with secrets
  // already masked, as Alertmanager shows `<secret>`), start time and version;
  // it is called on each request and must be thread-safe.
  AlertingServiceBackend(alerting::AlertingService& service,
                         std::function<api::AlertmanagerStatusInfo()> status)
      : service_(service), status_(std::move(status)) {}

  std::vector<alerting::AlertView> Alerts() const override { return service_.Alerts(); }
  std::vector<alerting::Dispatcher::GroupView> Groups() const override { return service_.Groups(); }
  std::vector<alerting::Silence> Silences() const override { return service_.silences().List(); }
  core::Result<std::string> AddSilence(alerting::Silence silence) override {
    return service_.AddSilence(std::move(silence));
  }
  core::Status ExpireSilence(const std::string& id) override { return service_.ExpireSilence(id); }
  std::vector<std::string> ReceiverNames() const override { return service_.ReceiverNames(); }
  api::AlertmanagerStatusInfo StatusInfo() const override { return status_(); }
  void Receive(std::vector<alerting::Alert> alerts) override { service_.Send(alerts); }

 private:
  alerting::AlertingService& service_;
  std::function<api::AlertmanagerStatusInfo()> status_;
};

}  // namespace nines::app

#endif  // NINES_APP_ALERTING_BACKEND_H_
